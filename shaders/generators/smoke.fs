/*{
    "DESCRIPTION": "Smoke: slow, folded clouds of coloured haze for ambient sets and breakdowns. The mids move it, the overall level lights it from within, the kick (when there is one) swells it gently, and the colour moves from deep blue to amber as the music brightens.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "flow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Flow"},
        {"NAME": "scale", "TYPE": "float", "DEFAULT": 2.0, "MIN": 0.5, "MAX": 6.0, "LABEL": "Scale"},
        {"NAME": "brightness", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Brightness"},
        {"NAME": "swell", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.5, "LABEL": "Kick swell"},
        {"NAME": "deep", "TYPE": "color", "DEFAULT": [0.05, 0.25, 0.9, 1.0], "LABEL": "Deep colour"},
        {"NAME": "bright", "TYPE": "color", "DEFAULT": [1.0, 0.55, 0.2, 1.0], "LABEL": "Bright colour"}
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
    for (int i = 0; i < 3; i++) {
        v += amp * noise(p);
        p = mat2(1.6, 1.2, -1.2, 1.6) * p + vec2(3.1, 1.7);
        amp *= 0.5;
    }
    return v / 0.875;
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 c = (uv - 0.5) * vec2(aspect, 1.0);
    float t = (TIME * 0.03 + hl_mid_time * 0.08) * flow;
    // The kick breathes the cloud outwards a little.
    vec2 p = c * scale / (1.0 + 0.12 * swell * hl_bass_hits);
    // Domain warping: the noise is looked up where another noise points, which folds it like smoke.
    vec2 w = vec2(fbm(p + vec2(t, 0.0)), fbm(p + vec2(5.2, 1.3 - t)));
    float n = fbm(p + 2.5 * w + vec2(-t * 0.5, t * 0.3));
    float density = pow(clamp(n * 1.25 - 0.15, 0.0, 1.0), 1.8);
    float tone = clamp(hl_centroid / 4000.0 + 0.3 * (w.x - 0.5), 0.0, 1.0);
    vec3 colour = mix(deep.rgb, bright.rgb, tone);
    float lit = 0.25 + 0.9 * hl_full_level + swell * 0.4 * hl_bass_hits;
    vec3 col = colour * density * lit * brightness;
    col *= smoothstep(1.2, 0.2, length(c));  // a soft vignette keeps the edges of the room dark
    gl_FragColor = vec4(col, 1.0);
}
