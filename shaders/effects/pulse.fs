/*{
    "DESCRIPTION": "Kick-pulsed clip look for dark rooms: the kick pushes the picture and lifts its exposure, hits split the colours, rings ripple out with the bass, and 'heat' warms the palette for the drop.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "pulse", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Kick pulse"},
        {"NAME": "glow", "TYPE": "float", "DEFAULT": 0.15, "MIN": 0.0, "MAX": 1.0, "LABEL": "Glow"},
        {"NAME": "rings", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Rings"},
        {"NAME": "split", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "RGB split"},
        {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Heat"}
    ]
}*/

void main() {
    vec2 uv = isf_FragNormCoord;
    vec2 c = uv - 0.5;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    float r = length(vec2(c.x * aspect, c.y));

    // The kick pulls the picture towards the audience.
    vec2 zuv = 0.5 + c * (1.0 - 0.10 * pulse);
    // Hits pull the colour channels apart, radially.
    vec2 dir = c * split * 0.06;
    vec3 col;
    col.r = IMG_NORM_PIXEL(inputImage, zuv + dir).r;
    col.g = IMG_NORM_PIXEL(inputImage, zuv).g;
    col.b = IMG_NORM_PIXEL(inputImage, zuv - dir).b;

    // Rings travel outwards as fast as the bass is loud (hl_bass_time runs faster when it is).
    float wave = fract(r * 2.5 - hl_bass_time * 0.9);
    float ring = smoothstep(0.40, 0.49, abs(wave - 0.5)) * smoothstep(0.9, 0.1, r);
    col += rings * ring * mix(vec3(0.35, 0.55, 1.0), vec3(1.0, 0.45, 0.2), heat) * 0.6;

    // Exposure lift on the kick, and a steady glow.
    col *= 0.55 + glow + 1.1 * pulse;

    // Heat: the drop warms the palette and deepens the contrast.
    vec3 warm = pow(col, vec3(1.15)) * vec3(1.35, 0.85, 0.6);
    col = mix(col, warm, heat);

    // Vignette: projectors in dark rooms want a soft edge.
    col *= smoothstep(1.05, 0.35, r);
    gl_FragColor = vec4(col, 1.0);
}
