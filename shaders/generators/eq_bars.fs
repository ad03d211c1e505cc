/*{
    "DESCRIPTION": "LED equaliser: the spectrum as chunky bars of lit blocks, bass in the middle and highs at the sides, over a dim reflection on the ground. The kick bounces the whole stack, the snare whitens the top blocks, and each bar's colour climbs from the base colour to the peak colour.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "bars", "TYPE": "float", "DEFAULT": 24.0, "MIN": 6.0, "MAX": 64.0, "LABEL": "Bars"},
        {"NAME": "blocks", "TYPE": "float", "DEFAULT": 14.0, "MIN": 4.0, "MAX": 40.0, "LABEL": "Blocks per bar"},
        {"NAME": "gain", "TYPE": "float", "DEFAULT": 1.2, "MIN": 0.2, "MAX": 3.0, "LABEL": "Gain"},
        {"NAME": "bounce", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.5, "LABEL": "Kick bounce"},
        {"NAME": "ground", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.1, "MAX": 0.6, "LABEL": "Floor height"},
        {"NAME": "base", "TYPE": "color", "DEFAULT": [0.1, 0.9, 0.6, 1.0], "LABEL": "Base colour"},
        {"NAME": "peak", "TYPE": "color", "DEFAULT": [1.0, 0.3, 0.1, 1.0], "LABEL": "Peak colour"}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    // Mirror around the centre: bass in the middle, highs at both sides.
    float x = abs(uv.x - 0.5) * 2.0;
    float n = floor(bars + 0.5);
    float bar = floor(x * n);
    float inBar = fract(x * n);
    // Each bar reads a stretch of the log spectrum (the top end is thin, so it gets a little boost).
    float f = (bar + 0.5) / n;
    float level = IMG_NORM_PIXEL(hl_spectrum, vec2(f * 0.85, 0.5)).r * gain * (1.0 + 0.6 * f);
    level *= 1.0 + bounce * hl_bass_hits * (1.0 - f);
    float height = clamp(level, 0.0, 1.0) * (1.0 - ground - 0.05);

    bool mirrored = uv.y < ground;
    float y = mirrored ? (ground - uv.y) : (uv.y - ground);
    float k = floor(blocks + 0.5);
    float blockIndex = floor(y / (1.0 - ground) * k);
    float inBlock = fract(y / (1.0 - ground) * k);
    float lit = step(y, height) * step(0.12, inBar) * step(inBar, 0.88) * step(0.18, inBlock);
    float rise = blockIndex / k;
    vec3 colour = mix(base.rgb, peak.rgb, smoothstep(0.1, 0.8, rise));
    // Snare: the topmost lit blocks flash white.
    float top = step(height - (1.0 - ground) / k * 1.5, y);
    colour = mix(colour, vec3(1.0), top * max(hl_mid_hits, hl_highmid_hits) * 0.7);
    vec3 col = colour * lit * (0.75 + 0.4 * hl_bass_hits);
    if (mirrored) {
        col *= 0.22 * smoothstep(0.0, ground, uv.y);  // a dim reflection on a dark stage ground
    }
    gl_FragColor = vec4(col, 1.0);
}
