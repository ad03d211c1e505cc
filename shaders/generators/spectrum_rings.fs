/*{
    "DESCRIPTION": "Spectrum rings: one ring per frequency band, bass inside, highs outside; each ring's arc is as long as its band is loud, neighbours turn opposite ways, the waveform wobbles the rings and the kick makes them glow.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "count", "TYPE": "float", "DEFAULT": 20.0, "MIN": 4.0, "MAX": 64.0, "LABEL": "Rings"},
        {"NAME": "inner", "TYPE": "float", "DEFAULT": 0.08, "MIN": 0.0, "MAX": 0.5, "LABEL": "Inner radius"},
        {"NAME": "outer", "TYPE": "float", "DEFAULT": 0.48, "MIN": 0.1, "MAX": 1.0, "LABEL": "Outer radius"},
        {"NAME": "spin", "TYPE": "float", "DEFAULT": 0.5, "MIN": -2.0, "MAX": 2.0, "LABEL": "Spin"},
        {"NAME": "wobble", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Waveform wobble"},
        {"NAME": "gain", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 3.0, "LABEL": "Gain"},
        {"NAME": "low", "TYPE": "color", "DEFAULT": [1.0, 0.2, 0.35, 1.0], "LABEL": "Bass colour"},
        {"NAME": "high", "TYPE": "color", "DEFAULT": [0.2, 0.9, 1.0, 1.0], "LABEL": "Treble colour"}
    ]
}*/

const float TAU = 6.28318530718;

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - 0.5) * vec2(aspect, 1.0);
    float a = atan(p.y, p.x) / TAU + 0.5;  // 0..1 around the circle
    float wave = IMG_NORM_PIXEL(hl_waveform, vec2(a, 0.5)).r;
    float r = length(p) + wave * wobble * 0.012 * (0.3 + hl_rms * 4.0);

    float f = (r - inner) / max(outer - inner, 1e-3);  // 0 at the bass ring, 1 at the treble ring
    float idx = floor(f * count);
    float fi = (idx + 0.5) / count;
    float level = clamp(IMG_NORM_PIXEL(hl_spectrum, vec2(fi, 0.5)).r * gain, 0.0, 1.0);

    // Neighbouring rings turn opposite ways, faster as the mids get busy.
    float dir = mod(idx, 2.0) < 1.0 ? 1.0 : -1.0;
    float turn = fract(a + dir * (0.05 * TIME + 0.15 * hl_mid_time) * spin + idx * 0.137);
    float arc = abs(turn - 0.5) * 2.0;  // 0 at the arc's middle
    float onArc = smoothstep(level, level - 0.03, arc);

    float across = abs(fract(f * count) - 0.5) * 2.0;  // 0 at the ring's middle line
    float thick = 0.55 + 0.3 * hl_bass_hits;
    float body = smoothstep(thick, thick * 0.4, across);
    float inside = step(0.0, f) * step(f, 1.0);

    vec3 colour = mix(low.rgb, high.rgb, fi);
    vec3 col = colour * body * onArc * inside * (0.5 + 1.5 * level);
    // A faint guide of every ring, and a glow that breathes with the kick.
    col += colour * body * inside * 0.05;
    float glow = exp(-abs(r - inner) * 18.0) * (0.15 + 0.8 * hl_bass_hits);
    col += low.rgb * glow;
    gl_FragColor = vec4(col, 1.0);
}
