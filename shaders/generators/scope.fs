/*{
    "DESCRIPTION": "Circular oscilloscope: the live waveform drawn as a glowing loop that breathes with the kick; its colour follows the music's brightness and a second, echo ring trails behind on the mids.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "radius", "TYPE": "float", "DEFAULT": 0.28, "MIN": 0.05, "MAX": 0.6, "LABEL": "Radius"},
        {"NAME": "amplitude", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Amplitude"},
        {"NAME": "thickness", "TYPE": "float", "DEFAULT": 0.004, "MIN": 0.001, "MAX": 0.03, "LABEL": "Line width"},
        {"NAME": "echo", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Echo ring"},
        {"NAME": "colour", "TYPE": "color", "DEFAULT": [0.3, 1.0, 0.7, 1.0], "LABEL": "Colour"}
    ]
}*/

const float TAU = 6.28318530718;

float sampleWave(float a) {
    // Mirror the waveform around the circle so the loop closes without a seam.
    float x = abs(fract(a) * 2.0 - 1.0);
    return IMG_NORM_PIXEL(hl_waveform, vec2(x, 0.5)).r;
}

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - 0.5) * vec2(aspect, 1.0);
    float a = atan(p.y, p.x) / TAU + 0.5 + 0.03 * hl_mid_time;
    float r = length(p);

    float base = radius * (1.0 + 0.25 * hl_bass_hits);
    float trace = base + sampleWave(a) * amplitude * 0.25;
    float d = abs(r - trace);
    float line = smoothstep(thickness * 2.5, 0.0, d) + 0.35 * exp(-d / (thickness * 6.0));

    float echoR = base * (1.35 + 0.2 * hl_mid_level) + sampleWave(a + 0.25) * amplitude * 0.15;
    float e = abs(r - echoR);
    float echoLine = exp(-e / (thickness * 8.0)) * echo * (0.2 + hl_mid_level);

    float tone = clamp(hl_centroid / 6000.0, 0.0, 1.0);
    vec3 tint = mix(colour.rgb, colour.gbr, tone);
    vec3 col = tint * line * (0.7 + 1.2 * hl_rms * 4.0) + tint.bgr * echoLine;
    col += tint * exp(-r * 6.0) * 0.25 * hl_bass_hits;  // the core glows on the kick
    gl_FragColor = vec4(col, 1.0);
}
