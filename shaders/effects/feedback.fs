/*{
    "DESCRIPTION": "Feedback trails: every frame is laid over a slowly zooming, turning echo of the frames before (a persistent buffer), so movement leaves glowing tails. Trails last longer when the music is dense, every kick throws the echo outwards, and the echo drifts in hue.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "trail", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 3.0, "LABEL": "Trail length (s)"},
        {"NAME": "zoom", "TYPE": "float", "DEFAULT": 0.25, "MIN": -1.0, "MAX": 1.0, "LABEL": "Zoom"},
        {"NAME": "spin", "TYPE": "float", "DEFAULT": 0.1, "MIN": -1.0, "MAX": 1.0, "LABEL": "Spin"},
        {"NAME": "hueDrift", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0, "LABEL": "Hue drift"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Kick throws the echo"},
        {"NAME": "center", "TYPE": "point2D", "DEFAULT": [0.5, 0.5], "MIN": [0.0, 0.0], "MAX": [1.0, 1.0], "LABEL": "Centre"}
    ],
    "PASSES": [
        {"TARGET": "trails", "PERSISTENT": true, "FLOAT": true}
    ]
}*/

// Rotate a colour's hue by `angle` radians about the grey axis.
vec3 hueRotate(vec3 c, float angle) {
    const vec3 k = vec3(0.57735);
    float ca = cos(angle);
    return c * ca + cross(k, c) * sin(angle) + k * dot(k, c) * (1.0 - ca);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    float dt = clamp(TIMEDELTA, 0.0, 0.1);

    // Where this pixel was a moment ago: a little further in (zoom) and turned (spin).
    vec2 p = (uv - center) * vec2(aspect, 1.0);
    float turn = spin * dt * (0.6 + hl_mid_level);
    p = mat2(cos(turn), -sin(turn), sin(turn), cos(turn)) * p;
    p *= 1.0 - zoom * dt * (0.5 + 1.5 * hl_bass_level) - 0.05 * kick * hl_bass_hits;
    vec2 q = p / vec2(aspect, 1.0) + center;

    vec3 echo = IMG_NORM_PIXEL(trails, q).rgb;
    // Frame-rate independent decay: the echo falls to ~5 % after `trail` seconds.
    float life = max(trail * (0.6 + 0.8 * hl_full_presence), 1e-3);
    float keep = exp(-3.0 * dt / life);
    echo = hueRotate(echo, hueDrift * dt * 2.0) * keep;
    echo = max(echo - 0.25 * dt, 0.0);  // never leave a faint haze behind

    vec3 now = IMG_THIS_PIXEL(inputImage).rgb;
    gl_FragColor = vec4(max(now, echo), 1.0);
}
