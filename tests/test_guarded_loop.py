"""The guarded frame loop: whatever one stage of a frame throws (a sink, a control surface, an analysis
subscriber, an effect), the show renders on, the operator is told once, and the other stages go on."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from engine.audio.buffer import AudioBuffer
from engine.audio.feed import BufferFeed
from engine.commands.common import load_music
from engine.live import AnalysisThread, perform
from engine.paths import DEMO_PRESET
from engine.runtime.guard import Guards
from engine.show.preset import load_preset


class Broken:
    """A sink that fails every frame."""

    name = "broken"

    def __init__(self):
        self.calls = 0

    def present(self, frame, info) -> None:
        self.calls += 1
        raise RuntimeError("the sender lost its socket")

    def release(self) -> None:
        pass


class Recorder:
    """A sink that keeps what the loop handed it: the frame's brightness and the banner."""

    name = "recorder"

    def __init__(self):
        self.frames: list[tuple[int, float, tuple[str, ...]]] = []

    def present(self, frame, info) -> None:
        pixels = np.frombuffer(frame.read(), np.uint8)
        self.frames.append((info.index, float(pixels.reshape(-1, 4)[:, :3].mean()), info.errors))

    def release(self) -> None:
        pass


class FlakyDesk:
    """A control surface whose drain raises on every other frame (a driver bug)."""

    def __init__(self):
        self.published = 0
        self._n = 0

    def start(self, params) -> None:
        pass

    def drain(self) -> list:
        self._n += 1
        if self._n % 2:
            raise ZeroDivisionError("float division by zero")
        return []

    def publish(self, state) -> None:
        self.published += 1

    def stop(self) -> None:
        pass


def test_guards_swallow_count_and_log_once(caplog):
    guards = Guards()
    caplog.set_level(logging.ERROR)
    for _ in range(5):
        with guards.stage("sink ndi") as stage:
            raise OSError("network is unreachable")
        assert not stage.ok
    assert guards.counts["sink ndi"] == 5
    assert len([r for r in caplog.records if "sink ndi failed" in r.getMessage()]) == 1
    assert "network is unreachable" in str(guards.last_error) and "x5" in str(guards.last_error)
    assert guards.errors()  # on the banner
    with guards.stage("sink ndi") as stage:
        pass
    assert stage.ok and guards.errors()  # recovered: the banner stays a few seconds, then goes
    assert not guards.errors(time.monotonic() + 6.0)
    with pytest.raises(KeyboardInterrupt), guards.stage("control drain"):
        raise KeyboardInterrupt  # the operator's Ctrl-C still ends the show


def test_a_failing_stage_backs_off_before_its_retry():
    guards = Guards()
    stage = guards.stage("sink broken", backoff=0.2)
    with stage:
        raise RuntimeError("x")
    assert stage.skip()
    time.sleep(0.25)  # the back-off itself is what is tested, not readiness
    assert not stage.skip()


def test_a_show_renders_on_through_a_broken_sink_and_a_flaky_desk():
    broken, recorder, desk = Broken(), Recorder(), FlakyDesk()
    stats = perform(
        load_preset(DEMO_PRESET),
        BufferFeed(load_music(None), play=False),
        size=(64, 36),
        fps=30,
        duration=2.0,
        headless=True,
        controls=(desk,),
        sinks=(broken, recorder),
    )
    assert stats.frames >= 20
    assert len(recorder.frames) == stats.frames  # the other sink saw every frame
    assert 1 <= broken.calls < stats.frames // 2  # dropped, retried after a back-off, not every frame
    assert desk.published == stats.frames  # the desk still hears the show
    banner = " ".join(recorder.frames[-1][2])
    assert "sink broken: RuntimeError: the sender lost its socket" in banner
    assert "control drain (FlakyDesk)" in banner
    assert min(b for _, b, _ in recorder.frames[1:]) > 0  # never a black frame


def test_analysis_events_reach_subscribers_and_nan_samples_are_heard_as_silence():
    rate = 48000
    t = np.arange(rate * 4) / rate
    clicks = np.zeros_like(t, dtype=np.float32)
    for beat in np.arange(0.25, 4.0, 0.5):  # 120 BPM clicks
        i = int(beat * rate)
        clicks[i : i + 240] = np.sin(2 * np.pi * 1000 * t[:240]) * 0.8
    clicks[rate : rate + rate // 5] = np.nan  # 0.2 s of NaN from a broken driver
    feed = BufferFeed(AudioBuffer(clicks[:, None], rate), play=False)
    from engine.analysis.analyzer import Analyzer

    thread = AnalysisThread(Analyzer(rate), feed)
    heard: list = []
    thread.subscribe(heard.append)
    thread.subscribe(lambda event: 1 / 0)  # a bad subscriber does not keep the events from the good one
    feed.start()
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and feed.position() < 4.0:
        time.sleep(0.05)
    thread.stop()
    assert thread.non_finite == rate // 5
    onsets = [e for e in heard if type(e).__name__ == "Onset"]
    assert len(onsets) >= 5  # the clicks after the NaN burst are still heard
    assert any(e.time > 1.5 for e in onsets)
    assert np.isfinite(thread.features.values()["bass.level"])
    assert thread.is_alive() is False and thread.guards.counts.get("analysis", 0) == 0
