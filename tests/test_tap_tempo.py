"""Tap tempo that wins: taps at 90 BPM over the 124 BPM demo song hold the clock at 90 (tempo and tapped
phase) for many bars; only music that clearly disagrees for several bars, or the operator's "auto", gives
the clock back to the music. ×2 and ÷2 stay within the clock's tempo range however often they are pressed."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.analyzer import Analyzer
from engine.analysis.beatclock import MAX_BPM, MIN_BPM, TempoCommand
from engine.audio.synth import demo_track, drum_loop
from engine.params.show_params import show_params
from engine.params.store import ParamStore
from engine.params.tempo import tempo_commands, tempo_resets

SR = 48000
TAPS = [10.0 + k * 60.0 / 90.0 for k in range(6)]  # six taps at 90 BPM from 10 s


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return demo_track(SR).samples.mean(axis=1).astype(np.float32)  # 60 s at 124 BPM


def play(a: Analyzer, mono: np.ndarray, start: float, end: float, taps=(), every: float = 0.5):
    """Feed [start, end) s in live-sized blocks, tapping on time; (time, bpm, locked, next beat) traced."""
    pending, trace = sorted(taps), []
    block = 256
    for i in range(round(start * SR), round(end * SR), block):
        now = i / SR
        while pending and pending[0] <= now:
            a.command(TempoCommand("tap", at=pending.pop(0)))
        a.feed(mono[i : i + block])
        if i % round(every * SR) < block:
            g = a.snapshot().grid
            trace.append((now, g.bpm, g.locked, g.next_beat))
    return trace


def test_taps_at_90_over_music_at_124_hold_for_8_bars_then_the_music_wins(song):
    a = Analyzer(SR)
    play(a, song, 0, 8)
    assert a.snapshot().grid.bpm == pytest.approx(124, rel=0.01)  # the tracker hears the song
    bars8 = 8 * 4 * 60 / 90
    held = play(a, song, 8, TAPS[-1] + bars8, TAPS)
    held = [t for t in held if t[0] > TAPS[-1] + 0.1]
    assert all(bpm == pytest.approx(90, abs=0.5) and locked for _, bpm, locked, _ in held)
    phases = [((beat - TAPS[-1]) * 90 / 60) % 1.0 for _, _, _, beat in held]
    assert all(min(p, 1 - p) < 0.05 for p in phases)  # the beat stays where it was tapped
    rest = play(a, song, TAPS[-1] + bars8, 60)  # the music keeps clearly saying 124
    assert rest[-1][1] == pytest.approx(124, rel=0.01) and not rest[-1][2]


def test_auto_gives_the_clock_back_at_once(song):
    a = Analyzer(SR)
    play(a, song, 0, TAPS[-1] + 2, TAPS)
    assert a.snapshot().grid.bpm == pytest.approx(90, abs=0.5)
    a.command(TempoCommand("auto"))
    play(a, song, TAPS[-1] + 2, TAPS[-1] + 3)
    grid = a.snapshot().grid
    assert grid.bpm == pytest.approx(124, rel=0.01) and not grid.locked


def test_a_tap_the_music_agrees_with_hands_over_to_the_tracker():
    loop = drum_loop(128, 12, SR).samples.mean(axis=1).astype(np.float32)
    a = Analyzer(SR)
    taps = [6.0 + k * 60 / 128 for k in range(4)]
    play(a, loop, 0, 20, taps)
    grid = a.snapshot().grid
    assert grid.bpm == pytest.approx(128, rel=0.01) and not grid.locked  # followed, no longer held


@pytest.mark.parametrize("kind", ["double", "half"])
@pytest.mark.parametrize("setup", ["manual", "tapped", "heard", "silence"])
def test_seventeen_presses_stay_a_tempo(kind, setup):
    a = Analyzer(SR)
    if setup == "manual":
        a.command(TempoCommand("bpm", 120.0))
    elif setup == "tapped":
        for k in range(3):
            a.command(TempoCommand("tap", at=1.0 + 0.5 * k))
    elif setup == "heard":
        a.feed(drum_loop(120, 3, SR).samples.mean(axis=1).astype(np.float32))
    for _ in range(17):
        a.command(TempoCommand(kind))
    a.feed(np.zeros(512, np.float32))
    bpm = a.clock.bpm
    assert (setup == "silence" and bpm == 0) or MIN_BPM <= bpm <= MAX_BPM


def test_the_auto_parameter_clears_manual_bpm_and_lock():
    store = ParamStore(show_params())
    store.set("tempo.bpm", 100.0)
    store.set("tempo.lock", True)
    before = store.base()
    store.set("tempo.auto", True)
    after = store.base()
    assert TempoCommand("auto", at=1.0) in tempo_commands(before, after, 1.0)
    assert tempo_resets(after) == {"tempo.bpm": 0.0, "tempo.lock": False}
    assert tempo_resets(before) == {}
