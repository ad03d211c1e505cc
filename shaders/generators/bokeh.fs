/*{
    "DESCRIPTION": "Bokeh: warm, out-of-focus discs of light drifting upwards like stage lights seen through a lens, for a singer-songwriter. The voice (mids) brightens them, each strummed or sung onset wakes a few discs, the kick (if there is one) swells them a little, and brighter music brings in more of the cool colour.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Generator"],
    "INPUTS": [
        {"NAME": "drift", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Drift"},
        {"NAME": "size", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.3, "MAX": 2.5, "LABEL": "Disc size"},
        {"NAME": "amount", "TYPE": "float", "DEFAULT": 0.55, "MIN": 0.1, "MAX": 1.0, "LABEL": "How many"},
        {"NAME": "brightness", "TYPE": "float", "DEFAULT": 0.8, "MIN": 0.0, "MAX": 2.0, "LABEL": "Brightness"},
        {"NAME": "warm", "TYPE": "color", "DEFAULT": [1.0, 0.6, 0.25, 1.0], "LABEL": "Warm colour"},
        {"NAME": "cool", "TYPE": "color", "DEFAULT": [0.55, 0.35, 0.9, 1.0], "LABEL": "Cool colour"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float aspect = RENDERSIZE.x / RENDERSIZE.y;
    vec2 p = vec2(uv.x * aspect, uv.y);
    float t = (TIME * 0.04 + hl_mid_time * 0.06) * drift;
    float onset = floor(hl_onset_count);
    vec3 col = vec3(0.0);
    // Three layers: far (small, dim), middle, near (large, soft). One disc per cell, kept inside it.
    for (int i = 0; i < 3; i++) {
        float fi = float(i);
        float cells = 7.0 - 2.0 * fi;
        vec2 q = p * cells + vec2(fi * 5.3, -t * (1.0 + 0.6 * fi) * cells * 0.3);
        vec2 id = floor(q);
        vec2 f = fract(q) - 0.5;
        float h = hash(id + fi * 19.0);
        if (h > amount) {
            continue;
        }
        vec2 offset = (vec2(hash(id + 1.3), hash(id + 7.9)) - 0.5) * 0.3;
        float radius = (0.12 + 0.16 * hash(id + 4.4)) * size * (1.0 + 0.1 * hl_bass_hits);
        float d = length(f - offset);
        float edge = 0.03 + 0.05 * fi;
        float disc = smoothstep(radius, radius - edge, d);
        float rim = smoothstep(radius - edge * 2.0, radius - edge * 0.5, d) * disc;  // a lens-like brighter rim
        float woken = step(0.8, hash(id + onset * 3.3)) * hl_onset;
        float glow = (0.18 + 0.6 * hl_mid_level + 0.8 * woken) * (0.5 + 0.25 * fi);
        float tone = clamp(hash(id + 2.2) * 0.8 - 0.2 + 0.3 * clamp(hl_centroid / 5000.0, 0.0, 1.0), 0.0, 1.0);
        col += mix(warm.rgb, cool.rgb, tone) * (disc * 0.6 + rim * 0.5) * glow;
    }
    col *= brightness * smoothstep(1.3, 0.3, length((uv - 0.5) * vec2(aspect, 1.0)));
    gl_FragColor = vec4(col, 1.0);
}
