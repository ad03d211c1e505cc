"""`halation check` on a show folder: what passes runs every cue, and what fails names its file and line."""

import shutil
from pathlib import Path

from conftest import run_cli

from engine.paths import DEMO_PRESET

LOOK = """name = "{name}"
[shader]
file = "{shader}"
"""


def show_folder(tmp_path: Path) -> Path:
    show = tmp_path / "show"
    show.mkdir()
    for name, shader in (("one", "generators/tunnel.fs"), ("two", "generators/aurora.fs")):
        (show / f"{name}.toml").write_text(LOOK.format(name=name, shader=shader))
    shutil.copytree(DEMO_PRESET.parent / "clips", show / "clips")
    (show / "three.toml").write_text(LOOK.format(name="three", shader="effects/pulse.fs") + CLIPS)
    (show / "set.toml").write_text(SET)
    (show / "aliases.toml").write_text('[alias]\n"/gma3/Page1/Fader201" = "master.level"\n')
    (show / "stage.toml").write_text(STAGE)
    return show


STAGE = """[[output]]
name = "main"
size = [1920, 1080]
fit = "fill"
keystone = [[0.1, 0.05], [0.95, 0.0], [1.0, 1.0], [0.0, 0.9]]
"""


CLIPS = '[clips]\na = "clips/nebula.mp4"\nb = "clips/ember.mp4"\n'
SET = "".join(f'[[cue]]\nname = "{n}"\npreset = "{n}.toml"\n' for n in ("one", "two", "three"))


def test_a_valid_show_folder_passes(tmp_path):
    show = show_folder(tmp_path)
    result = run_cli("check", str(show))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stderr


def test_a_typo_in_the_third_cues_preset_fails_with_its_file_and_line(tmp_path):
    show = show_folder(tmp_path)
    three = show / "three.toml"
    three.write_text(
        three.read_text().replace('file = "effects/pulse.fs"', 'file = "effects/pulse.fs"\nimputs = {}')
    )
    result = run_cli("check", str(show / "set.toml"))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith(f"{three}:4: unknown key 'imputs' in [shader] (did you mean 'inputs'?)")
    assert "cue 3 'three'" in lines[0]


def test_a_clip_that_cannot_be_read_fails_the_check(tmp_path):
    show = show_folder(tmp_path)
    (show / "clips" / "ember.mp4").write_bytes(b"\x00garbage" * 100)
    result = run_cli("check", str(show))
    assert result.returncode == 1
    assert "ember.mp4" in result.stdout and "three.toml" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "ember.mp4" in line]
    assert len(lines) == 1  # reported once, though the folder and the setlist both use it


def test_a_typo_in_the_stage_file_fails_the_check(tmp_path):
    show = show_folder(tmp_path)
    (show / "stage.toml").write_text(STAGE.replace("fit =", "fitt ="))
    result = run_cli("check", str(show))
    assert result.returncode == 1
    assert f"{show / 'stage.toml'}:4:" in result.stdout and "fitt" in result.stdout, result.stdout
