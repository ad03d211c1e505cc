/*{
    "DESCRIPTION": "Aurora: slow curtains of light for breakdowns and intros. The mids make them flow and brighten, the highs shimmer along their edges, the kick lifts them, and the colours drift with the music's brightness (spectral centroid).",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "flow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Flow"},
        {"NAME": "curtains", "TYPE": "float", "DEFAULT": 3.0, "MIN": 1.0, "MAX": 8.0, "LABEL": "Curtains"},
        {"NAME": "brightness", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Brightness"},
        {"NAME": "shimmer", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Shimmer"},
        {"NAME": "colourA", "TYPE": "color", "DEFAULT": [0.1, 1.0, 0.55, 1.0], "LABEL": "Colour A"},
        {"NAME": "colourB", "TYPE": "color", "DEFAULT": [0.55, 0.2, 1.0, 1.0], "LABEL": "Colour B"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(41.3, 289.1))) * 17431.7);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), f.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + 1.0), f.x), f.y);
}

float fbm(vec2 p) {
    float v = 0.0;
    float amp = 0.5;
    for (int i = 0; i < 4; i++) {
        v += amp * noise(p);
        p = p * 2.03 + vec2(1.7, 9.2);
        amp *= 0.5;
    }
    return v;
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    float t = TIME * 0.05 * flow + hl_mid_time * 0.15 * flow;
    vec2 p = vec2(uv.x * aspect, uv.y);

    // Curtains: bright folds where a slowly warped sine crosses its crest.
    float warp = fbm(vec2(p.x * 1.5 + t, t * 0.7)) * 2.0;
    float fold = sin((p.x + warp) * curtains * 3.14159 + t * 2.0);
    float band = pow(0.5 + 0.5 * fold, 6.0);
    // Light hangs down from a wavy top edge and fades towards the floor.
    float top = 0.75 + 0.15 * fbm(vec2(p.x * 2.0 - t, 3.0));
    float hang = smoothstep(top + 0.05, top - 0.1, uv.y) * smoothstep(0.05, top, uv.y);
    float rays = fbm(vec2(p.x * 12.0 + warp * 3.0, uv.y * 1.5 - t * 4.0));
    float light = band * hang * (0.4 + 0.9 * rays);

    // Shimmer: the highs make fine vertical threads flicker.
    float threads = noise(vec2(p.x * 90.0, TIME * 6.0));
    light += band * hang * threads * shimmer * hl_high_level * 0.8;

    float lift = 0.45 + 0.8 * hl_mid_level + 0.6 * hl_bass_hits;
    float tone = clamp(hl_centroid / 5000.0, 0.0, 1.0);
    vec3 colour = mix(colourA.rgb, colourB.rgb, clamp(uv.y * 1.2 - 0.2 + 0.4 * (tone - 0.5), 0.0, 1.0));
    vec3 col = colour * light * lift * brightness;
    // A faint starfield behind, so silence is never a flat black.
    float star = step(0.997, hash(floor(uv * RENDERSIZE / 2.0)));
    col += vec3(star) * 0.25 * (1.0 - hang);
    gl_FragColor = vec4(col, 1.0);
}
