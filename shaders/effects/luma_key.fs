/*{
    "DESCRIPTION": "Luma key for AI clips: the clip's bright parts are laid over the picture beneath and its dark parts let it through, with a soft edge that can glow. The kick lowers the threshold so more of the clip bursts through; 'Threshold look' posterises the clip into two tones instead.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Keying"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image", "LABEL": "Picture beneath"},
        {"NAME": "keyImage", "TYPE": "image", "LABEL": "Clip to key (default: the clips)"},
        {"NAME": "threshold", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Threshold"},
        {"NAME": "softness", "TYPE": "float", "DEFAULT": 0.15, "MIN": 0.0, "MAX": 0.5, "LABEL": "Softness"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0, "LABEL": "Kick opens the key"},
        {"NAME": "invert", "TYPE": "bool", "DEFAULT": false, "LABEL": "Key out the bright parts"},
        {"NAME": "edge", "TYPE": "color", "DEFAULT": [1.0, 0.5, 0.1, 1.0], "LABEL": "Edge glow colour"},
        {"NAME": "edgeGlow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Edge glow"},
        {"NAME": "posterize", "TYPE": "bool", "DEFAULT": false, "LABEL": "Threshold look"},
        {"NAME": "toneLow", "TYPE": "color", "DEFAULT": [0.02, 0.0, 0.08, 1.0], "LABEL": "Threshold dark tone"},
        {"NAME": "toneHigh", "TYPE": "color", "DEFAULT": [1.0, 0.85, 0.6, 1.0], "LABEL": "Threshold light tone"}
    ]
}*/

void main() {
    vec3 base = IMG_THIS_PIXEL(inputImage).rgb;
    vec3 clip = IMG_THIS_PIXEL(keyImage).rgb;
    float luma = dot(clip, vec3(0.2126, 0.7152, 0.0722));
    if (invert)
        luma = 1.0 - luma;
    float t = clamp(threshold - kick * 0.4 * hl_bass_hits, 0.0, 1.0);
    float soft = max(softness, 0.002);
    float alpha = smoothstep(t - soft * 0.5, t + soft * 0.5, luma);
    if (posterize)
        clip = mix(toneLow.rgb, toneHigh.rgb, alpha);
    // The key's edge: where alpha is half way, glowing more as the music gets brighter.
    float rim = 1.0 - abs(alpha * 2.0 - 1.0);
    vec3 col = mix(base, clip, alpha) + edge.rgb * rim * edgeGlow * (0.4 + hl_highmid_level);
    gl_FragColor = vec4(col, 1.0);
}
