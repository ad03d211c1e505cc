/*{
    "DESCRIPTION": "Strobe on the kick, rate-limited: flashes at most `rate` times a second (3 by default, the photosensitivity safety limit for audiences) however fast the hits come; the last flash time lives in a 1x1 persistent buffer. White flash, inverted flash or a black gap.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "amount", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 1.0, "LABEL": "Amount"},
        {"NAME": "rate", "TYPE": "float", "DEFAULT": 3.0, "MIN": 0.25, "MAX": 3.0, "LABEL": "Max flashes per second"},
        {"NAME": "decay", "TYPE": "float", "DEFAULT": 0.08, "MIN": 0.02, "MAX": 0.5, "LABEL": "Flash length (s)"},
        {"NAME": "sensitivity", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Sensitivity"},
        {"NAME": "mode", "TYPE": "long", "DEFAULT": 0, "VALUES": [0, 1, 2], "LABELS": ["White", "Invert", "Black gap"], "LABEL": "Mode"},
        {"NAME": "flash", "TYPE": "event", "LABEL": "Flash now"}
    ],
    "PASSES": [
        {"TARGET": "state", "PERSISTENT": true, "FLOAT": true, "WIDTH": "1", "HEIGHT": "1"},
        {}
    ]
}*/

// state.r: show time of the last flash; state.g: the trigger level seen last frame; state.b: 1 once written.

void main() {
    vec4 memory = IMG_NORM_PIXEL(state, vec2(0.5));
    float last = memory.r;
    if (memory.b < 0.5 || last > TIME + 0.001)  // nothing yet, or time went backwards: no flash so far
        last = -1000.0;
    if (PASSINDEX == 0) {
        float level = hl_bass_hits;
        float threshold = 1.0 - 0.8 * sensitivity;
        bool rising = level >= threshold && memory.g < threshold;
        bool allowed = TIME - last >= 1.0 / clamp(rate, 0.25, 3.0);
        if ((rising || flash) && allowed && amount > 0.0)
            last = TIME;
        gl_FragColor = vec4(last, level, 1.0, 1.0);
        return;
    }
    vec3 col = IMG_THIS_PIXEL(inputImage).rgb;
    float since = TIME - last;
    float f = since >= 0.0 ? exp(-since / max(decay, 0.01)) * amount : 0.0;
    if (mode == 0)
        col = mix(col, vec3(1.0), f);
    else if (mode == 1)
        col = mix(col, 1.0 - col, f);
    else
        col *= 1.0 - f;
    gl_FragColor = vec4(col, 1.0);
}
