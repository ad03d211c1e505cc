/*{
    "DESCRIPTION": "Bloom: bright parts of the picture glow into the dark around them, the way a projector beam blooms in haze; the glow swells on the kick. Four passes, the blur at quarter size so it stays cheap.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "threshold", "TYPE": "float", "DEFAULT": 0.55, "MIN": 0.0, "MAX": 1.0, "LABEL": "Threshold"},
        {"NAME": "intensity", "TYPE": "float", "DEFAULT": 0.9, "MIN": 0.0, "MAX": 3.0, "LABEL": "Intensity"},
        {"NAME": "radius", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.2, "MAX": 3.0, "LABEL": "Radius"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick swell"},
        {"NAME": "tint", "TYPE": "color", "DEFAULT": [1.0, 0.92, 0.85, 1.0], "LABEL": "Glow tint"}
    ],
    "PASSES": [
        {"TARGET": "bright", "WIDTH": "floor($WIDTH / 4)", "HEIGHT": "floor($HEIGHT / 4)"},
        {"TARGET": "blurX", "WIDTH": "floor($WIDTH / 4)", "HEIGHT": "floor($HEIGHT / 4)"},
        {"TARGET": "blurY", "WIDTH": "floor($WIDTH / 4)", "HEIGHT": "floor($HEIGHT / 4)"},
        {}
    ]
}*/

// 9-tap Gaussian as 5 bilinear fetches (offsets between texels weigh two texels at once).
vec3 blur(sampler2D img, vec2 uv, vec2 stepDir) {
    vec3 c = IMG_NORM_PIXEL(img, uv).rgb * 0.2270;
    c += IMG_NORM_PIXEL(img, uv + stepDir * 1.3846).rgb * 0.3162;
    c += IMG_NORM_PIXEL(img, uv - stepDir * 1.3846).rgb * 0.3162;
    c += IMG_NORM_PIXEL(img, uv + stepDir * 3.2308).rgb * 0.0703;
    c += IMG_NORM_PIXEL(img, uv - stepDir * 3.2308).rgb * 0.0703;
    return c;
}

void main() {
    vec2 uv = isf_FragNormCoord;
    if (PASSINDEX == 0) {
        // Keep what is brighter than the threshold (soft knee), averaging a 4x4 block.
        vec2 texel = 1.0 / IMG_SIZE(inputImage);
        vec3 c = vec3(0.0);
        c += IMG_NORM_PIXEL(inputImage, uv + texel * vec2(-1.0, -1.0)).rgb;
        c += IMG_NORM_PIXEL(inputImage, uv + texel * vec2(1.0, -1.0)).rgb;
        c += IMG_NORM_PIXEL(inputImage, uv + texel * vec2(-1.0, 1.0)).rgb;
        c += IMG_NORM_PIXEL(inputImage, uv + texel * vec2(1.0, 1.0)).rgb;
        c *= 0.25;
        float luma = dot(c, vec3(0.2126, 0.7152, 0.0722));
        float knee = smoothstep(threshold - 0.1, threshold + 0.2, luma);
        gl_FragColor = vec4(c * knee, 1.0);
    } else if (PASSINDEX == 1) {
        gl_FragColor = vec4(blur(bright, uv, vec2(radius / RENDERSIZE.x, 0.0)), 1.0);
    } else if (PASSINDEX == 2) {
        gl_FragColor = vec4(blur(blurX, uv, vec2(0.0, radius / RENDERSIZE.y)), 1.0);
    } else {
        vec3 base = IMG_THIS_PIXEL(inputImage).rgb;
        vec3 glow = IMG_NORM_PIXEL(blurY, uv).rgb * tint.rgb;
        float gain = intensity * (1.0 + kick * hl_bass_hits);
        gl_FragColor = vec4(base + glow * gain, 1.0);
    }
}
