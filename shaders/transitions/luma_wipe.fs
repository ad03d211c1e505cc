/*{
    "DESCRIPTION": "Luma wipe: the end clip grows out of the start clip's brightest parts first (or darkest, or from the centre, or left to right), along a soft edge that flares on the kick. Drive progress from the beat for a wipe that lands on the bar.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Transition"],
    "INPUTS": [
        {"NAME": "startImage", "TYPE": "image"},
        {"NAME": "endImage", "TYPE": "image"},
        {"NAME": "progress", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0},
        {"NAME": "pattern", "TYPE": "long", "DEFAULT": 0, "VALUES": [0, 1, 2, 3], "LABELS": ["Bright first", "Dark first", "From the centre", "Left to right"], "LABEL": "Order"},
        {"NAME": "softness", "TYPE": "float", "DEFAULT": 0.15, "MIN": 0.01, "MAX": 0.5, "LABEL": "Softness"},
        {"NAME": "flare", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 2.0, "LABEL": "Edge flare"},
        {"NAME": "flareColour", "TYPE": "color", "DEFAULT": [1.0, 0.6, 0.25, 1.0], "LABEL": "Flare colour"}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    vec3 a = IMG_NORM_PIXEL(startImage, uv).rgb;
    vec3 b = IMG_NORM_PIXEL(endImage, uv).rgb;
    float key;
    if (pattern == 0)
        key = 1.0 - dot(a, vec3(0.2126, 0.7152, 0.0722));
    else if (pattern == 1)
        key = dot(a, vec3(0.2126, 0.7152, 0.0722));
    else if (pattern == 2)
        key = length((uv - 0.5) * vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0)) / 0.9;
    else
        key = uv.x;
    // Scale so progress 0 shows only the start and 1 only the end, whatever the softness.
    float edge = progress * (1.0 + softness) - softness;
    float m = smoothstep(edge, edge + softness, key);
    float rim = (1.0 - abs(m * 2.0 - 1.0)) * step(0.001, progress) * step(progress, 0.999);
    vec3 col = mix(b, a, m) + flareColour.rgb * rim * flare * (0.5 + hl_bass_hits);
    gl_FragColor = vec4(col, 1.0);
}
