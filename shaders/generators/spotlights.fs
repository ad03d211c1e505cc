/*{
    "DESCRIPTION": "Stage spotlights: a truss of moving-head beams cutting down through haze onto a dark stage floor, for a rock band. The beams swing with the bar, the guitars (upper mids) open them up, the kick lifts the centre pair, the snare flares the outer ones in the accent colour, and each beam leaves a pool of light on the floor.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "lights", "TYPE": "float", "DEFAULT": 5.0, "MIN": 1.0, "MAX": 8.0, "LABEL": "Lights"},
        {"NAME": "swing", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Swing (rad)"},
        {"NAME": "cone", "TYPE": "float", "DEFAULT": 0.12, "MIN": 0.03, "MAX": 0.4, "LABEL": "Cone width (rad)"},
        {"NAME": "haze", "TYPE": "float", "DEFAULT": 0.6, "MIN": 0.0, "MAX": 1.0, "LABEL": "Haze"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick lift"},
        {"NAME": "colour", "TYPE": "color", "DEFAULT": [1.0, 0.8, 0.55, 1.0], "LABEL": "Beam colour"},
        {"NAME": "accent", "TYPE": "color", "DEFAULT": [0.9, 0.1, 0.15, 1.0], "LABEL": "Snare accent"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(41.3, 289.1))) * 17431.7);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), f.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + 1.0), f.x), f.y);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = vec2(uv.x * aspect, uv.y);
    float n = floor(lights + 0.5);
    float open = 0.7 + 0.8 * hl_highmid_level;
    float snare = max(hl_highmid_hits, hl_mid_hits);
    // Haze: a slow drifting noise the beams light up.
    float smoke = mix(1.0, 0.4 + 1.2 * noise(p * 3.0 + vec2(TIME * 0.05, hl_mid_time * 0.1)), haze);
    float half_ = cone * open;
    float inner = cos(half_ * 0.5);
    float outer = cos(half_);
    float poolWidth = 0.1 + 0.4 * half_;
    float floorGlow = exp(-uv.y * uv.y / 0.0036);  // the stage floor at the bottom of the frame
    // The swing: light i is a quarter bar behind light i-1, so the four phases are ±sin and ±cos of one angle.
    float s0 = sin(6.28318 * hl_bar_phase);
    float c0 = cos(6.28318 * hl_bar_phase);
    vec3 col = vec3(0.0);
    for (int i = 0; i < 8; i++) {
        float fi = float(i);
        if (fi >= n) {
            break;
        }
        float side = n > 1.0 ? fi / (n - 1.0) : 0.5;  // 0 at the left end of the truss, 1 at the right
        vec2 origin = vec2((0.12 + 0.76 * side) * aspect, 1.04);
        float centre = 1.0 - abs(side - 0.5) * 2.0;  // 1 for the middle lights, 0 for the outer ones
        // Neighbours swing in opposite directions, once a bar.
        float quarter = mod(fi, 4.0);
        float phase = quarter < 0.5 ? s0 : (quarter < 1.5 ? c0 : (quarter < 2.5 ? -s0 : -c0));
        float sway = swing * phase * (mod(fi, 2.0) * 2.0 - 1.0);
        float slope = (0.5 - side) * 0.5 + sway;  // sideways per unit down: the tangent of the aim
        vec2 dir = normalize(vec2(slope, -1.0));
        vec2 d = p - origin;
        float len = length(d);
        // Inside the cone where the angle to the beam's axis is under half its width (compared as cosines).
        // (Both branches skip most of the frame, which keeps the lights cheap on a CPU renderer.)
        float cosAngle = dot(d, dir) / len;
        float beam = 0.0;
        if (cosAngle > outer) {
            beam = smoothstep(outer, inner, cosAngle) * exp(-len * 0.6);
        }
        // The floor pool: where the beam meets the stage.
        float pool = 0.0;
        if (uv.y < 0.2) {
            float dx = (p.x - origin.x - slope * origin.y * 0.9) / poolWidth;
            pool = exp(-dx * dx) * floorGlow;
        }
        float lift = 0.35 + kick * hl_bass_hits * centre + 0.5 * hl_full_level;
        vec3 c = mix(colour.rgb, accent.rgb, snare * (1.0 - centre));
        float flare = 1.0 + 1.5 * snare * (1.0 - centre);
        col += c * (beam * smoke * 0.5 + pool * 0.6) * lift * flare;
    }
    gl_FragColor = vec4(col, 1.0);
}
