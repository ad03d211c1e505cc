"""Rehearsals: a section of the real track plays again and again in real time, and a saved preset shows at
the next frame (a broken save is refused with its line and the look stays)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.listen import listen
from engine.audio.buffer import AudioBuffer, fill
from engine.audio.feed import BufferFeed
from engine.audio.synth import drum_loop, write_wav
from engine.show.rehearsal import bar_loop
from engine.show.watch import PresetWatcher

GOOD = """name = "{name}"
[shader]
file = "effects/pulse.fs"
inputs = {{ glow = 0.5 }}
"""


def test_a_looped_section_comes_round_again_without_a_gap():
    ramp = np.arange(10, dtype=np.float32)
    out = np.empty(25, np.float32)
    fill(out, ramp, 7, loop=True)
    assert out.tolist() == [7, 8, 9, *range(10), *range(10), 0, 1]
    fill(out, ramp, 7, loop=False)
    assert out.tolist() == [7, 8, 9] + [0] * 22  # a track that ends goes silent


def test_the_feed_hears_the_drop_again_and_again():
    sr = 48000
    tone = np.sin(2 * np.pi * 440 * np.arange(sr // 2) / sr).astype(np.float32)
    track = AudioBuffer(np.stack([tone, tone], axis=1), sr)
    feed = BufferFeed(track.section(0.1, 0.3), play=False, loop=True)
    feed.start()
    time.sleep(0.9)
    heard = feed.read()
    assert len(heard) >= int(0.8 * sr)  # time keeps running: 4+ passes of a 0.2 s section
    section = tone[int(0.1 * sr) : int(0.3 * sr)]
    n = len(section)
    assert np.array_equal(heard[:n], section) and np.array_equal(heard[2 * n : 3 * n], section)


def test_a_loop_comes_round_on_the_downbeat():
    """Asked for 8.1..17.3 s of a 128 BPM break (bars of 1.875 s, kick on the one), the loop runs from the
    bar line at 7.5 s for five whole bars, so the beat and the bar run on across the loop point."""
    track = drum_loop(128, 16, 48000, pattern="breakbeat")
    heard = listen(track.samples.mean(axis=1).astype(np.float32), 48000)
    section = bar_loop(heard, 8.1, 17.3, 4, duration=30.0)
    assert section.bars == 5
    assert section.start == pytest.approx(7.5, abs=0.02)
    assert section.stop - section.start == pytest.approx(5 * 1.875, abs=0.02)
    assert bar_loop(heard, 8.1, 29.9, 4, duration=30.0).stop <= 30.0  # never past the end of the track


def test_a_loop_without_a_beat_is_left_as_asked():
    quiet = np.zeros(10 * 48000, np.float32)
    section = bar_loop(listen(quiet, 48000), 2.0, 7.0, 4, duration=10.0)
    assert (section.start, section.stop, section.bars) == (2.0, 7.0, 0)


def write_preset(path: Path, text: str) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(text)
    tmp.replace(path)  # as editors save: a new file renamed over the old one


def test_a_saved_preset_is_read_once_it_has_settled(tmp_path):
    path = tmp_path / "p.toml"
    write_preset(path, GOOD.format(name="one"))
    watcher = PresetWatcher(path, interval=0.0)
    assert watcher.poll(0.0) is None  # unchanged
    write_preset(path, GOOD.format(name="two"))
    assert watcher.poll(1.0) is None  # just changed: it may still be being written
    assert watcher.poll(2.0).name == "two"
    assert watcher.poll(3.0) is None  # once per save


def test_a_broken_save_is_refused_with_its_line_until_fixed(tmp_path):
    path = tmp_path / "p.toml"
    write_preset(path, GOOD.format(name="one"))
    watcher = PresetWatcher(path, interval=0.0)
    write_preset(path, GOOD.format(name="one").replace("glow", "glo"))
    assert watcher.poll(1.0) is None and watcher.poll(2.0) is None
    assert str(watcher.error).startswith(f"{path}:4: ")
    write_preset(path, GOOD.format(name="fixed"))
    watcher.poll(3.0)
    assert watcher.poll(4.0).name == "fixed" and watcher.error is None


def test_rehearse_loops_the_drop_and_follows_preset_saves(tmp_path):
    """The real command: a looped section of a track, the preset broken and then fixed while it plays."""
    track = write_wav(drum_loop(128, 4, 48000), tmp_path / "track.wav")
    preset = tmp_path / "p.toml"
    write_preset(preset, GOOD.format(name="one"))
    cmd = [sys.executable, "-m", "engine", "rehearse", str(track), "--preset", str(preset)]
    cmd += ["--from", "2", "--to", "4", "--loop", "--headless", "--no-sound", "--size", "160x90"]
    cmd += ["--duration", "60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = _edit_until(proc, preset, None, "showing 'one'; saving p.toml shows it at once")
        log += _edit_until(proc, preset, GOOD.format(name="one").replace("glow", "glo"), f"{preset}:4: ")
        log += _edit_until(proc, preset, GOOD.format(name="two"), "preset reloaded")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "(the look stays as it was)" in log
    assert "Traceback" not in log + err


def _edit_until(proc: subprocess.Popen, path: Path, text: str | None, wanted: str, timeout=90.0) -> str:
    """Save `text` (again every second, as a user saving twice would) until stderr shows `wanted`."""
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    log = ""
    deadline = time.monotonic() + timeout
    next_save = 0.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"rehearse exited early ({proc.returncode}): {log}{proc.stderr.read()}")
        if text is not None and time.monotonic() >= next_save:
            write_preset(path, text)
            next_save = time.monotonic() + 1.0
        for _ in sel.select(timeout=0.2):
            log += proc.stderr.readline()
        if wanted in log:
            return log
    pytest.fail(f"no '{wanted}' within {timeout} s: {log}")


def test_the_preview_shows_what_the_engine_hears(gl_ctx):
    """Tempo, confidence, bar and beat with a mark on the beat, and a meter per band, in a box at the
    preview's bottom-left; the rest of the picture untouched."""
    from engine.render.context import Offscreen
    from engine.render.overlay import PreviewOverlay, status_lines

    values = {"bpm": 128.0, "bpm_confidence": 0.82, "bar_count": 11, "bar_beat": 2, "on_beat": 0.9}
    clock, meters = status_lines({**values, "bass.level": 0.5, "high.level": 1.0})
    assert clock == "128.0 BPM  82%  bar 12 beat 3 *"
    assert meters.startswith("bass ####....  lowmid ........") and meters.endswith("high ########")
    assert status_lines({"bpm": 0.0, "silence": 1.0})[0] == "silence"

    target = Offscreen(gl_ctx, (480, 270))
    overlay = PreviewOverlay(gl_ctx)
    try:
        target.fbo.use()
        target.fbo.clear(0.0, 0.0, 0.0, 1.0)
        overlay.status = (clock, meters)
        overlay.draw(target.fbo, [])
        pixels = target.read()[..., :3]  # top row first
        assert pixels[-40:, :200].max() > 150  # bright text at the bottom left
        assert pixels[:100, :].max() == 0  # no error box: the top untouched
    finally:
        overlay.release()
        target.release()
