/*{
    "DESCRIPTION": "Laser fan: thin beams fanned out from the floor through haze, as a techno rig throws them. The fan sweeps once a bar, every kick fires the beams bright, the hats flick single beams on and off, and the drop turns them from the cool colour to the hot one.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "beams", "TYPE": "float", "DEFAULT": 9.0, "MIN": 2.0, "MAX": 16.0, "LABEL": "Beams"},
        {"NAME": "spread", "TYPE": "float", "DEFAULT": 1.5, "MIN": 0.2, "MAX": 3.0, "LABEL": "Fan width (rad)"},
        {"NAME": "sweep", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Sweep per bar"},
        {"NAME": "width", "TYPE": "float", "DEFAULT": 0.006, "MIN": 0.001, "MAX": 0.04, "LABEL": "Beam width"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick fires"},
        {"NAME": "hats", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Hats flick"},
        {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Heat (drop)"},
        {"NAME": "cool", "TYPE": "color", "DEFAULT": [0.15, 1.0, 0.45, 1.0], "LABEL": "Cool colour"},
        {"NAME": "hot", "TYPE": "color", "DEFAULT": [1.0, 0.12, 0.35, 1.0], "LABEL": "Hot colour"},
        {"NAME": "origin", "TYPE": "point2D", "DEFAULT": [0.5, -0.05], "MIN": [0.0, -0.5], "MAX": [1.0, 1.5], "LABEL": "Origin"}
    ]
}*/

float hash1(float n) {
    return fract(sin(n * 78.233) * 43758.5453);
}

// One beam's light at angle `a`, distance `r` from the origin: a thin line, flicked by the hats.
float beam(float fi, float ai, float a, float r, float seed) {
    float d = abs(sin(a - ai)) * r;  // distance from the beam's centre line
    float core = exp(-d * d / (width * width));
    // Hats: a few beams blink off or double up on each hit, a new choice on every onset.
    float pick = step(0.5, hash1(fi + seed * 7.0));
    float flick = 1.0 + hats * hl_high_hits * (2.0 * pick - 1.2);
    return core * max(flick, 0.0);
}

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - origin) * vec2(aspect, 1.0);
    float r = length(p);
    float a = atan(p.x, abs(p.y) + 1e-4);  // 0 straight up (or down) from the origin

    // The fan swings once a bar (a sine on the bar phase) and drifts with the mids; the outer beams
    // swing furthest. Beam i points at first + i * gap, so only the nearest beams need drawing.
    float swing = sweep * 0.6 * sin(6.28318 * hl_bar_phase) + 0.15 * sin(hl_mid_time * 0.3);
    float n = floor(beams + 0.5);
    float first = -0.5 * spread - swing;
    float gap = spread / max(n - 1.0, 1.0) + 2.0 * swing / n;
    gap = abs(gap) < 1e-3 ? 1e-3 : gap;
    float nearest = floor((a - first) / gap + 0.5);
    float seed = floor(hl_onset_count);
    float light = 0.0;
    for (int k = -1; k <= 1; k++) {
        float fi = nearest + float(k);
        if (fi >= 0.0 && fi < n) {
            light += beam(fi, first + fi * gap, a, r, seed);
        }
    }
    // Haze: beams fade as they travel, and a soft glow sits at the source.
    float fire = 0.22 + kick * hl_bass_hits;
    light *= fire * exp(-r * 0.9);
    float source = exp(-r * 18.0) * (0.3 + hl_bass_hits);
    vec3 colour = mix(cool.rgb, hot.rgb, clamp(heat, 0.0, 1.0));
    vec3 col = colour * light + mix(colour, vec3(1.0), 0.5) * source;
    gl_FragColor = vec4(col, 1.0);
}
