/*{
    "DESCRIPTION": "Warp starfield: stars stream out of the centre as fast as the bass is loud and stretch into streaks when it is heavy, the kick punches them brighter, every snare sends a shockwave ring outwards and the hats make the field twinkle. Built for drum & bass tempos.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "speed", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 4.0, "LABEL": "Speed"},
        {"NAME": "density", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.05, "MAX": 0.9, "LABEL": "Density"},
        {"NAME": "streak", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 3.0, "LABEL": "Streaks"},
        {"NAME": "punch", "TYPE": "float", "DEFAULT": 0.9, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick brightens"},
        {"NAME": "shock", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Snare shockwave"},
        {"NAME": "colour", "TYPE": "color", "DEFAULT": [0.6, 0.8, 1.0, 1.0], "LABEL": "Star colour"},
        {"NAME": "shockColour", "TYPE": "color", "DEFAULT": [0.2, 1.0, 0.9, 1.0], "LABEL": "Shockwave colour"},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "LABEL": "Centre"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - center) * vec2(aspect, 1.0);
    float r = length(p) + 1e-4;
    float ang = atan(p.y, p.x) / 6.28318 + 0.5;  // 0..1 around the centre
    float lr = log(r);
    float travel = (hl_bass_time * 1.2 + TIME * 0.15) * speed;
    float stretch = 1.0 + streak * 5.0 * hl_bass_level;
    float light = 0.0;
    // Three layers of cells in (angle, log radius): equal steps in log radius look like equal depth.
    for (int i = 0; i < 3; i++) {
        float fi = float(i);
        float around = 90.0 + 60.0 * fi;
        vec2 q = vec2(ang * around, lr * 6.0 - travel * (1.0 + 0.35 * fi) + fi * 3.7);
        vec2 id = floor(q);
        id.x = mod(id.x, around);  // the seam at angle 0 joins up
        vec2 f = fract(q) - 0.5;
        float h = hash(id + fi * 17.0);
        vec2 jitter = vec2(hash(id + 3.1), hash(id + 5.7)) - 0.5;
        vec2 d = f - jitter * 0.5;
        float star = exp(-(d.x * d.x * 60.0 + d.y * d.y * 60.0 / stretch));
        float twinkle = 1.0 + 1.5 * hl_high_hits * step(0.6, hash(id + floor(hl_onset_count)));
        light += star * step(1.0 - density, h) * twinkle;
    }
    // Stars are born faint at the centre and brighten as they come closer.
    light *= smoothstep(0.02, 0.5, r) * (0.55 + punch * hl_bass_hits);
    vec3 col = colour.rgb * light;
    // Snare: a ring that grows as the hit decays.
    float snare = max(hl_highmid_hits, hl_mid_hits);
    float ring = exp(-abs(r - (1.0 - snare) * 1.1) * 30.0) * snare * shock;
    col += shockColour.rgb * ring * 0.7;
    gl_FragColor = vec4(col, 1.0);
}
