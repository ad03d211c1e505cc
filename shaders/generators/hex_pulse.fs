/*{
    "DESCRIPTION": "Hex pulse: a dark honeycomb whose cells light in rings that spread from the centre on every kick, while the hats spark single cells at random and the bar count rotates the palette. Thin cell outlines glow faintly with the mids so the grid never quite disappears.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "cells", "TYPE": "float", "DEFAULT": 9.0, "MIN": 3.0, "MAX": 30.0, "LABEL": "Cells across"},
        {"NAME": "ripple", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick ripple"},
        {"NAME": "sparks", "TYPE": "float", "DEFAULT": 0.7, "MIN": 0.0, "MAX": 1.0, "LABEL": "Hat sparks"},
        {"NAME": "outline", "TYPE": "float", "DEFAULT": 0.25, "MIN": 0.0, "MAX": 1.0, "LABEL": "Outlines"},
        {"NAME": "colourA", "TYPE": "color", "DEFAULT": [0.0, 0.8, 1.0, 1.0], "LABEL": "Colour A"},
        {"NAME": "colourB", "TYPE": "color", "DEFAULT": [1.0, 0.2, 0.6, 1.0], "LABEL": "Colour B"}
    ]
}*/

const vec2 HEX = vec2(1.0, 1.7320508);

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

// (position inside the cell, cell id) for the hexagon that holds p.
vec4 hexCell(vec2 p) {
    vec4 centres = floor(vec4(p, p - vec2(0.5, 1.0)) / HEX.xyxy) + 0.5;
    vec4 h = vec4(p - centres.xy * HEX, p - (centres.zw + 0.5) * HEX);
    return dot(h.xy, h.xy) < dot(h.zw, h.zw) ? vec4(h.xy, centres.xy) : vec4(h.zw, centres.zw + 0.5);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = (uv - 0.5) * vec2(aspect, 1.0) * cells;
    vec4 h = hexCell(p);
    vec2 local = abs(h.xy);
    float edge = 0.5 - max(dot(local, HEX * 0.5), local.x);  // 0 on the outline, 0.5 at the centre
    vec2 centre = h.zw * HEX;
    float dist = length(centre) / cells;

    // Kick: a ring of cells at the radius the decaying hit has reached.
    float kick = clamp(hl_bass_hits, 0.0, 1.0);
    float ring = exp(-abs(dist - (1.0 - kick) * 0.8) * 12.0) * kick * ripple;
    // Hats: a few random cells spark, a new choice on every onset.
    float spark = step(0.93, hash(h.zw + floor(hl_onset_count))) * hl_high_hits * sparks;
    float fill = max(ring, spark) * smoothstep(0.0, 0.08, edge);
    float line = smoothstep(0.05, 0.0, edge) * outline * (0.25 + 0.75 * hl_mid_level);

    float turn = fract(hl_bar_count * 0.25 + hash(h.zw) * 0.3);
    vec3 colour = mix(colourA.rgb, colourB.rgb, 0.5 + 0.5 * sin(6.28318 * turn));
    vec3 col = colour * (fill * (0.5 + 0.5 * edge * 2.0) + line);
    col *= smoothstep(1.1, 0.3, length((uv - 0.5) * vec2(aspect, 1.0)));
    gl_FragColor = vec4(col, 1.0);
}
