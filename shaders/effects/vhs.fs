/*{
    "DESCRIPTION": "VHS: a worn tape look for hip-hop: soft scanlines, colour bleeding sideways, a tracking band rolling down the frame, and the snare kicking a few lines out of place. The kick nudges the picture up a line or two, as a tape does when the deck catches.",
    "CREDIT": "Halation",
    "ISFVSN": "2",
    "CATEGORIES": ["Halation", "Stylize"],
    "INPUTS": [
        {"NAME": "inputImage", "TYPE": "image"},
        {"NAME": "bleed", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Colour bleed"},
        {"NAME": "scanlines", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Scanlines"},
        {"NAME": "tracking", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Tracking band"},
        {"NAME": "jitter", "TYPE": "float", "DEFAULT": 0.7, "MIN": 0.0, "MAX": 2.0, "LABEL": "Snare jitter"},
        {"NAME": "kick", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 2.0, "LABEL": "Kick jump"},
        {"NAME": "fade", "TYPE": "float", "DEFAULT": 0.3, "MIN": 0.0, "MAX": 1.0, "LABEL": "Faded colour"}
    ]
}*/

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    vec2 uv = isf_FragNormCoord;
    float line = floor(uv.y * RENDERSIZE.y / 2.0);
    // Kick: the picture jumps up a little and settles.
    uv.y -= kick * hl_bass_hits * 0.012;
    // Snare: some lines slide sideways, a new set on every onset.
    float snare = max(hl_highmid_hits, hl_mid_hits);
    float pick = step(0.85, hash(vec2(floor(line / 6.0), floor(hl_onset_count))));
    uv.x += (hash(vec2(line, floor(hl_onset_count))) - 0.5) * 0.06 * pick * snare * jitter;
    // Tracking: a noisy band that rolls down the frame once every four bars.
    float bandY = 1.0 - fract(hl_bar_count * 0.25 + hl_bar_phase * 0.25 + TIME * 0.02);
    float dy = (uv.y - bandY) * 18.0;
    float band = exp(-dy * dy) * tracking;
    uv.x += band * (hash(vec2(line, floor(TIME * 30.0))) - 0.5) * 0.03;

    // Colour bleeds: chroma is read wider than luma, and red runs to the right.
    float px = 1.0 / RENDERSIZE.x;
    vec3 centre = IMG_NORM_PIXEL(inputImage, uv).rgb;
    vec3 left = IMG_NORM_PIXEL(inputImage, uv - vec2(4.0 * px * bleed, 0.0)).rgb;
    vec3 right = IMG_NORM_PIXEL(inputImage, uv + vec2(4.0 * px * bleed, 0.0)).rgb;
    vec3 col = vec3(mix(centre.r, left.r, bleed), centre.g, mix(centre.b, right.b, bleed));
    float luma = dot(col, vec3(0.299, 0.587, 0.114));
    col = mix(col, vec3(luma) * vec3(1.05, 1.0, 0.9), fade * 0.6);
    col += band * 0.25 * hash(uv * RENDERSIZE + TIME);
    col *= 1.0 - scanlines * 0.5 * (0.5 + 0.5 * sin(uv.y * RENDERSIZE.y * 1.5708));
    gl_FragColor = vec4(col, 1.0);
}
