/*{
    "DESCRIPTION": "Kick tunnel: rings rush towards you as fast as the bass is loud, every kick flashes them and punches the camera forward, the hats light tiles on the walls, and a drop turns the palette from ice to fire.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "speed", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 2.0, "LABEL": "Speed"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick punch"},
        {"NAME": "segments", "TYPE": "float", "DEFAULT": 8.0, "MIN": 1.0, "MAX": 24.0, "LABEL": "Wall segments"},
        {"NAME": "twist", "TYPE": "float", "DEFAULT": 0.4, "MIN": -2.0, "MAX": 2.0, "LABEL": "Twist"},
        {"NAME": "sparkle", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 1.0, "LABEL": "Hat sparkle"},
        {"NAME": "cool", "TYPE": "color", "DEFAULT": [0.15, 0.45, 1.0, 1.0], "LABEL": "Cool colour"},
        {"NAME": "hot", "TYPE": "color", "DEFAULT": [1.0, 0.35, 0.08, 1.0], "LABEL": "Drop colour"},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "LABEL": "Vanishing point"}
    ]
}*/

const float TAU = 6.28318530718;

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

void main() {
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (isf_FragNormCoord - center) * vec2(aspect, 1.0);
    float hit = clamp(hl_bass_hits * kick, 0.0, 2.0);
    p *= 1.0 - 0.12 * hit;  // the kick punches the camera forward

    float r = max(length(p), 1e-3);
    float depth = 0.5 / r;  // how far down the tunnel this pixel looks
    float z = depth + TIME * speed * 0.5 + hl_bass_time * speed;
    float a = atan(p.y, p.x) / TAU + twist * depth * 0.05 + 0.02 * TIME;

    // Rings travel towards the viewer; the kick thickens and brightens them.
    float ringEdge = abs(fract(z) - 0.5);
    float rings = smoothstep(0.44 - 0.08 * hit, 0.5, ringEdge);
    // Seams between wall segments.
    float seamEdge = abs(fract(a * segments) - 0.5);
    float seams = smoothstep(0.46, 0.5, seamEdge) * 0.6;
    // Tiles flash with the hats, a new pattern on every ring.
    vec2 tile = vec2(floor(z), floor(a * segments));
    float lit = step(1.0 - 0.35 * hl_high_hits * sparkle, hash(tile + floor(hl_onset_count)));

    float heat = smoothstep(0.55, 0.75, hl_energy);
    vec3 palette = mix(cool.rgb, hot.rgb, heat);
    vec3 col = palette * (rings * (0.7 + 1.3 * hit) + seams * (0.35 + hl_mid_level));
    float panel = smoothstep(0.5, 0.25, ringEdge) * smoothstep(0.5, 0.3, seamEdge);
    col += mix(palette, vec3(1.0), 0.4) * lit * panel * 0.45;

    // Far away is dark (fog), the near walls fade out at the screen edge.
    float fog = smoothstep(0.02, 0.35, r);
    col *= fog * smoothstep(1.25, 0.45, r);
    gl_FragColor = vec4(col, 1.0);
}
