"""Takes you can replay: a headless show driven by liblo's oscsend records its control events; two offline
renders of that take are bit-identical, and every cue falls on the render frame that shows its live moment."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from pathlib import Path

import pytest
from conftest import run_cli
from test_control_e2e import Performance, oscsend

from engine.audio.synth import drum_loop, write_wav
from engine.errors import HalationError
from engine.params.store import ParamMessage
from engine.show.events import EventRecorder, Replay, load_take

FPS = 30
SETLIST = """
[[cue]]
name = "Tunnel"
preset = "tunnel.toml"
[[cue]]
name = "Aurora"
preset = "aurora.toml"
[[cue]]
name = "Rings"
preset = "rings.toml"
"""


def _looks(log: Path) -> list[dict]:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("event") == "look"]


def _wait_for_cue(log: Path, cue: str, timeout: float = 60.0) -> list[dict]:
    """The looks shown so far, once the cue's look is on screen (built aside, it comes in frames later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        looks = _looks(log) if log.exists() else []
        if any(look["cue"] == cue for look in looks):
            return looks
        time.sleep(0.05)
    pytest.fail(f"the show never showed cue {cue}: {log.read_text() if log.exists() else 'no log'}")


def _render(
    tmp_path: Path, name: str, track: Path, take: Path, seconds: float
) -> tuple[list[str], list[dict]]:
    frames, log = tmp_path / name, tmp_path / f"{name}.jsonl"
    result = run_cli(
        *("render", "--audio", str(track), "--setlist", str(tmp_path / "set.toml"), "--replay", str(take)),
        *("--frames", str(frames), "--size", "64x36", "--fps", str(FPS), "--duration", f"{seconds:.3f}"),
        *("--log", str(log)),
    )
    assert result.returncode == 0, result.stderr
    hashes = [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(frames.glob("*.png"))]
    return hashes, _looks(log)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")
def test_a_take_sent_by_oscsend_replays_bit_identically_with_cues_on_the_live_frames(tmp_path):
    track = write_wav(drum_loop(120.0, 10), tmp_path / "loop.wav")  # 20 s
    for name, shader in (("tunnel", "tunnel"), ("aurora", "aurora"), ("rings", "spectrum_rings")):
        (tmp_path / f"{name}.toml").write_text(
            f'name = "{name}"\n[shader]\nfile = "generators/{shader}.fs"\n'
        )
    (tmp_path / "set.toml").write_text(SETLIST)
    take, live_log = tmp_path / "take.jsonl", tmp_path / "live.jsonl"
    show = Performance(
        *("--audio", str(track), "--setlist", str(tmp_path / "set.toml"), "--size", "64x36"),
        *("--record-events", str(take), "--log", str(live_log)),
    )
    try:
        _wait_for_cue(live_log, "1 Tunnel")
        udp = str(show.ports["udp"])
        oscsend("localhost", udp, "/hl/cue/go")
        _wait_for_cue(live_log, "2 Aurora")
        oscsend("localhost", udp, "/hl/master/level", "f", "0.5")
        oscsend("localhost", udp, "/hl/cue/go")
        live = _wait_for_cue(live_log, "3 Rings")
    finally:
        output = show.stop()
    assert f"performance log: {live_log}" in output
    events = load_take(take).events
    assert [e.action for e in events if e.action] == ["cue.go", "cue.go"]
    assert [(e.param, e.value) for e in events if e.param == "master.level"] == [("master.level", 0.5)]
    cues = [look["cue"] for look in live]  # the first cue's look may be built aside while the preset shows
    assert cues in (["1 Tunnel", "2 Aurora", "3 Rings"], ["", "1 Tunnel", "2 Aurora", "3 Rings"])
    adopted = [a.preset.stem for a in load_take(take).adoptions]  # each built aside, adopted frames later
    assert adopted == ["tunnel", "aurora", "rings"][-len(adopted) :] and len(adopted) >= 2

    seconds = live[-1]["t"] + 0.5
    first, looks = _render(tmp_path, "one", track, take, seconds)
    second, _ = _render(tmp_path, "two", track, take, seconds)
    assert len(first) == round(seconds * FPS) and first == second  # bit-identical replays
    assert [look["cue"] for look in looks] == cues
    for live_look, render_look in zip(live[1:], looks[1:], strict=True):  # the frame showing the live moment
        assert render_look["frame"] == math.ceil(live_look["t"] * FPS - 1e-6)
    changed = {look["frame"] for look in looks[1:]}
    for frame in changed:  # and the picture changes there
        assert first[frame] != first[frame - 1]


def test_a_take_round_trips_its_events_and_hands_them_out_frame_by_frame(tmp_path):
    recorder = EventRecorder(tmp_path / "take.jsonl", preset=Path("a.toml"), av_offset=0.05)

    class Ft:
        def __init__(self, index, time):
            self.index, self.time = index, time

    from engine.control.commands import ControlCommand

    recorder.record(Ft(3, 0.1), "osc", [ParamMessage("shader.tint", (1.0, 0.5, 0.0, 1.0))], [])
    recorder.record(
        Ft(9, 0.3), "midi", [ParamMessage("tempo.tap", True)], [ControlCommand("cue.goto", ("Drop",))]
    )
    recorder.close()
    take = load_take(tmp_path / "take.jsonl")
    assert take.av_offset == 0.05
    replay = Replay(take)
    assert replay.due(0.0999) == ()
    [tint] = replay.due(1 / 30 * 3)
    assert tint.value == (1.0, 0.5, 0.0, 1.0) and tint.source == "osc"
    tap, goto = replay.due(0.3)
    assert (tap.param, tap.value, goto.action, goto.args) == ("tempo.tap", True, "cue.goto", ("Drop",))
    assert replay.done


def test_a_damaged_take_is_refused_with_its_line(tmp_path):
    path = tmp_path / "take.jsonl"
    lines = [
        '{"event": "take", "version": 1}',
        '{"t": 1.0, "frame": 3}',
        '{"t": 2.0, "frame": 6, "action": "go"}',
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(HalationError, match=r"take\.jsonl:2: not a take"):
        load_take(path)
