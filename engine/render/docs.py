"""Generate docs/audio-uniforms.md and docs/shaders.md from the code, so the docs list exactly what ships.

    python -m engine.render.docs     # rewrite both pages
    halation check shaders --thumbs docs/thumbs     # the thumbnails

The uniform names come from `Features.values()` (whatever the analysis publishes today); the shader pages
from each shipped .fs header and the `hl_*` names its source reads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from engine.paths import ROOT, SHADERS_DIR

BAND_MEANINGS = {
    "level": (
        "0..1",
        "how loud the band is, auto-gained to the room and smoothed (attack fast, release slow)",
    ),
    "hits": ("0..1", "a spike on each transient in the band (kick, snare, hat...), decaying over ~0.2 s"),
    "presence": ("0..1", "slow level: is this band part of the music right now (seconds to rise and fall)"),
    "time": ("seconds", "a clock that runs faster while the band is loud: use it for motion, not TIME"),
}
BANDS = {
    "bass": "20-150 Hz (kick, sub, bass line)",
    "lowmid": "150-400 Hz (body of bass and toms)",
    "mid": "400-2000 Hz (voices, keys, snare body)",
    "highmid": "2-6 kHz (snare crack, guitars)",
    "high": "6-20 kHz (hats, cymbals, air)",
    "full": "20-20000 Hz (everything)",
}
MEANINGS = {
    "rms": ("0..1", "RMS amplitude of the last hop"),
    "loudness": ("dBFS", "loudness of the last hop, -120 (silence) to 0"),
    "centroid": ("Hz", "spectral centroid: how bright the sound is (dark pads low, hats high)"),
    "flux": ("0..1", "spectral flux against its recent peak: how much the sound is changing"),
    "energy": ("0..1", "short-term loudness against the last ~30 s: 0.5 steady, towards 1 at a drop"),
    "silence": ("0 or 1", "1 while the input is below -60 dBFS"),
    "onset": ("0..1", "a spike on every onset (any new note or hit), decaying"),
    "onset_count": ("count", "number of onsets so far: changes on every onset (a seed for new patterns)"),
    "audio_time": ("seconds", "audio time of the analysis"),
    "bpm": ("BPM", "tempo, 0 until one is known"),
    "bpm_confidence": ("0..1", "how sure the tempo tracker is"),
    "beat_phase": ("0..1", "position within the current beat (0 on the beat)"),
    "beat_count": ("count", "number of the current beat"),
    "bar_phase": ("0..1", "position within the current bar"),
    "bar_beat": ("0..3", "which beat of the bar this is (0 = the downbeat)"),
    "bar_count": ("count", "number of the current bar"),
    "on_beat": ("0..1", "a spike on every beat, decaying over ~0.1 s"),
    "downbeat": ("0..1", "a spike on the first beat of each bar"),
    "toggle_beat": ("0 or 1", "flips on every beat"),
    "random_beat": ("0..1", "a new random value on every beat"),
    "tempo_locked": ("0 or 1", "1 while the operator holds the tempo"),
    "beats_per_bar": ("count", "beats in a bar: heard from the music (3 or 4) unless a preset fixes it"),
    "bpm_runner_up": ("BPM", "the other metrical level with the most evidence (×2, ×½, ×1.5…), 0: none"),
    "bpm_runner_up_ratio": ("ratio", "bpm_runner_up / bpm (2: the music may also be felt twice as fast)"),
    "bpm_runner_up_share": ("0..1", "its evidence over the tempo's: near 1, a dancer may tap either"),
    "section": ("0..3", "the section heard: 0 steady, 1 build-up, 2 drop, 3 breakdown (docs/showcraft.md)"),
    "section_time": ("seconds", "since the section began (a boundary is heard half a beat after it)"),
    "drop": ("0..1", "1 at a drop, decaying over ~2 s: the moment to flash, zoom or switch palette"),
    "buildup": ("0..1", "how far a build-up has risen (0 outside one): tension to ramp up"),
    "breakdown": ("0 or 1", "1 in a breakdown (the kick gone): calm the picture down"),
    "phrase": ("0..1", "a spike at each phrase (16 bars) and section boundary, decaying like downbeat"),
    "phrase_bar": ("0..15", "bars into the phrase"),
    "phrase_phase": ("0..1", "position within the phrase"),
}
LFO_SHAPES = {"sine": "sine, 1 on the beat", "tri": "triangle, 1 on the beat", "saw": "ramp 0→1"}
LFO_RATES = {
    "": "once per beat",
    "_half": "every 2 beats",
    "_quarter": "once per bar (4 beats)",
    "_double": "twice per beat",
}


def uniform_name(value_name: str) -> str:
    """The GLSL name of an analysis value: bass.hits → hl_bass_hits."""
    return "hl_" + value_name.replace(".", "_")


def describe_value(name: str) -> tuple[str, str]:
    """(unit or range, meaning) of one analysis value; unknown names point at the listening docs."""
    if name in MEANINGS:
        return MEANINGS[name]
    band, _, field = name.partition(".")
    if band in BANDS and field in BAND_MEANINGS:
        unit, meaning = BAND_MEANINGS[field]
        return unit, f"{band} band, {BANDS[band]}: {meaning}"
    m = re.fullmatch(r"beat_(sine|tri|saw)(_half|_quarter|_double)?", name)
    if m:
        return "0..1", f"beat-locked {LFO_SHAPES[m[1]]}, {LFO_RATES[m[2] or '']}"
    return "", "see docs/listening.md"


def value_names() -> list[str]:
    from engine.analysis.bands import DEFAULT_BANDS
    from engine.analysis.features import silent_features

    return list(silent_features(tuple(DEFAULT_BANDS)).values())


AUDIO_INTRO = """# Audio uniforms: what every shader hears

Every ISF shader Halation runs can read the music through `hl_*` uniforms **without declaring them**:
write `hl_bass_hits` in a shader and it is there, a `float` updated every frame from the live analysis
(a name the analysis does not publish reads 0.0, so a shader never fails to compile over a typo).
Presets can bind the same values (written with a dot: `bass.hits`) to any input with `[[modulate]]`.

This page is generated from the code (`python -m engine.render.docs`): it lists exactly what the analysis
publishes. Units and how each value is computed: [listening.md](listening.md).

## A small example

```glsl
/*{
    "DESCRIPTION": "A disc that swells on the kick and glows with the highs.",
    "ISFVSN": "2",
    "INPUTS": [{"NAME": "size", "TYPE": "float", "DEFAULT": 0.25, "MIN": 0.05, "MAX": 0.5}]
}*/
void main() {
    vec2 p = (isf_FragNormCoord - 0.5) * vec2(RENDERSIZE.x / RENDERSIZE.y, 1.0);
    float r = size * (1.0 + 0.4 * hl_bass_hits);                        // kick: swell
    float disc = smoothstep(r, r - 0.01, length(p));
    float ring = exp(-abs(length(p) - r) * 60.0) * hl_high_level;       // hats: glow
    float bass = IMG_NORM_PIXEL(hl_spectrum, vec2(0.05, 0.5)).r;        // the spectrum, as a texture
    gl_FragColor = vec4(vec3(disc * (0.3 + bass), disc * 0.2, ring), 1.0);
}
```

Motion: prefer a band's `time` (`hl_bass_time`, runs faster when the bass is loud) or the beat clock
(`hl_beat_phase`, `hl_bar_phase`, `hl_beat_sine`) over `TIME`, so movement follows the music and stops
in a breakdown. Hits and `on_beat` are spikes that fall back to 0: use them for flashes and punches.

## Textures

| uniform | type | contents |
|---|---|---|
| `hl_spectrum` | `sampler2D`, 64×1, float (`.r`) | log-frequency spectrum 30 Hz..16 kHz, 0..1, low at x = 0 |
| `hl_waveform` | `sampler2D`, 512×1, float (`.r`) | the last 512 samples of the (mono) input, -1..1 |

ISF `audio` and `audioFFT` inputs are fed from the same analysis in the shape the ISF spec asks for:
grey RGBA float images, `audio` centred on 0.5 (0..1), `audioFFT` 0..1, `MAX` columns if the input gives
a `MAX` (each column the strongest sample / the mean bin of its stretch), else 512 / 64 columns.

## Values
"""


def audio_uniforms_page() -> str:
    names = value_names()
    fields = list(BAND_MEANINGS)
    bands = [b for b in dict.fromkeys(n.split(".")[0] for n in names if "." in n)]
    out = [AUDIO_INTRO, "### Per band\n", "Each band has four values (preset source `band.field`):\n"]
    out += ["| field | unit | meaning |", "|---|---|---|"]
    out += [f"| `{f}` | {unit} | {meaning} |" for f, (unit, meaning) in BAND_MEANINGS.items()]
    out += ["", "| band | frequencies | " + " | ".join(fields) + " |", "|---|---|" + "---|" * len(fields)]
    for band in bands:
        cells = " | ".join(f"`{uniform_name(f'{band}.{f}')}`" for f in fields if f"{band}.{f}" in names)
        out.append(f"| {band} | {BANDS.get(band, '')} | {cells} |")
    out += [
        "",
        "### Whole signal and beat clock\n",
        "| uniform | preset source | unit | meaning |",
        "|---|---|---|---|",
    ]
    for name in names:
        if "." in name:
            continue
        unit, meaning = describe_value(name)
        out.append(f"| `{uniform_name(name)}` | `{name}` | {unit} | {meaning} |")
    return "\n".join(out) + "\n"


SHADERS_INTRO = """# Shipped shaders

Halation's own ISF shaders, made for a projector in a dark room: black backgrounds, light where the music
is. They react to the music on their own through the `hl_*` uniforms ([audio-uniforms.md](audio-uniforms.md)),
so a preset needs no `[[modulate]]` for them to dance; their inputs set how much. Any ISF host can run
them (the `hl_*` names then read 0).

Use a generator or an effect as the preset's `[shader]`, effects in `[[effects]]`, transitions as
`[clips] transition`. Thumbnails are rendered by `halation check shaders --thumbs docs/thumbs` (a test
card for images, mid-level audio, transitions half way); this page by `python -m engine.render.docs`.
"""
CHAIN_SECTION = """
## Chains in a preset

```toml
[shader]                                  # the main shader: parameters shader.<input>
file = "generators/tunnel.fs"
inputs = { speed = 0.8, cool = [0.1, 0.4, 1.0] }

[clips]
a = "clips/nebula.mp4"
b = "clips/ember.mp4"
transition = "noise_dissolve"

[[effects]]                               # drawn in order after the shader
file = "effects/luma_key.fs"              # parameters key.<input>, plus key.mix (wet/dry, 0 = bypassed)
name = "key"
inputs = { keyImage = "clips", threshold = 0.3 }

[[effects]]
file = "effects/bloom.fs"                 # the name defaults to the file's stem: bloom.intensity, bloom.mix

[[modulate]]                              # colours move towards `to` as the source rises
target = "shader.cool"
source = "energy"
range = [0.55, 0.75]
to = [1.0, 0.3, 0.1]

[[modulate]]
target = "bloom.mix"
source = "bass.presence"
```

An image input takes the clips (`"clips"`), the main shader's output (`"shader"`) or an earlier effect's (its
name). Unbound, `inputImage` (and a transition's `startImage`) takes the layer before, any other image the
clips. Any float, long, bool, event, colour or point input can be driven by any analysis value with
`[[modulate]]`: `amount`, `range`, `curve`, `smooth`, and for colours and points `to = [...]` (or, without
it, a colour brightens by `amount` and a point moves by `amount = [dx, dy]`).

## Editing shaders during a show

`halation perform` watches every shader of the preset. Save a change and it appears within about half a
second: the new version is compiled and drawn once aside (in a low-priority helper process), then swapped
in between two frames, so the output never hitches. A save that does not compile or draw is refused: the
last good version stays on the output, and the error, with the file and the line in the `.fs`, goes to
the console and the preview overlay until the next good save. Persistent buffers (trails) carry over.
"""
SECTIONS = (
    ("generators", "Generators", "draw from nothing but the music"),
    ("effects", "Effects", "take the picture beneath (`inputImage`: the clips, or the layer before)"),
    (
        "transitions",
        "Transitions",
        "blend `startImage` into `endImage` as `progress` goes 0 → 1 (`clips.crossfade`)",
    ),
)


def _inputs_summary(doc) -> str:
    parts = []
    for i in doc.inputs:
        if i.type == "image" or i.name == "progress":
            continue
        parts.append(f"`{i.name}`")
    return ", ".join(parts) or "—"


def shaders_page(shaders_dir: Path = SHADERS_DIR) -> str:
    from engine.render.isf import HL_PATTERN, load_isf

    out = [SHADERS_INTRO, CHAIN_SECTION]
    for folder, title, what in SECTIONS:
        out.append(f"## {title}\n\n{title} {what}.\n")
        for path in sorted((shaders_dir / folder).glob("*.fs")):
            doc = load_isf(path)
            heard = sorted(set(HL_PATTERN.findall(path.read_text())))
            rel = path.relative_to(shaders_dir).as_posix()
            out.append(f"### {path.stem}\n")
            out.append(f"![{path.stem}](thumbs/{path.stem}.png)\n")
            out.append(f"`shaders/{rel}` — {doc.description}\n")
            out.append(f"- inputs: {_inputs_summary(doc)}")
            if heard:
                out.append(f"- hears: {', '.join(f'`{h}`' for h in heard)}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_docs(docs_dir: Path = ROOT / "docs") -> list[Path]:
    docs_dir.mkdir(parents=True, exist_ok=True)
    pages = {"audio-uniforms.md": audio_uniforms_page(), "shaders.md": shaders_page()}
    written = []
    for name, text in pages.items():
        path = docs_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_docs():
        print(written_path)
    sys.exit(0)
