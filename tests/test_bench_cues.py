"""bench cues' own instruments: a long frame is split by the threads that worked in it, and the run of morphs
leaves each look time of its own before the next GO (else its frames had no median to be judged by)."""

import importlib
import itertools
import statistics
import sys
import threading
import time

import pytest
from conftest import ROOT


def _cues():
    """bench/cues.py, which lives beside the package (the benches are run from the checkout)."""
    sys.path.insert(0, str(ROOT))
    return importlib.import_module("bench.cues")


def _spin(cpu_seconds: float, then: threading.Event | None = None, done: threading.Event | None = None):
    until = time.thread_time() + cpu_seconds
    while time.thread_time() < until:
        pass
    if done is not None:
        done.set()
    if then is not None:
        then.wait()


def test_a_frame_is_split_by_the_threads_that_worked_in_it():
    clock = _cues().ThreadClock()
    spun, end = threading.Event(), threading.Event()
    worker = threading.Thread(target=_spin, args=(0.05, end, spun), name="halation-analysis")
    clock.sample()
    worker.start()  # born between the readings: all its CPU counts in the frame
    spun.wait()
    _spin(0.02)  # the render thread's own work
    time.sleep(0.03)  # ...then blocked (not a wait for readiness: what the clock must tell apart)
    clock.sample()
    end.set()
    worker.join()
    parts = clock.frame(1)
    clock.close()
    assert parts["analysis"] >= 49.0  # ms: the analysis thread's 50 ms
    assert 18.0 <= parts["render"] < 45.0
    assert parts["raster"] == 0.0 and parts["clips"] == 0.0
    assert parts["else"] >= 25.0 and parts["gpu"] == 0.0  # blocked 30 ms, none of it on the GL


def test_a_run_of_morphs_holds_the_next_go_for_as_long_as_the_morph_played():
    for morphs in (True, False):
        desk = _cues().CueDesk(every=2.0, presses=3, morphs=morphs)
        desk.pressed.append(time.monotonic())
        desk._next = desk.pressed[-1] + 2.0
        desk.retarget(None)  # the look came in
        _spin(0.01)
        desk.retarget(None)  # its morph ended
        played = desk.retargets[-1] - desk.retargets[-2]
        assert desk._next == pytest.approx(desk.pressed[-1] + 2.0 + (played if morphs else 0.0))


def test_a_run_of_morphs_presses_no_go_while_the_last_morph_plays_nor_before_its_look_had_time():
    cues = _cues()
    desk = cues.CueDesk(every=2.0, presses=3, morphs=True)
    desk.pressed.append(time.monotonic() - 2.5)  # the last GO: its 2 s are over, its look came in late
    desk._next = desk.pressed[-1] + 2.0
    desk.retarget(None)  # its look came in, its morph plays
    assert desk.drain_commands() == []
    desk.retarget(None)  # the morph ended
    assert desk._next == pytest.approx(desk.retargets[-1] + cues.SETTLE + 1.0)  # half a GO of its own
    assert desk.drain_commands() == []


HEAVY, LIGHT = ("dnb-neon-clips",), ("ambient-smoke",)  # a 45 ms look and a 12 ms one (llvmpipe, 640x360)


def _judged(*segments: tuple[float, tuple[str, ...], int, str]) -> list[float]:
    """bench cues' judge over a made-up run, each change's worst ratio. A segment: `count` frames of
    `seconds` that drew `looks`, its first marked "go" (a GO pressed as it is shown), "on" (a look came
    on: the show retargets) or ""."""
    cues = _cues()
    run = [(t, looks, mark if i == 0 else "") for t, looks, count, mark in segments for i in range(count)]
    stamps = list(itertools.accumulate(t for t, _, _ in run))
    pressed = [s for s, (_, _, mark) in zip(stamps, run, strict=True) if mark == "go"]
    retargets = [s for s, (_, _, mark) in zip(stamps, run, strict=True) if mark == "on"]
    times, drew = [t for t, _, _ in run], [looks for _, looks, _ in run]
    found, steady = cues.changes(times, stamps, pressed, retargets, 1.0, stamps[-1] + 1.0, drew)
    return [change.ratio(statistics.median(steady)) for change in found]


def test_a_heavy_looks_frames_in_a_change_are_held_to_its_own_median_not_the_next_looks():
    """A burst's heavy look had 6 steady frames before the next GO: its 60 ms frames were judged by the
    light look's 12 ms median (5x). Its own steady frames in the run say 45 ms: 1.3x."""
    ratios = _judged(
        (0.045, HEAVY, 60, ""),  # the first look (the judge skips the run's first second)
        (0.012, LIGHT, 200, "go"),  # GO 1: a light look, on at once
        (0.045, HEAVY, 28, "go"),  # GO 2: the heavy look again for 1.26 s, 6 frames of it past its window
        (0.060, HEAVY, 5, "go"),  # GO 3: the heavy look plays on while the next one is built...
        (0.012, LIGHT, 150, "on"),  # ...and comes on
    )
    assert len(ratios) == 3
    assert ratios[2] == pytest.approx(0.060 / 0.045, rel=0.02)


def test_the_judge_fails_a_real_spike_of_a_change_in_the_look_it_hits():
    """A shader compiled on the render thread at the new look's first frame, a clip opened on it while the
    old look plays, a morph frame that draws both looks whole: each over 2x the median of the look drawn,
    even where the slower look of the change would have hidden it."""
    before, go, after = (0.045, HEAVY, 60, ""), (0.045, HEAVY, 1, "go"), (0.012, LIGHT, 150, "")
    on = (0.012, LIGHT, 1, "on")
    compiled = _judged(before, go, (0.060, LIGHT, 1, "on"), after)  # 5x the light look; 1.3x the heavy one
    opened = _judged(before, go, (0.110, HEAVY, 1, ""), on, after)
    morphed = _judged(before, go, on, (0.100, HEAVY + LIGHT, 1, ""), after)  # both looks drawn, 100 ms
    calm = _judged(before, go, (0.060, HEAVY, 3, ""), (0.014, LIGHT, 1, "on"), after)
    assert compiled[0] == pytest.approx(5.0, rel=0.02)
    assert opened[0] == pytest.approx(0.110 / 0.045, rel=0.02)
    assert morphed[0] == pytest.approx(0.100 / 0.045, rel=0.02)
    assert calm[0] < 2.0  # frames within what their looks take: not a spike


def test_a_burst_holds_the_next_go_until_its_look_is_on_and_has_had_time_and_frames_of_its_own():
    cues = _cues()
    desk = cues.CueDesk(every=2.0, presses=2, burst=100, cues=3)
    desk.start(None)
    desk._next = time.monotonic() - 1.0
    assert desk.drain_commands()  # GO 1: its burst begins (its last change goes to cue 2)
    desk._burst.clear()  # (its changes all sent)
    desk._next = time.monotonic() - 1.0  # its 2 s are over, but...
    desk._came_on("3 techno-tunnel")  # ...a look of the burst on the way is on, not the GO's
    assert desk._on == 0 and desk.drain_commands() == []
    desk._came_on("2 ambient-smoke")
    assert desk._on == 1
    assert desk._next == pytest.approx(time.monotonic() + cues.SETTLE + 1.0, abs=0.05)
    assert desk.drain_commands() == []  # the look's own time first
    desk._next = time.monotonic() - 1.0  # its time is over...
    desk._own_frames = cues.OWN_FRAMES - 1  # ...but a slow machine showed it in too few frames
    assert desk.drain_commands() == []
    desk._own_frames += 1
    assert desk.drain_commands() and len(desk.pressed) == 2


def test_a_look_that_came_in_late_still_gets_its_own_frames_before_the_next_go():
    """A heavy look that took longer than 3 GOs to come in and morph (a loaded machine) is not cut short:
    only a look that never comes lets the next GO through."""
    cues = _cues()
    desk = cues.CueDesk(every=2.0, presses=3, morphs=True)
    desk.pressed.append(time.monotonic() - 7.0)  # 3 GOs' time ago
    assert desk._holding(time.monotonic()) is False  # its look never came: the run goes on
    desk.retarget(None)
    desk.retarget(None)  # ...now it came in, and its morph ended
    desk._next = time.monotonic() - 1.0
    assert desk._holding(time.monotonic()) and desk.drain_commands() == []
    desk._own_frames = cues.OWN_FRAMES
    assert desk.drain_commands() == [cues.ControlCommand("cue.go")]
