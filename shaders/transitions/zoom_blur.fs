/*{
    "DESCRIPTION": "Zoom blur: the start clip rushes towards you in a radial blur and the end clip settles out of it, fastest at the midpoint, flashing on the kick; a punchy cut for a drop.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Transition"],
    "INPUTS": [
        {"NAME": "startImage", "TYPE": "image"},
        {"NAME": "endImage", "TYPE": "image"},
        {"NAME": "progress", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0},
        {"NAME": "strength", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Blur strength"},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "LABEL": "Centre"}
    ]
}*/

const int TAPS = 12;

vec3 zoomed(sampler2D img, vec2 uv, float amount) {
    // Average along the line towards the centre: a radial (zoom) blur.
    vec3 c = vec3(0.0);
    for (int i = 0; i < TAPS; i++) {
        float k = float(i) / float(TAPS - 1);
        vec2 q = center + (uv - center) * (1.0 - amount * k);
        c += IMG_NORM_PIXEL(img, q).rgb;
    }
    return c / float(TAPS);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float rush = sin(progress * 3.14159265);  // 0 at either end, 1 at the midpoint
    float amount = strength * 0.35 * rush;
    // The start image grows as it goes, the end image arrives from large to settled.
    vec2 uvA = center + (uv - center) / (1.0 + progress * strength);
    vec2 uvB = center + (uv - center) * (1.0 + (1.0 - progress) * strength * 0.5);
    vec3 a = zoomed(startImage, uvA, amount);
    vec3 b = zoomed(endImage, uvB, amount);
    float m = smoothstep(0.35, 0.65, progress);
    vec3 col = mix(a, b, m);
    col += vec3(1.0) * rush * rush * 0.25 * hl_bass_hits;
    gl_FragColor = vec4(col, 1.0);
}
