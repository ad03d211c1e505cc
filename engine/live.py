"""Live shows: audio is heard in real time, analysis runs in its own thread, the main thread renders.

Threads share no mutable state: the analysis thread publishes each immutable `Features` snapshot by swapping
one reference; control surfaces hand over `ParamMessage`s that the render thread applies at the start of a
frame; the render thread publishes what it showed back to them.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from engine.analysis.analyzer import Analyzer
from engine.analysis.features import Features
from engine.app import Show
from engine.audio.feed import AudioFeed
from engine.clock import LiveClock
from engine.errors import HalationError
from engine.params.store import Param, ParamMessage, ParamValue
from engine.params.tempo import tempo_commands
from engine.render.context import Offscreen, headless_context
from engine.render.overlay import PreviewOverlay, status_lines
from engine.show.operator import Operator
from engine.show.preset import Preset
from engine.show.setlist import Setlist
from engine.show.watch import PresetWatcher

log = logging.getLogger(__name__)


class AnalysisThread(threading.Thread):
    """Feeds the analyzer with what the feed heard and publishes a Features snapshot per pass."""

    def __init__(self, analyzer: Analyzer, feed: AudioFeed):
        super().__init__(name="halation-analysis", daemon=True)
        self.analyzer = analyzer
        self.feed = feed
        self.features: Features = analyzer.snapshot()
        self._halt = threading.Event()
        # look as often as a capture block arrives (a hop at most): a 64-sample block read a hop late would
        # waste the latency it was chosen for
        self._period = min(analyzer.hop, feed.blocksize or analyzer.hop) / analyzer.sample_rate

    def run(self) -> None:
        while not self._halt.is_set():
            samples = self.feed.read()
            done = self.analyzer.samples_done
            if len(samples):
                self.analyzer.feed(samples)
            if self.analyzer.samples_done != done:  # a small block may not complete a hop: nothing new then
                self.features = self.analyzer.snapshot()
                self.analyzer.drain_onsets()  # events are not routed anywhere yet: keep the queues empty
                self.analyzer.drain_beats()
            self._halt.wait(self._period)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2.0)


@dataclass(frozen=True)
class ShowState:
    """What the render thread showed in a frame: published to control surfaces for feedback."""

    time: float
    values: Mapping[str, ParamValue]  # as drawn (with the music's modulation)
    features: Features
    base: Mapping[str, ParamValue] | None = None  # as the operator set them (None: same as values)
    cue: str = ""  # the setlist cue running ("3 Drop"), if any


class ControlSurface(Protocol):
    """A controller (OSC server, MIDI, sACN…): hands over parameter messages, hears back the show state."""

    def start(self, params: Mapping[str, Param]) -> None: ...

    def drain(self) -> list[ParamMessage]: ...

    def publish(self, state: ShowState) -> None: ...

    def stop(self) -> None: ...


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


def _reload(show: Show, watcher: PresetWatcher) -> None:
    """Bring in the preset just saved; one whose shaders do not build is refused and the look stays."""
    if watcher.path != show.preset.path:
        watcher.follow(show.preset.path)
    fresh = watcher.poll(time.monotonic())
    if fresh is None:
        return
    try:
        show.recall(fresh)
    except HalationError as exc:
        watcher.error = exc
        log.error("%s (the look stays as it was)", exc)


def perform(
    preset: Preset,
    feed: AudioFeed,
    *,
    size: tuple[int, int],
    fps: float = 60.0,
    duration: float | None = None,
    end: float | None = None,
    headless: bool = False,
    monitor: int | None = None,
    controls: tuple[ControlSurface, ...] = (),
    setlist: Setlist | None = None,
    preview: bool = True,
    watch_preset: bool = False,
    av_offset: float = 0.0,
    hud: bool = False,
) -> PerformStats:
    """Run the show until the window closes, `duration` seconds pass, or show time reaches `end`.

    With `monitor`, the show goes fullscreen on that monitor (the projector) and, unless `preview` is off, a
    preview window on the laptop shows the same frames plus shader errors; errors never reach the projector.
    With `watch_preset` (rehearsals), saving the preset file brings the saved look in at the next frame.
    `av_offset` (seconds) draws frames that far ahead of the audio, for the projector's delay (LiveClock).
    `hud` shows what the engine hears (tempo, confidence, bar and beat, band meters) on the preview.
    """
    window = projector = overlay = None
    title = f"Halation — {preset.name}"
    if headless:
        ctx = headless_context()
    elif monitor is not None and preview:
        from engine.output.window import ProjectorOutput

        projector = ProjectorOutput(size, title, monitor)
        projector.preview.make_current()
        overlay = PreviewOverlay(projector.preview.ctx)
        projector.output.make_current()
        ctx = projector.ctx
    else:
        from engine.output.window import Window

        window = Window(size, title, monitor=monitor)
        ctx = window.ctx
        if monitor is None:  # this window is the laptop's: it may show errors
            overlay = PreviewOverlay(ctx)
    offscreen = Offscreen(ctx, size) if headless or projector else None
    show = Show(ctx, preset, size, feed.sample_rate, live=True)
    operator = Operator(show, setlist)
    watcher = PresetWatcher(preset.path) if watch_preset else None
    screen = window or projector
    analysis = AnalysisThread(show.analyzer, feed)
    started_controls: list[ControlSurface] = []
    stats = PerformStats()
    started = time.monotonic()
    try:
        for control in controls:  # inside the try: a port in use still releases the GL show
            control.start(show.params.params)
            started_controls.append(control)
        if setlist is not None:
            operator.apply("cue.go")
        feed.start()
        clock = LiveClock(feed.position, lead=av_offset)
        analysis.start()
        watching = f"; saving {preset.path.name} shows it at once" if watcher else ""
        log.info("showing '%s'%s", preset.name, watching)
        while True:
            ft = clock.tick()
            if (end is not None and ft.time >= end) or (duration and time.monotonic() - started >= duration):
                break
            if screen and screen.should_close:
                break
            t0 = time.perf_counter()
            before = show.params.base()
            for control in controls:
                show.params.apply(control.drain())
                for command in getattr(control, "drain_commands", list)():
                    operator.apply(command.action, command.args)
            base = show.params.base()
            for command in tempo_commands(before, base, ft.time - av_offset):  # when the operator heard it
                show.analyzer.command(command)  # thread-safe: applied by the analysis thread
            if base.get("tempo.nudge"):
                show.params.set("tempo.nudge", 0.0)
            if watcher is not None:
                _reload(show, watcher)
            target = window.target() if window else offscreen.fbo
            features = analysis.features
            values = show.draw(ft, features, target)
            errors = [*show.pipeline.errors(), *([watcher.error] if watcher and watcher.error else [])]
            if overlay and hud:
                overlay.status = status_lines(show.sources)
            if window:
                if overlay:
                    overlay.draw(target, errors)
                window.present()
            elif projector:
                projector.show(offscreen.texture, overlay, errors)
            else:
                ctx.finish()
            state = ShowState(ft.time, values, features, base, operator.cue_name)
            for control in controls:
                control.publish(state)
            stats.frame_times.append(time.perf_counter() - t0)
            stats.frames += 1
            if headless:  # pace like a display would
                time.sleep(max(0.0, 1.0 / fps - (time.perf_counter() - t0)))
    finally:
        stats.seconds = time.monotonic() - started
        if analysis.is_alive():
            analysis.stop()
        feed.stop()
        for control in started_controls:
            control.stop()
        show.release()
        if offscreen:
            offscreen.release()
        if projector:
            projector.preview.make_current()
            overlay.release()
            projector.close()
        elif overlay:
            overlay.release()
        if window:
            window.close()
    return stats
