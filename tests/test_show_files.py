"""Show files refuse what a run would ignore or choke on: typos in any table (with the line and a hint),
nan/inf, non-UTF-8 bytes; macros and the look's metadata are read."""

from pathlib import Path

import pytest

from engine.errors import PresetError
from engine.params.macros import macro_params
from engine.show.preset import load_preset
from engine.show.setlist import load_setlist

BASE = """name = "test"
[shader]
file = "effects/pulse.fs"
inputs = { glow = 0.5 }
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("extra", "line", "hint"),
    [
        ("fiel = 'x'\n", 5, "did you mean 'file'"),  # a typo inside [shader]
        ("[output]\nsise = [640, 360]\n", 6, "did you mean 'size'"),
        ("[master]\nlevl = 0.5\n", 6, "did you mean 'level'"),
        ("[clips]\ncrosfade = 0.5\n", 6, "did you mean 'crossfade'"),
    ],
)
def test_a_typo_in_any_table_is_refused_with_its_line_and_a_hint(tmp_path, extra, line, hint):
    with pytest.raises(PresetError) as err:
        load_preset(write(tmp_path, BASE + extra))
    assert err.value.line == line and hint in str(err.value)
    assert str(err.value).startswith(f"{tmp_path / 'p.toml'}:{line}: ")


@pytest.mark.parametrize("number", ["nan", "inf", "-inf"])
def test_a_non_finite_number_is_refused(tmp_path, number):
    with pytest.raises(PresetError, match="not a finite number") as err:
        load_preset(write(tmp_path, BASE.replace("0.5", number)))
    assert err.value.line == 4


def test_a_non_utf8_byte_is_one_clear_error(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes(BASE.encode() + b"description = 'caf\xe9'\n")
    with pytest.raises(PresetError, match="not UTF-8") as err:
        load_preset(path)
    assert err.value.line == 5


def test_macros_map_the_look_and_say_which_faders_are_free(tmp_path):
    text = BASE + '[macros.1]\nname = "Glow"\ntarget = "shader.glow"\nrange = [0.1, 0.9]\ncurve = "smooth"\n'
    text += '[macros.3]\ntargets = ["shader.pulse", "shader.split"]\n'
    preset = load_preset(write(tmp_path, text))
    assert [(m.slot, m.name, m.targets) for m in preset.macros] == [
        (1, "Glow", ("shader.glow",)),
        (3, "shader.pulse", ("shader.pulse", "shader.split")),
    ]
    described = {p.name: p.description for p in macro_params(preset.macros)}
    assert "Glow" in described["macro.1"] and "not mapped" in described["macro.2"]


def test_a_macro_on_an_input_the_look_lacks_is_refused(tmp_path):
    with pytest.raises(PresetError, match=r"no input of this look.*did you mean 'shader.glow'"):
        load_preset(write(tmp_path, BASE + '[macros.2]\ntarget = "shader.glw"\n'))
    with pytest.raises(PresetError, match=r"numbered 1\.\.8"):
        load_preset(write(tmp_path, BASE + '[macros.9]\ntarget = "shader.glow"\n'))


def test_a_macro_drives_its_targets_and_holds_its_meaning_across_looks(tmp_path):
    from engine.app import build_params
    from engine.params.store import ParamMessage

    text = BASE + '[macros.1]\ntarget = "shader.glow"\nrange = [0.0, 0.5]\n'
    store = build_params(load_preset(write(tmp_path, text)))
    store.apply([ParamMessage("macro.1", 1.0)])
    assert store.base()["shader.glow"] == pytest.approx(0.5)
    other = load_preset(write(tmp_path, BASE + '[macros.1]\ntarget = "shader.pulse"\n', "q.toml"))
    fresh = build_params(other)
    store.replace(fresh.params.values(), other.macros)
    store.set("macro.1", 1.0)  # what a recall does with the show-level values it keeps
    assert store.base()["shader.pulse"] == pytest.approx(1.0)


def test_look_metadata_is_read(tmp_path):
    preset = load_preset(write(tmp_path, 'tags = ["techno", "dark"]\nenergy = 0.8\n' + BASE))
    assert preset.tags == ("techno", "dark") and preset.energy == 0.8
    with pytest.raises(PresetError, match="'energy' must be 0"):
        load_preset(write(tmp_path, "energy = 3\n" + BASE))


def test_a_setlist_with_a_typo_in_a_cue_is_refused(tmp_path):
    write(tmp_path, BASE)
    good = '[[cue]]\nname = "Intro"\npreset = "p.toml"\nmorph = "4 bars"\n'
    setlist = load_setlist(write(tmp_path, good, "set.toml"))
    assert setlist.cues[0].morph == "4 bars" and setlist.path == tmp_path / "set.toml"
    with pytest.raises(PresetError, match=r"unknown key 'preest'.*did you mean 'preset'") as err:
        load_setlist(write(tmp_path, good + '[[cue]]\npreest = "p.toml"\npreset = "p.toml"\n', "bad.toml"))
    assert err.value.line == 6
