/*{
    "DESCRIPTION": "Camera shake: every kick punches the picture towards you and knocks it a little off centre in a new direction, with a short motion smear along the knock; the snare adds a small twist. Settles between hits, so quiet passages hold still.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Distortion"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "punch", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick punch"},
        {"NAME": "knock", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Knock"},
        {"NAME": "twist", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 2.0, "LABEL": "Snare twist"},
        {"NAME": "smear", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Motion smear"}
    ]
}*/

float hash1(float n) {
    return fract(sin(n * 12.9898) * 43758.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    float kick = hl_bass_hits;
    float snare = max(hl_highmid_hits, hl_mid_hits);
    float seed = floor(hl_beat_count) + floor(hl_onset_count) * 0.37;
    vec2 dir = normalize(vec2(hash1(seed) - 0.5, hash1(seed + 4.1) - 0.5) + 1e-3);
    vec2 offset = dir * kick * knock * 0.025;
    float angle = (hash1(seed + 9.3) - 0.5) * snare * twist * 0.12;
    float zoom = 1.0 + kick * punch * 0.08;
    vec2 c = (uv - 0.5) * vec2(aspect, 1.0);
    c = mat2(cos(angle), -sin(angle), sin(angle), cos(angle)) * c / zoom;
    vec2 base = c / vec2(aspect, 1.0) + 0.5 + offset;
    vec3 col = vec3(0.0);
    // Three taps along the knock: a short smear while the picture moves, one sharp copy at rest.
    for (int i = 0; i < 3; i++) {
        float fi = float(i);
        col += IMG_NORM_PIXEL(inputImage, clamp(base - offset * smear * fi * 0.5, 0.0, 1.0)).rgb;
    }
    gl_FragColor = vec4(col / 3.0, 1.0);
}
