/*{
    "DESCRIPTION": "Grid floor: a neon floor grid runs towards you on the beat under a sliced sun on the horizon. The bass makes the sun glow and the floor run faster, each kick sends a bright line down the floor, the snare lights the lanes, and the hats sprinkle stars.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "speed", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 4.0, "LABEL": "Speed"},
        {"NAME": "density", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.3, "MAX": 3.0, "LABEL": "Grid density"},
        {"NAME": "horizon", "TYPE": "float", "DEFAULT": 0.45, "MIN": 0.2, "MAX": 0.8, "LABEL": "Horizon"},
        {"NAME": "sun", "TYPE": "float", "DEFAULT": 0.7, "MIN": 0.0, "MAX": 1.5, "LABEL": "Sun"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick line"},
        {"NAME": "floorColour", "TYPE": "color", "DEFAULT": [1.0, 0.15, 0.75, 1.0], "LABEL": "Floor"},
        {"NAME": "sunTop", "TYPE": "color", "DEFAULT": [1.0, 0.75, 0.2, 1.0], "LABEL": "Sun top"},
        {"NAME": "sunBottom", "TYPE": "color", "DEFAULT": [1.0, 0.1, 0.45, 1.0], "LABEL": "Sun bottom"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

// 1 on a grid line of v, 0 between: anti-aliased with the derivative so far lines do not shimmer.
float gridLine(float v, float thickness) {
    float d = abs(fract(v) - 0.5);
    float w = fwidth(v) * thickness;
    return smoothstep(0.5 - w, 0.5, d);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec3 col = vec3(0.0);
    float beat = hl_beat_count + hl_beat_phase;
    if (uv.y < horizon) {
        float depth = 0.35 / max(horizon - uv.y, 1e-3);  // distance into the floor
        float x = (uv.x - 0.5) * aspect * depth;
        float scroll = hl_bass_time * 0.8 * speed + TIME * 0.1 * speed;
        float lanes = gridLine(x * density * 4.0, 1.5);
        float rows = gridLine(depth * density * 2.5 + scroll, 1.5);
        float fog = exp(-depth * 0.18);
        // Each kick launches a bright row from the horizon that rushes towards the audience.
        float travel = 1.0 - clamp(hl_bass_hits, 0.0, 1.0);
        float front = exp(-abs(fog - travel) * 14.0) * hl_bass_hits * kick;
        float snare = 0.6 * max(hl_mid_hits, hl_highmid_hits);
        float glow = (lanes * (0.45 + snare) + rows * 0.45) * fog + front * (rows + 0.25) * fog;
        col = floorColour.rgb * glow * (0.55 + 0.6 * hl_bass_level);
    } else {
        // The sun: a gradient disc cut by slits that widen towards its base.
        vec2 c = vec2((uv.x - 0.5) * aspect, uv.y - horizon - 0.16);
        float r = length(c);
        float disc = smoothstep(0.2, 0.19, r);
        float slit = step(0.0, c.y) + step(0.5 + 3.0 * c.y, fract(c.y * 28.0 + hl_bar_phase));
        float lit = disc * clamp(slit, 0.0, 1.0);
        vec3 tone = mix(sunBottom.rgb, sunTop.rgb, clamp(c.y * 2.6 + 0.5, 0.0, 1.0));
        float warmth = sun * (0.35 + 0.75 * hl_bass_level);
        col = tone * lit * warmth + tone * exp(-max(r - 0.2, 0.0) * 9.0) * 0.12 * warmth;
        // Stars twinkle with the hats.
        vec2 cell = floor(uv * RENDERSIZE / 3.0);
        float star = step(0.996, hash(cell)) * (0.15 + 0.8 * hl_high_hits * hash(cell + floor(beat)));
        col += vec3(star) * (1.0 - disc);
    }
    gl_FragColor = vec4(col, 1.0);
}
