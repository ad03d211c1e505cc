"""The operator's actions on a running show: cues, preset recall, snapshots, crossfades, clip selection."""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from engine.analysis.features import silent_features
from engine.app import Show
from engine.clock import FrameTime
from engine.paths import DEMO_PRESET, PRESETS_DIR
from engine.render.context import Offscreen
from engine.show.operator import Operator
from engine.show.preset import load_preset
from engine.show.setlist import load_setlist

SIZE = (64, 36)
TUNNEL = """name = "tunnel look"
[shader]
file = "generators/tunnel.fs"
"""


@pytest.fixture
def stage(gl_ctx, tmp_path):
    shutil.copytree(PRESETS_DIR / "demo", tmp_path / "demo")
    (tmp_path / "demo" / "tunnel.toml").write_text(TUNNEL)
    (tmp_path / "demo" / "broken.toml").write_text('name = "broken"\n[shader]\nfile = "nowhere.fs"\n')
    (tmp_path / "set.toml").write_text(
        '[[cue]]\nname = "Intro"\npreset = "demo/demo.toml"\n'
        '[[cue]]\nname = "Tunnel"\npreset = "demo/tunnel.toml"\n'
    )
    show = Show(gl_ctx, load_preset(tmp_path / "demo" / "demo.toml"), SIZE, live=True)
    target = Offscreen(gl_ctx, SIZE)
    frames = iter(range(10_000))

    def draw():
        n = next(frames)
        show.draw(
            FrameTime(n, n / 30, 1 / 30, (2000.0, 1.0, 1.0, 0.0)), silent_features(("bass",)), target.fbo
        )
        time.sleep(0.01)
        return target.read()[..., :3].astype(float)

    yield show, draw, tmp_path
    target.release()
    show.release()


def test_setlist_go_back_and_goto_change_the_look(stage):
    show, draw, tmp = stage
    op = Operator(show, load_setlist(tmp / "set.toml"))
    assert op.apply("cue.go") and show.preset.name == "Halation demo"
    assert op.apply("cue.go") and show.preset.name == "tunnel look"
    draw()
    assert op.apply("cue.back") and show.preset.name == "Halation demo"
    assert op.apply("cue.goto", ("tunnel",)) and op.cue_name == "2 Tunnel"
    assert not op.apply("cue.go")  # past the last cue: nothing happens


def test_a_broken_preset_is_refused_and_the_look_stays(stage):
    show, draw, _ = stage
    op = Operator(show)
    draw()
    before = show.preset
    assert not op.apply("preset.recall", ("broken",))
    assert show.preset is before
    assert draw().mean() > 1  # still drawing the demo, not black


def test_snapshot_keeps_what_the_operator_dialled_in(stage):
    show, _, tmp = stage
    op = Operator(show)
    show.params.set("shader.glow", 0.9)
    show.params.set("master.level", 0.5)
    assert op.apply("snapshot.save", ("late night",))
    saved = load_preset(tmp / "demo" / "snapshots" / "late night.toml")
    assert saved.inputs["glow"] == pytest.approx(0.9) and saved.master == 0.5
    show.params.set("shader.glow", 0.1)
    assert op.apply("preset.recall", ("late night",))
    assert show.params.base()["shader.glow"] == pytest.approx(0.9)


def test_a_recalled_preset_brings_its_songs_tempo_range_and_a_snapshot_keeps_the_desks(stage):
    show, _, tmp = stage
    dnb = TUNNEL.replace("tunnel look", "dnb") + "[tempo]\nrange = [160, 180]\n"
    (tmp / "demo" / "dnb.toml").write_text(dnb)
    op = Operator(show)
    show.params.set("tempo.max", 140.0)  # the desk's range for the song before
    show.params.set("tempo.bpm", 0.0)
    assert op.apply("preset.recall", ("dnb",))
    values = show.params.base()
    assert (values["tempo.min"], values["tempo.max"], values["tempo.beats_per_bar"]) == (160.0, 180.0, 4.0)
    show.params.set("tempo.beats_per_bar", 3)
    assert op.apply("snapshot.save", ("waltz dnb",))
    saved = load_preset(tmp / "demo" / "snapshots" / "waltz dnb.toml")
    assert saved.bpm_range == (160.0, 180.0) and saved.beats_per_bar == 3


def test_fired_crossfade_moves_to_the_other_deck(stage):
    show, draw, _ = stage
    op = Operator(show)
    op.apply("transition.duration", (0.2,))
    for deck in show.pipeline.clips.decks:  # loaded long before a fire in a show; here just now
        assert deck.wait_ready(), f"deck {deck.name} decodes its first frame"
    cool = draw()
    assert op.apply("transition.fire")
    for _ in range(12):
        warm = draw()
    warmth = lambda img: img[..., 0].mean() - img[..., 2].mean()  # noqa: E731
    assert warmth(warm) > warmth(cool) + 10  # ember (deck B) is on air now


def test_select_a_clip_by_name_on_a_deck(stage):
    show, _, _ = stage
    op = Operator(show)
    assert op.apply("deck.select", ("a", "ember"))
    assert show.pipeline.clips.decks[0].clip.stem == "ember"
    assert not op.apply("deck.select", ("a", "no such clip"))


def test_actions_that_do_nothing_are_reported_when_they_happen(stage):
    show, _, tmp = stage
    op = Operator(show, load_setlist(tmp / "set.toml"))
    assert not op.apply("cue.back")
    assert "already at the first cue" in op.notices.last.text
    op.apply("cue.go")
    op.apply("cue.go")
    assert not op.apply("cue.go")
    assert "no cue after 2 'Tunnel', the last" in op.notices.last.text
    assert not op.apply("cue.goto", ("tunel",))
    assert "did you mean 'Tunnel'" in op.notices.last.text
    assert not op.apply("preset.recall", ("tunnle look",))
    assert "no preset named" in op.notices.last.text
    assert not op.apply("deck.select", ("a", "inf"))  # a name that is a number nobody can index by
    assert op.notices.count == 5 and show.preset.name == "tunnel look"
    assert op.status() == {"cue": "2 Tunnel", "cue_next": "", "preset": "tunnel look"}


def test_recall_by_name_finds_the_setlists_presets_wherever_the_current_one_lives(stage, tmp_path):
    show, _, tmp = stage
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far.toml").write_text(TUNNEL.replace("tunnel look", "far away"))
    (tmp / "set.toml").write_text(
        (tmp / "set.toml").read_text() + '[[cue]]\nname = "Far"\npreset = "elsewhere/far.toml"\n'
    )
    op = Operator(show, load_setlist(tmp / "set.toml"))
    assert op.apply("preset.recall", ("far away",)) and show.preset.name == "far away"
    assert op.apply("preset.recall", ("demo",)) and show.preset.name == "Halation demo"


def test_a_burst_of_recalls_builds_only_the_last_look(stage, monkeypatch):
    from engine.control.commands import ControlCommand

    show, _, tmp = stage
    op = Operator(show, load_setlist(tmp / "set.toml"))
    built = []
    monkeypatch.setattr(op, "_bring_in", built.append)
    burst = [ControlCommand("preset.recall", ("tunnel",))] * 50 + [ControlCommand("cue.go")] * 2
    op.apply_all(burst)
    assert len(built) == 1 and built[0].name == "tunnel.toml" and op.setlist.current == 1


@pytest.mark.parametrize("name", ["../../x", "sub/dir", "/etc/passwd", ".hidden"])
def test_a_snapshot_name_with_a_folder_in_it_writes_nothing(stage, name):
    show, _, tmp = stage
    op = Operator(show)
    before = sorted(str(p) for p in tmp.parent.rglob("*"))
    assert not op.apply("snapshot.save", (name,))
    assert sorted(str(p) for p in tmp.parent.rglob("*")) == before
    assert "not a usable name" in op.notices.last.text


def test_a_snapshot_of_a_shipped_preset_goes_to_the_users_folder_not_the_package(
    gl_ctx, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    show = Show(gl_ctx, load_preset(DEMO_PRESET), SIZE, live=True)
    try:
        op = Operator(show)
        assert op.apply("snapshot.save", ("mine",))
        assert (tmp_path / "halation" / "snapshots" / "mine.toml").is_file()
        assert not list(PRESETS_DIR.rglob("mine.toml"))
    finally:
        show.release()


def test_a_snapshot_over_an_existing_one_keeps_the_old_as_a_backup(stage):
    show, _, tmp = stage
    op = Operator(show)
    show.params.set("shader.glow", 0.2)
    assert op.apply("snapshot.save", ("take",))
    show.params.set("shader.glow", 0.7)
    assert op.apply("snapshot.save", ("take",))
    folder = tmp / "demo" / "snapshots"
    assert load_preset(folder / "take.toml").inputs["glow"] == pytest.approx(0.7)
    assert "glow = 0.2" in (folder / "take.toml.bak").read_text()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 128 KB tmpfs: a real full filesystem (the test needs root to mount it)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path) -> None:
    """Fill a filesystem to its last block."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_snapshot_onto_a_full_disk_loses_nothing(stage, tiny_disk):
    show, _, _ = stage
    op = Operator(show, snapshots=tiny_disk)
    assert op.apply("snapshot.save", ("keep",))
    good = (tiny_disk / "keep.toml").read_text()
    fill(tiny_disk / "filler")
    show.params.set("shader.glow", 0.33)
    assert not op.apply("snapshot.save", ("keep",))
    assert "nothing was changed" in op.notices.last.text
    assert (tiny_disk / "keep.toml").read_text() == good
    assert not [p for p in tiny_disk.iterdir() if p.name.endswith(".tmp")]


def test_a_snapshot_into_a_read_only_folder_is_a_clear_error(stage, tiny_disk):
    show, _, _ = stage
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    op = Operator(show, snapshots=tiny_disk / "snaps")
    assert not op.apply("snapshot.save", ("x",))
    assert "Read-only file system" in op.notices.last.text


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools not installed")
def test_a_desk_steps_through_the_setlist_over_osc(tmp_path):
    (tmp_path / "tunnel.toml").write_text(TUNNEL)
    (tmp_path / "set.toml").write_text(
        f'[[cue]]\nname = "Intro"\npreset = "{DEMO_PRESET}"\n'
        '[[cue]]\nname = "Tunnel"\npreset = "tunnel.toml"\n'
    )
    port = free_port()
    show = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "perform",
            "--headless",
            "--no-sound",
            "--duration",
            "6",
            "--size",
            "160x90",
            "--setlist",
            str(tmp_path / "set.toml"),
            "--osc-port",
            str(port),
            "--no-zeroconf",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    heard = _read_until(show, "showing '", timeout=60)  # the first frame is on screen
    subprocess.run(["oscsend", "localhost", str(port), "/hl/cue/go"], check=True)
    _, rest = show.communicate(timeout=60)
    err = heard + rest
    assert show.returncode == 0, err
    assert "cue 1 Intro" in err and "cue 2 Tunnel" in err


def _read_until(proc: subprocess.Popen, text: str, timeout: float) -> str:
    """The process's stderr up to and including the first line containing `text` (fails on timeout)."""
    import selectors

    seen, deadline = "", time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr, selectors.EVENT_READ)
        while text not in seen:
            left = deadline - time.monotonic()
            assert left > 0 and proc.poll() is None, f"never said {text!r}:\n{seen}"
            if sel.select(timeout=left):
                line = proc.stderr.readline()
                seen += line
    return seen
