"""Presets: the demo loads, and a bad preset is refused with the line it is wrong on."""

from pathlib import Path

import pytest

from engine.errors import PresetError
from engine.paths import DEMO_PRESET, PRESETS_DIR
from engine.show.preset import load_preset
from engine.show.validate import file_kind

GOOD = """name = "test"
[shader]
file = "effects/pulse.fs"
inputs = { glow = 0.5 }

[[modulate]]
target = "shader.pulse"
source = "bass.hits"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(text)
    return p


def test_demo_and_shipped_presets_load():
    preset = load_preset(DEMO_PRESET)
    assert preset.shader.kind == "filter" and len(preset.clips) == 2 and preset.modulations
    for p in PRESETS_DIR.rglob("*.toml"):
        if file_kind(p) == "preset":  # the shipped setlists are checked by test_preset_library
            load_preset(p)


def test_good_preset(tmp_path):
    preset = load_preset(write(tmp_path, GOOD))
    assert preset.inputs == {"glow": 0.5}
    assert preset.modulations[0].source == "bass.hits"


def test_a_preset_says_what_its_song_is(tmp_path):
    """A DnB song's preset keeps the auto-BPM between 160 and 180 and counts bars of 4; a preset that says
    nothing gets the defaults back (60..200, 4/4) rather than the previous song's."""
    dnb = load_preset(write(tmp_path, GOOD + "[tempo]\nrange = [160, 180]\n"))
    assert (dnb.clock_setup().min_bpm, dnb.clock_setup().max_bpm) == (160.0, 180.0)
    waltz = load_preset(write(tmp_path, GOOD + "[tempo]\nbeats_per_bar = 3\n"))
    assert waltz.clock_setup().beats_per_bar == 3 and waltz.clock_setup().max_bpm == 200.0
    plain = load_preset(write(tmp_path, GOOD)).clock_setup()
    assert (plain.min_bpm, plain.max_bpm, plain.beats_per_bar) == (60.0, 200.0, 4)


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            lambda t: t.replace('source = "bass.hits"', 'source = "bass.hitz"'),
            8,
            "unknown source 'bass.hitz'",
        ),
        (lambda t: t.replace('target = "shader.pulse"', 'target = "shader.nope"'), 7, "unknown target"),
        (lambda t: t.replace("effects/pulse.fs", "effects/missing.fs"), 3, "not found"),
        (lambda t: t.replace("glow = 0.5", "glo = 0.5"), 4, "no input 'glo'"),
        (lambda t: t + "amount = 'lots'\n", 9, "'amount' must be a number"),
        (lambda t: t.replace("[shader]", "[shader"), 2, "not valid TOML"),
        (lambda t: t + "[extra]\n", 9, "unknown key 'extra'"),
        (lambda t: t + "[tempo]\nrange = [180, 120]\n", 10, "slowest must be below the fastest"),
        (lambda t: t + "[tempo]\nrange = [170]\n", 10, "[slowest, fastest]"),
        (lambda t: t + "[tempo]\nbeats_per_bar = 0\n", 10, "'beats_per_bar' must be 1..16"),
        (lambda t: t + "[tempo]\nbpm = 128\n", 10, "unknown key 'bpm' in [tempo]"),
    ],
)
def test_bad_preset_names_its_line(tmp_path, edit, line, message):
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(PresetError) as err:
        load_preset(path)
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_broken_shader_in_preset_is_refused_with_its_line(tmp_path):
    (tmp_path / "bad.fs").write_text('/*{"INPUTS": []}*/\nvoid main() {\n  gl_FragColor = vec4(1.0)\n}\n')
    path = write(tmp_path, GOOD.replace("effects/pulse.fs", "bad.fs").replace("inputs = { glow = 0.5 }", ""))
    path.write_text(path.read_text().split("[[modulate]]")[0])
    preset = load_preset(path)  # parses: the GLSL error shows when it compiles
    assert preset.shader.path.name == "bad.fs"


def test_check_renders_the_shaders_a_preset_uses(tmp_path):
    from engine.show.validate import check_paths

    (tmp_path / "ok.fs").write_text(
        '/*{"INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/\nvoid main() {\n'
        "  gl_FragColor = IMG_THIS_PIXEL(inputImage);\n}\n"
    )
    header = '/*{"INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/\n'
    (tmp_path / "bad.fs").write_text(header + "void main() {\n  gl_FragColor = vec3(1.0);\n}\n")
    path = write(tmp_path, 'name = "chain"\n[shader]\nfile = "ok.fs"\n[[effects]]\nfile = "bad.fs"\n')
    failures, total = check_paths([path])
    assert total == 1
    assert len(failures) == 1 and failures[0].startswith(f"{tmp_path / 'bad.fs'}:3: ")
    assert failures[0].endswith(f"(used by {path})")
