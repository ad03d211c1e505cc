"""Live shows: audio plays in real time, analysis runs in its own thread, the main thread renders.

Threads share no mutable state: the analysis thread publishes each immutable `Features` snapshot by swapping
one reference; the render thread reads whichever snapshot is newest at the start of a frame.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.analysis.analyzer import Analyzer
from engine.analysis.features import Features
from engine.app import Show
from engine.audio.buffer import AudioBuffer
from engine.audio.playback import Playback
from engine.clock import LiveClock
from engine.render.context import Offscreen, headless_context
from engine.show.preset import Preset

log = logging.getLogger(__name__)


class AnalysisThread(threading.Thread):
    """Feeds the analyzer with the audio heard so far and publishes a Features snapshot per pass."""

    def __init__(self, analyzer: Analyzer, audio: AudioBuffer, position: Callable[[], float]):
        super().__init__(name="halation-analysis", daemon=True)
        self.analyzer = analyzer
        self.mono = audio.mono()
        self.position = position
        self.features: Features = analyzer.snapshot()
        self._halt = threading.Event()
        self._period = analyzer.hop / analyzer.sample_rate

    def run(self) -> None:
        while not self._halt.is_set():
            upto = min(len(self.mono), int(self.position() * self.analyzer.sample_rate))
            if upto > self.analyzer.samples_fed:
                self.analyzer.feed(self.mono[self.analyzer.samples_fed : upto])
                self.features = self.analyzer.snapshot()
                self.analyzer.drain_onsets()  # events go to the control/cue layer in later stages
            self._halt.wait(self._period)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2.0)


def monotonic_position() -> Callable[[], float]:
    start = time.monotonic()
    return lambda: time.monotonic() - start


@dataclass
class PerformStats:
    frames: int = 0
    seconds: float = 0.0
    frame_times: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.frame_times) if self.frame_times else 0.0

    def summary(self) -> str:
        fps = self.frames / self.seconds if self.seconds else 0.0
        return (
            f"{self.frames} frames in {self.seconds:.1f} s ({fps:.1f} fps), "
            f"median frame {self.median_ms:.1f} ms"
        )


def perform(
    preset: Preset,
    audio: AudioBuffer,
    *,
    size: tuple[int, int],
    fps: float = 60.0,
    duration: float | None = None,
    headless: bool = False,
    monitor: int | None = None,
    play_audio: bool = True,
    audio_device: int | str | None = None,
) -> PerformStats:
    """Run the show until the window closes, the duration passes or the audio ends."""
    end = audio.duration if duration is None else min(duration, audio.duration)
    window = None
    if headless:
        ctx = headless_context()
    else:
        from engine.output.window import Window

        window = Window(size, f"Halation — {preset.name}", monitor=monitor)
        ctx = window.ctx
    offscreen = Offscreen(ctx, size) if headless else None
    show = Show(ctx, preset, size, audio.sample_rate)
    playback = Playback(audio, device=audio_device) if play_audio else None
    position = playback.position if playback and playback.start() else None
    free_run = monotonic_position()
    clock_position = position or free_run
    analysis = AnalysisThread(show.analyzer, audio, lambda: clock_position() or 0.0)
    clock = LiveClock(position if position else free_run)
    analysis.start()
    stats = PerformStats()
    started = time.monotonic()
    try:
        while True:
            ft = clock.tick()
            if ft.time >= end or (window and window.should_close):
                break
            t0 = time.perf_counter()
            target = window.target() if window else offscreen.fbo
            show.draw(ft, analysis.features, target)
            if window:
                window.present()
            else:
                ctx.finish()
            stats.frame_times.append(time.perf_counter() - t0)
            stats.frames += 1
            if headless:  # pace like a display would
                time.sleep(max(0.0, (ft.time + 1.0 / fps) - clock.now()))
    finally:
        stats.seconds = time.monotonic() - started
        analysis.stop()
        if playback:
            playback.stop()
        show.release()
        if offscreen:
            offscreen.release()
        if window:
            window.close()
    return stats
