"""Morphs: a cue with `morph = "1 bar"` waits for the next bar line, then crossfades the two looks over one
bar through a transition; before it the old look is untouched, after it the new look is exactly its own."""

import hashlib
import json
from pathlib import Path

import pytest

from engine.analysis.features import BeatGrid
from engine.audio.buffer import AudioBuffer
from engine.audio.synth import drum_loop
from engine.errors import HalationError
from engine.offline import render_frames
from engine.show.events import ReplayHook, load_take
from engine.show.morph import MorphSpec, parse_morph, start_time
from engine.show.perflog import PerfLog, PerfLogHook
from engine.show.preset import load_preset
from engine.show.setlist import load_setlist

FPS = 10.0


def test_morph_lengths_read_as_a_vj_writes_them():
    assert parse_morph("4 bars") == MorphSpec(4.0, "bars", "beat", "fade")
    assert parse_morph("2 beats luma_wipe", "bar") == MorphSpec(2.0, "beats", "bar", "luma_wipe")
    assert parse_morph("1.5 s").seconds(128.0) == 1.5
    assert parse_morph("4 bars").seconds(120.0) == 8.0
    assert parse_morph(2.5) == MorphSpec(2.5, "seconds", "now", "fade")  # a desk's /hl/cue/go s "2.5"
    with pytest.raises(HalationError, match="beats, bars or seconds"):
        parse_morph("4 furlongs")
    with pytest.raises(HalationError, match="quantize 'later'"):
        parse_morph("1 bar", "later")


def test_a_morph_starts_on_the_next_beat_bar_or_now():
    grid = BeatGrid(bpm=120.0, confidence=1.0, last_beat=10.0, next_beat=10.5, count=21, downbeat=0)
    assert start_time(parse_morph("1 bar", "beat"), 10.2, grid) == pytest.approx(10.5)
    assert start_time(parse_morph("1 bar", "bar"), 10.2, grid) == pytest.approx(12.0)  # beat 24 starts bar 6
    assert start_time(parse_morph("1 bar", "now"), 10.2, grid) == 10.2


SETLIST = """
[[cue]]
name = "Tunnel"
preset = "a.toml"
[[cue]]
name = "Aurora"
preset = "b.toml"
morph = "1 bar"
quantize = "bar"
"""


def _hashes(preset, audio, hooks=()):
    return [
        hashlib.sha256(rgba).hexdigest()
        for _, rgba in render_frames(preset, audio, (64, 36), FPS, 12.0, hooks)
    ]


@pytest.mark.slow
def test_a_cue_morph_waits_for_the_bar_then_crossfades_for_one_bar(tmp_path):
    (tmp_path / "a.toml").write_text('name = "a"\n[shader]\nfile = "generators/tunnel.fs"\n')
    (tmp_path / "b.toml").write_text('name = "b"\n[shader]\nfile = "generators/aurora.fs"\n')
    (tmp_path / "set.toml").write_text(SETLIST)
    take = tmp_path / "take.jsonl"
    take.write_text(
        json.dumps({"event": "take"}) + "\n" + json.dumps({"t": 6.3, "frame": 0, "action": "cue.go"})
    )
    track = drum_loop(120.0, 6)  # a bar every 2 s
    audio = AudioBuffer(track.samples, track.sample_rate)
    a, b = load_preset(tmp_path / "a.toml"), load_preset(tmp_path / "b.toml")
    hook = ReplayHook(load_take(take), load_setlist(tmp_path / "set.toml"))
    log = tmp_path / "log.jsonl"
    show = _hashes(a, audio, [hook, PerfLogHook(PerfLog(log, "render"), lambda: hook.cue_name)])
    only_a, only_b = _hashes(a, audio), _hashes(b, audio)
    mixed = [i for i, h in enumerate(show) if h not in (only_a[i], only_b[i])]
    assert show[: round(6.3 * FPS)] == only_a[: round(6.3 * FPS)]  # the GO changes nothing until the bar
    assert mixed, "no frame of the morph mixed the two looks"
    start, end = mixed[0] / FPS, mixed[-1] / FPS  # the first frame with some of the new look
    assert 6.3 < start <= 6.3 + 2.0 + 1 / FPS  # a bar line (as the beat clock counts bars) after the GO
    assert min(start % 0.5, 0.5 - start % 0.5) <= 1 / FPS + 1e-9  # on a beat: bar lines are beats
    assert 1.6 <= end - start <= 2.0  # one bar at 120 BPM
    after = round((end + 0.2) * FPS)
    assert show[after:] == only_b[after:]  # then the new look, exactly as it draws on its own
    records = [json.loads(line) for line in log.read_text().splitlines()]
    looks = [sorted(Path(s["file"]).stem for s in r["shaders"]) for r in records if r["event"] == "look"]
    assert looks == [["tunnel"], ["tunnel"], ["aurora", "tunnel"], ["aurora"]]  # GO, morph, its end


def test_a_setlist_refuses_a_morph_it_cannot_play_with_its_line(tmp_path):
    (tmp_path / "a.toml").write_text('name = "a"\n[shader]\nfile = "generators/tunnel.fs"\n')
    bad = tmp_path / "set.toml"
    bad.write_text(
        '[[cue]]\npreset = "a.toml"\nmorph = "4 bars"\n[[cue]]\npreset = "a.toml"\nmorph = "4 parsecs"\n'
    )
    with pytest.raises(HalationError, match=r"set\.toml:6: morph '4 parsecs'"):
        load_setlist(bad)
    bad.write_text('[[cue]]\npreset = "a.toml"\nmorph = "2 beats spiral"\n')
    with pytest.raises(HalationError, match=r"set\.toml:3: no transition 'spiral'"):
        load_setlist(bad)
    bad.write_text('[[cue]]\npreset = "a.toml"\nmorph = "2 beats zoom_blur"\nquantize = "bar"\n')
    assert load_setlist(bad).cues[0].morph == "2 beats zoom_blur"
