/*{
    "DESCRIPTION": "Wobble: thick neon ribbons that warp like a dubstep bass: their waviness follows a beat-locked LFO (half or quarter notes) and their height the bass level, the kick fattens them, the snare tears the picture into offset slices and the live waveform roughens their edges.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "ribbons", "TYPE": "float", "DEFAULT": 3.0, "MIN": 1.0, "MAX": 6.0, "LABEL": "Ribbons"},
        {"NAME": "wobble", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Wobble"},
        {"NAME": "rate", "TYPE": "long", "DEFAULT": 1, "VALUES": [0, 1, 2], "LABELS": ["Half notes", "Quarter notes", "Eighth notes"], "LABEL": "LFO rate"},
        {"NAME": "thickness", "TYPE": "float", "DEFAULT": 0.025, "MIN": 0.005, "MAX": 0.1, "LABEL": "Thickness"},
        {"NAME": "tear", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Snare tear"},
        {"NAME": "colourA", "TYPE": "color", "DEFAULT": [0.55, 0.1, 1.0, 1.0], "LABEL": "Colour A"},
        {"NAME": "colourB", "TYPE": "color", "DEFAULT": [0.3, 1.0, 0.2, 1.0], "LABEL": "Colour B"}
    ]
}*/

float hash1(float n) {
    return fract(sin(n * 91.345) * 47453.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    // Snare: horizontal slices jump sideways, a new pattern on every onset.
    float snare = max(hl_highmid_hits, hl_mid_hits);
    float slice = floor(uv.y * 12.0);
    float jump = (hash1(slice + floor(hl_onset_count) * 13.0) - 0.5) * step(0.55, hash1(slice * 3.1 + floor(hl_onset_count)));
    uv.x += jump * snare * tear * 0.2;

    float lfo = rate == 0 ? hl_beat_tri_half : (rate == 1 ? hl_beat_tri : hl_beat_tri_double);
    float freq = 2.0 + 14.0 * wobble * lfo;
    float amp = 0.04 + 0.22 * hl_bass_level;
    float fat = thickness * (1.0 + 1.5 * hl_bass_hits);
    float wave = IMG_NORM_PIXEL(hl_waveform, vec2(uv.x, 0.5)).r;
    float n = floor(ribbons + 0.5);
    vec3 col = vec3(0.0);
    for (int i = 0; i < 6; i++) {
        float fi = float(i);
        if (fi >= n) {
            break;
        }
        float centre = (fi + 0.5) / n;
        float phase = fi * 1.7 + hl_bass_time * 1.5;
        float y = centre + amp / n * 2.5 * sin(uv.x * freq * 3.14159 + phase) + wave * 0.03;
        float d = abs(uv.y - y);
        float core = smoothstep(fat, fat * 0.4, d);
        float halo = exp(-d / (fat * 2.5)) * 0.35;
        vec3 c = mix(colourA.rgb, colourB.rgb, n > 1.0 ? fi / (n - 1.0) : 0.0);
        col += c * (core + halo);
    }
    col *= 0.6 + 0.5 * hl_full_level;
    gl_FragColor = vec4(col, 1.0);
}
