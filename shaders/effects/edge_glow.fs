/*{
    "DESCRIPTION": "Neon edges: outlines of the picture traced in light over a darkened copy of it. The upper mids brighten the lines, the kick flashes them, and the colour cycles slowly; good on AI clips with strong shapes.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "strength", "TYPE": "float", "DEFAULT": 1.5, "MIN": 0.0, "MAX": 4.0, "LABEL": "Edge strength"},
        {"NAME": "width", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.5, "MAX": 4.0, "LABEL": "Line width"},
        {"NAME": "background", "TYPE": "float", "DEFAULT": 0.25, "MIN": 0.0, "MAX": 1.0, "LABEL": "Picture behind"},
        {"NAME": "cycle", "TYPE": "float", "DEFAULT": 0.2, "MIN": 0.0, "MAX": 1.0, "LABEL": "Colour cycling"},
        {"NAME": "colour", "TYPE": "color", "DEFAULT": [0.1, 0.8, 1.0, 1.0], "LABEL": "Line colour"}
    ]
}*/

float luma(vec2 uv) {
    return dot(IMG_NORM_PIXEL(inputImage, uv).rgb, vec3(0.2126, 0.7152, 0.0722));
}

vec3 hueRotate(vec3 c, float angle) {
    const vec3 k = vec3(0.57735);
    float ca = cos(angle);
    return c * ca + cross(k, c) * sin(angle) + k * dot(k, c) * (1.0 - ca);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    vec2 d = width / RENDERSIZE;
    // Sobel on the luma.
    float tl = luma(uv + d * vec2(-1.0, 1.0));
    float t = luma(uv + d * vec2(0.0, 1.0));
    float tr = luma(uv + d * vec2(1.0, 1.0));
    float l = luma(uv + d * vec2(-1.0, 0.0));
    float r = luma(uv + d * vec2(1.0, 0.0));
    float bl = luma(uv + d * vec2(-1.0, -1.0));
    float b = luma(uv + d * vec2(0.0, -1.0));
    float br = luma(uv + d * vec2(1.0, -1.0));
    float gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
    float gy = (tl + 2.0 * t + tr) - (bl + 2.0 * b + br);
    float e = clamp(length(vec2(gx, gy)) * strength, 0.0, 1.0);

    vec3 line = hueRotate(colour.rgb, cycle * (TIME * 0.3 + hl_mid_time * 0.5));
    float lift = 0.6 + 0.8 * hl_highmid_level + 1.2 * hl_bass_hits;
    vec3 base = IMG_THIS_PIXEL(inputImage).rgb * background;
    gl_FragColor = vec4(base + line * e * lift, 1.0);
}
