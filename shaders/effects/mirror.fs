/*{
    "DESCRIPTION": "Mirror: folds the picture into a symmetric image - left on right, top on bottom, or four ways - and on 'By the bar' it changes fold on every downbeat. The kick zooms the fold in a little, so the symmetry breathes with the drums.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "mode", "TYPE": "long", "DEFAULT": 0, "VALUES": [0, 1, 2, 3], "LABELS": ["By the bar", "Left-right", "Top-bottom", "Four ways"], "LABEL": "Fold"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick zoom"},
        {"NAME": "flip", "TYPE": "bool", "DEFAULT": false, "LABEL": "Mirror the other half"}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    int fold = mode;
    if (fold == 0) {
        fold = 1 + int(mod(hl_bar_count, 3.0));
    }
    vec2 c = uv - 0.5;
    c /= 1.0 + 0.12 * kick * hl_bass_hits;
    float s = flip ? -1.0 : 1.0;
    if (fold == 1 || fold == 3) {
        c.x = s * abs(c.x);
    }
    if (fold == 2 || fold == 3) {
        c.y = s * abs(c.y);
    }
    vec3 col = IMG_NORM_PIXEL(inputImage, clamp(c + 0.5, 0.0, 1.0)).rgb;
    gl_FragColor = vec4(col, 1.0);
}
