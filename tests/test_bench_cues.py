"""bench cues' own instruments: a long frame is split by the threads that worked in it, and the run of morphs
leaves each look time of its own before the next GO (else its frames had no median to be judged by)."""

import importlib
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
