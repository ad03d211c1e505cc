/*{
    "DESCRIPTION": "Duotone film: the picture's light mapped onto two colours, shadows to highlights, with soft grain and a dark vignette, like a music video shot on film. The voice (mids) opens the exposure, the kick brightens a touch, and the highlights warm as the music brightens.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Color Adjustment"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "shadow", "TYPE": "color", "DEFAULT": [0.08, 0.03, 0.2, 1.0], "LABEL": "Shadows"},
        {"NAME": "highlight", "TYPE": "color", "DEFAULT": [1.0, 0.7, 0.4, 1.0], "LABEL": "Highlights"},
        {"NAME": "contrast", "TYPE": "float", "DEFAULT": 1.3, "MIN": 0.5, "MAX": 3.0, "LABEL": "Contrast"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0, "LABEL": "Grain"},
        {"NAME": "vignette", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Vignette"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.5, "LABEL": "Kick exposure"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec3 src = IMG_NORM_PIXEL(inputImage, uv).rgb;
    float luma = dot(src, vec3(0.2126, 0.7152, 0.0722));
    float exposure = 0.8 + 0.5 * hl_mid_level + kick * 0.35 * hl_bass_hits;
    luma = clamp(pow(luma * exposure, contrast), 0.0, 1.0);
    // Brighter music (higher spectral centroid) pushes the highlights warmer.
    float warmth = clamp(hl_centroid / 5000.0, 0.0, 1.0);
    vec3 hi = mix(highlight.rgb, highlight.rgb * vec3(1.1, 0.85, 0.7), warmth);
    vec3 col = mix(shadow.rgb, hi, luma) * smoothstep(0.0, 0.08, luma + 0.02);
    float g = hash(floor(uv * RENDERSIZE / 1.5) + fract(TIME * 7.0) * 100.0) - 0.5;
    col += g * grain * 0.08 * (0.3 + luma);
    float r = length((uv - 0.5) * vec2(aspect, 1.0));
    col *= mix(1.0, smoothstep(1.0, 0.3, r), vignette);
    gl_FragColor = vec4(max(col, 0.0), 1.0);
}
