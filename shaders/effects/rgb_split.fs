/*{
    "DESCRIPTION": "Glitch on hits: every hi-hat or snare tears the picture into sliding bands and pulls red and blue apart; a fresh tear pattern on every onset, calm in between.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Glitch"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "amount", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Amount"},
        {"NAME": "split", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "RGB split"},
        {"NAME": "tear", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Band tear"},
        {"NAME": "bands", "TYPE": "float", "DEFAULT": 24.0, "MIN": 2.0, "MAX": 80.0, "LABEL": "Bands"},
        {"NAME": "always", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Glitch without hits"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float hit = clamp(max(hl_high_hits, hl_highmid_hits) * amount + always, 0.0, 1.0);
    float seed = floor(hl_onset_count) + floor(TIME * 8.0 * always);

    // Torn bands: some rows slide sideways, a new pattern on every onset.
    float row = floor(uv.y * bands);
    float r1 = hash(vec2(row, seed));
    float torn = step(1.0 - 0.6 * hit, r1);
    float shift = (hash(vec2(seed, row)) - 0.5) * 0.25 * tear * hit * torn;
    vec2 q = vec2(uv.x + shift, uv.y);

    // Channels pulled apart along a direction that changes per onset.
    float ang = hash(vec2(seed, 7.0)) * 6.2831;
    vec2 dir = vec2(cos(ang), sin(ang)) * 0.03 * split * hit;
    float r = IMG_NORM_PIXEL(inputImage, fract(q + dir)).r;
    float g = IMG_NORM_PIXEL(inputImage, fract(q)).g;
    float b = IMG_NORM_PIXEL(inputImage, fract(q - dir)).b;
    vec3 col = vec3(r, g, b);

    // Torn rows flicker and scanlines show through while it glitches.
    col *= 1.0 + 0.6 * torn * hit * (hash(vec2(row, seed + 3.0)) - 0.3);
    col *= 1.0 - 0.25 * hit * step(0.5, fract(gl_FragCoord.y * 0.5));
    gl_FragColor = vec4(col, 1.0);
}
