/*{
    "DESCRIPTION": "LED mosaic: the picture rebuilt from round LED dots, like a video wall seen up close. The dots grow coarse on each snare and fine again, the drop (energy) coarsens them, the kick swells each dot, and the gaps stay black for a dark room.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "dots", "TYPE": "float", "DEFAULT": 90.0, "MIN": 10.0, "MAX": 240.0, "LABEL": "Dots across"},
        {"NAME": "coarse", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Snare coarsens"},
        {"NAME": "drop", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Drop coarsens"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Kick swell"},
        {"NAME": "gain", "TYPE": "float", "DEFAULT": 1.3, "MIN": 0.5, "MAX": 3.0, "LABEL": "LED gain"}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    float snare = max(hl_highmid_hits, hl_mid_hits);
    float lift = clamp((hl_energy - 0.55) * 4.0, 0.0, 1.0) * drop;
    float n = max(4.0, floor(dots * (1.0 - 0.6 * coarse * snare) * (1.0 - 0.5 * lift)));
    vec2 grid = vec2(n, floor(n / aspect + 0.5));
    vec2 cell = (floor(uv * grid) + 0.5) / grid;
    vec2 f = fract(uv * grid) - 0.5;
    vec3 col = IMG_NORM_PIXEL(inputImage, cell).rgb;
    float radius = 0.36 + 0.12 * kick * hl_bass_hits;
    float dot_ = smoothstep(radius, radius - 0.08, length(f));
    gl_FragColor = vec4(col * dot_ * gain, 1.0);
}
