"""Clip playback logic: beat sync, modes, quantised transitions, selection, and the decode worker."""

import itertools
import time

import numpy as np
import pytest

from engine.clips.bank import AutoAdvance, BankClip, Selector
from engine.clips.decoder import DecodeWorker
from engine.clips.playhead import Cue, Playback, frame_index
from engine.clips.quantize import schedule
from engine.clips.sources import open_source
from engine.paths import PRESETS_DIR

NEBULA = PRESETS_DIR / "demo" / "clips" / "nebula.mp4"


def beat_at(t: float, tempo_changes: list[tuple[float, float]]) -> float:
    """Beat position at show time t for a piecewise-constant tempo [(from_time, bpm), ...]."""
    beat = 0.0
    for (t0, bpm), nxt in zip(tempo_changes, [*tempo_changes[1:], (float("inf"), 0)], strict=True):
        span = min(t, nxt[0]) - t0
        if span <= 0:
            break
        beat += span * bpm / 60
    return beat


def restarts(play, count, fps, times, tempo):
    """Show times at which a beat-synced clip jumps back to frame 0."""
    cue = Cue(0.0, 0.0)
    frames = [frame_index(play, count, fps, cue, t, beat_at(t, tempo)) for t in times]
    return [times[i] for i in range(1, len(frames)) if frames[i] < frames[i - 1]]


def test_a_four_beat_loop_restarts_every_two_seconds_at_120_bpm():
    times = np.arange(0, 10, 1 / 60)
    got = restarts(Playback(beats=4), 96, 24, times, [(0.0, 120.0)])
    assert got == pytest.approx([2.0, 4.0, 6.0, 8.0], abs=1 / 60 + 1e-9)


def test_beat_sync_follows_a_tempo_change():
    times = np.arange(0, 10, 1 / 120)
    got = restarts(Playback(beats=4), 96, 24, times, [(0.0, 120.0), (4.0, 140.0)])
    assert got[:2] == pytest.approx([2.0, 4.0], abs=1 / 120 + 1e-9)
    assert np.diff(got[1:]) == pytest.approx(4 * 60 / 140, abs=1 / 120 + 1e-9)


def test_modes_speed_and_reverse():
    cue = Cue(0.0, 0.0)

    def at(play, t):
        return frame_index(play, 10, 10, cue, t, None)

    assert [at(Playback("loop"), t) for t in (0, 0.5, 1.0, 1.2)] == [0, 5, 0, 2]
    assert [at(Playback("pingpong"), t) for t in (0.8, 0.9, 1.0, 1.7)] == [8, 9, 8, 1]
    assert [at(Playback("oneshot"), t) for t in (0.5, 3.0)] == [5, 9]
    assert at(Playback("loop", speed=2.0), 0.3) == 6
    assert at(Playback("loop", reverse=True), 0.0) == 9
    picks = {frame_index(Playback("random", beats=1), 10, 10, cue, 0, b) for b in np.arange(0, 16, 1.0)}
    assert len(picks) > 3  # a new frame on every beat


def test_transition_on_next_bar_starts_on_the_bar_line():
    t = schedule(beat_now=5.3, quantize="bar", beats=2)
    assert t.start_beat == 8.0
    assert t.progress(7.9, 0) == 0.0 and t.progress(9.0, 0) == 0.5 and t.progress(11.0, 0) == 1.0
    assert schedule(5.3, "phrase4").start_beat == 16.0
    assert schedule(5.3, "now", seconds=1.0).progress(5.3, 10.0) == 0.0


def clips(*intensity):
    return [BankClip(f"c{i}", NEBULA, x) for i, x in enumerate(intensity)]


def test_shuffle_plays_all_without_repeats():
    s = Selector(clips(0.1, 0.2, 0.3, 0.4), "shuffle", seed=3)
    picks = [s.next().name for _ in range(12)]
    assert all(set(picks[i : i + 4]) == {"c0", "c1", "c2", "c3"} for i in (0, 4, 8))
    assert all(a != b for a, b in itertools.pairwise(picks))


def test_energy_policy_picks_busy_clips_for_loud_music():
    s = Selector(clips(0.0, 0.5, 1.0), "energy")
    assert s.next(energy=0.95).name == "c2"
    assert s.next(energy=0.05).name == "c0"


def test_auto_advance_every_n_bars_or_on_a_drop():
    rule = AutoAdvance(bars=8, drop_threshold=0.65)
    assert rule.due(8, 0, 0.5, 0.5) and not rule.due(7, 0, 0.5, 0.5)
    assert rule.due(3, 0, 0.7, 0.4)


def test_decode_worker_prefetches_and_stays_bounded():
    worker = DecodeWorker(open_source(NEBULA), capacity=6)
    try:
        for start in range(0, 60, 3):
            worker.want(tuple(range(start, start + 6)))
            deadline = time.monotonic() + 2
            while not worker.ready(start) and time.monotonic() < deadline:
                time.sleep(0.002)
            frame = worker.get(start)
            assert frame is not None and frame.shape == (270, 480, 4)
            assert len(worker._cache) <= 6
    finally:
        worker.close()


def test_director_changes_clips_on_bar_lines_with_preloaded_first_frames():
    from engine.clips.bank import AutoAdvance, BankClip, Selector
    from engine.clips.deck import Director, TransitionSpec

    bank = [
        BankClip("nebula", NEBULA, 0.2),
        BankClip("ember", PRESETS_DIR / "demo" / "clips" / "ember.mp4", 0.8),
    ]
    director = Director(
        Selector(bank, "sequential"),
        AutoAdvance(bars=2, on_drop=False),
        TransitionSpec("bar", beats=2),
    )
    fps, bpm = 30, 120
    starts, first_frames = [], []
    previous = False
    try:
        for n in range(int(18 * fps)):
            t = n / fps
            beat = t * bpm / 60
            if n == 0:
                director.update(t, beat, 0.5)
                time.sleep(0.3)  # the show's first seconds: both decks preload
                continue
            mix = director.update(t, beat, 0.5)
            incoming = mix.b is not mix.a
            if incoming and not previous:
                starts.append(beat)
                first_frames.append(mix.b.index)
            previous = incoming
            time.sleep(0.002)  # live: the worker decodes while the render thread draws
    finally:
        director.close()
    assert len(starts) == 4  # every 2 bars: beats 8, 16, 24, 32
    for beat in starts:  # each transition starts on the first frame at or after a bar line
        assert beat % 4 < 1e-9 or beat % 4 > 4 - 1e-9
    assert all(i is not None and i <= 1 for i in first_frames)  # shown at once: it was preloaded


def test_the_first_change_in_a_bank_fades_even_when_the_beat_tracker_relocks():
    """In a show's first bars the tracker re-locks: the musical clock jumps forwards by up to a bar. A fade
    running then must still fade (every frame a small step), like every later one."""
    from engine.clips.bank import AutoAdvance, BankClip, Selector
    from engine.clips.deck import Director, TransitionSpec

    bank = [
        BankClip("nebula", NEBULA, 0.2),
        BankClip("ember", PRESETS_DIR / "demo" / "clips" / "ember.mp4", 0.8),
    ]
    director = Director(
        Selector(bank), AutoAdvance(bars=1, on_drop=False), TransitionSpec("bar", 4), wait=1.0
    )
    fades: list[list[float]] = []
    beat = 0.0
    try:
        for n in range(30 * 12):
            beat += 2 / 30 + (3.0 if n == 75 else 0.0)  # 120 BPM; at 2.5 s the clock jumps 3 beats
            mix = director.update(n / 30, beat, 0.5)
            if mix.progress > 0:
                if not fades or fades[-1][-1] >= mix.progress:
                    fades.append([])
                fades[-1].append(mix.progress)
    finally:
        director.close()
    assert len(fades) >= 2
    for fade in fades[:2]:  # the first change (with the jump in it) and the second
        assert len(fade) >= 20 and max(np.diff(fade)) <= 0.25 / 4 + 1e-9
