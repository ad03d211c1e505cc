/*{
    "DESCRIPTION": "Noise dissolve: the start clip burns away in cloudy patches revealing the end clip, with a glowing ember line at the edge that the hats make crackle.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Transition"],
    "INPUTS": [
        {"NAME": "startImage", "TYPE": "image"},
        {"NAME": "endImage", "TYPE": "image"},
        {"NAME": "progress", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0},
        {"NAME": "scale", "TYPE": "float", "DEFAULT": 4.0, "MIN": 0.5, "MAX": 20.0, "LABEL": "Noise scale"},
        {"NAME": "edgeWidth", "TYPE": "float", "DEFAULT": 0.06, "MIN": 0.0, "MAX": 0.3, "LABEL": "Ember width"},
        {"NAME": "ember", "TYPE": "color", "DEFAULT": [1.0, 0.45, 0.1, 1.0], "LABEL": "Ember colour"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(269.5, 183.3))) * 43758.5453);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), f.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + 1.0), f.x), f.y);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    vec2 p = uv * vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0) * scale;
    float n = 0.5 * noise(p) + 0.3 * noise(p * 2.1 + 7.0) + 0.2 * noise(p * 4.3 + 3.0);
    n = clamp((n - 0.15) / 0.7, 0.0, 1.0);  // use the whole 0..1 range

    float w = max(edgeWidth, 1e-3);
    float edge = progress * (1.0 + w) - w;  // progress 0: all start, 1: all end
    float m = smoothstep(edge, edge + w * 0.3, n);
    float line = smoothstep(edge - w, edge, n) * (1.0 - smoothstep(edge, edge + w, n));
    line *= step(0.001, progress) * step(progress, 0.999);
    float crackle = 0.7 + 0.6 * hl_high_hits * hash(floor(p * 8.0) + floor(hl_onset_count));

    vec3 a = IMG_NORM_PIXEL(startImage, uv).rgb;
    vec3 b = IMG_NORM_PIXEL(endImage, uv).rgb;
    vec3 col = mix(b, a, m) + ember.rgb * line * 1.5 * crackle;
    gl_FragColor = vec4(col, 1.0);
}
