/*{
    "DESCRIPTION": "Kaleidoscope: folds the picture into mirrored wedges that turn with the mids; the kick pushes the pattern outwards and the highs add wedges for a moment.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Geometry Adjustment"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "segments", "TYPE": "float", "DEFAULT": 6.0, "MIN": 1.0, "MAX": 24.0, "LABEL": "Segments"},
        {"NAME": "spin", "TYPE": "float", "DEFAULT": 0.3, "MIN": -2.0, "MAX": 2.0, "LABEL": "Spin"},
        {"NAME": "zoom", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.25, "MAX": 4.0, "LABEL": "Zoom"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Kick push"},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "LABEL": "Centre"}
    ]
}*/

const float TAU = 6.28318530718;

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - center) * vec2(aspect, 1.0);
    float r = length(p);
    float a = atan(p.y, p.x) + spin * (0.1 * TIME + 0.4 * hl_mid_time);

    float n = floor(segments + 2.0 * step(0.6, hl_high_hits) + 0.5);
    float wedge = TAU / max(n, 1.0);
    a = mod(a, wedge);
    a = abs(a - 0.5 * wedge);  // mirror every other half-wedge: seamless folds

    r = r / zoom * (1.0 - 0.15 * kick * hl_bass_hits);
    vec2 q = vec2(cos(a), sin(a)) * r;
    q = q / vec2(aspect, 1.0) + 0.5;
    q = abs(mod(q + 1.0, 2.0) - 1.0);  // mirror at the image edges instead of smearing them
    vec3 col = IMG_NORM_PIXEL(inputImage, q).rgb;
    col *= smoothstep(1.2, 0.3, length(p));
    gl_FragColor = vec4(col, 1.0);
}
