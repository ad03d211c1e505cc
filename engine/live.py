"""Live shows: audio is heard in real time, analysis runs in its own thread, the main thread renders.

Threads share no mutable state: the analysis thread publishes each immutable `Features` snapshot by swapping
one reference; control surfaces hand over `ParamMessage`s that the render thread applies at the start of a
frame; the render thread publishes what it showed back to them.

The frame loop is small: it draws each frame once into an offscreen texture at the render size and hands it
to every sink (engine.output.sink): the projector, the preview with its overlay, a recorder... Every stage of
a frame runs inside a guard (engine.runtime.guard): an exception bypasses that stage for the frame, is logged
once and shown on the preview; only the operator ends a show.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.analysis.analyzer import Analyzer
from engine.analysis.features import Features
from engine.app import Show, build_params
from engine.audio.feed import AudioFeed, FiniteFeed, finite
from engine.clock import FrameTime, LiveClock
from engine.output.recorder import Recorder
from engine.output.sink import FrameInfo, Sink, finish_gpu
from engine.output.stage import Stage, default_stage
from engine.output.stage_sinks import open_stage_outputs
from engine.params.store import Param, ParamMessage, ParamValue
from engine.params.tempo import tempo_commands, tempo_resets
from engine.render.context import Offscreen
from engine.runtime.collector import give_startup_heap_back, set_startup_heap_aside
from engine.runtime.guard import Guards
from engine.runtime.priority import Priority, raise_thread_priority
from engine.runtime.resources import tune_allocator
from engine.runtime.watchdog import Watchdog
from engine.show.autopilot import Autopilot, AutopilotDriver
from engine.show.events import EventRecorder
from engine.show.operator import Operator
from engine.show.perflog import PerfLog, PerfLogSink
from engine.show.preset import Preset
from engine.show.setlist import Setlist
from engine.show.watch import PresetWatcher
from engine.sync.stage import FeatureStage, run_stages, stages_status

log = logging.getLogger(__name__)

SINK_RETRY = 0.5  # seconds before a sink that raised is tried again (doubling up to 8 s)
NON_FINITE_EVERY = 5.0  # s: how often at most the operator is told of samples that are not numbers
POLLS_PER_BLOCK = 4  # the analysis thread looks for new audio this often per capture block...
POLL_FLOOR = 0.001  # ...but at most every millisecond
SWITCH_INTERVAL = 0.001  # s: how soon a thread that wants the interpreter gets it in a show (5 ms default)


class AnalysisThread(threading.Thread):
    """Feeds the analyzer with what the feed heard, publishes a Features snapshot per pass, and fans the
    analysis events (onsets, beats, and whatever else the analyzer drains) out to subscribers.

    Nothing here may end the thread: a pass that raises is counted in `guards` and the next pass goes on;
    samples that are not finite (a broken driver, a NaN from a plug-in) are heard as silence, so one burst
    cannot poison the analyzer's running state for the rest of the show."""

    def __init__(self, analyzer: Analyzer, feed: AudioFeed, guards: Guards | None = None):
        super().__init__(name="halation-analysis", daemon=True)
        self.analyzer = analyzer
        self.feed = feed
        self.guards = guards or Guards()
        self.features: Features = analyzer.snapshot()
        self.non_finite = 0  # samples replaced by silence
        self.priority = Priority.NORMAL  # what the system granted the thread once it runs
        self._subscribers: list[Callable[[Any], None]] = []
        self._halt = threading.Event()
        # look several times per capture block (a hop at most): a block is read soon after it lands, not up
        # to a block later (a 64-sample block read a hop late would waste the latency it was chosen for);
        # a look that finds nothing new costs a few microseconds
        block = min(analyzer.hop, feed.blocksize or analyzer.hop) / analyzer.sample_rate
        self._period = min(block, max(POLL_FLOOR, block / POLLS_PER_BLOCK))

    def subscribe(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(event)` on this thread for each onset, beat (and other analysis event) as it is
        known. Callbacks must be cheap (hand the event to a queue); one that raises is counted and logged
        once, and is called again for the next event."""
        self._subscribers = [*self._subscribers, callback]  # swapped, never mutated: safe from any thread

    def run(self) -> None:
        stage = self.guards.stage("analysis")
        self.priority = raise_thread_priority()  # a block is read as soon as it lands, busy cores or not
        if self.priority is not Priority.REALTIME:
            log.info(
                "the analysis runs at %s priority: the system refused real-time (add the user to the"
                " audio group with an rtprio limit for the steadiest latency)",
                self.priority.value,
            )
        while not self._halt.is_set():
            with stage:
                self._pass()
            self._halt.wait(self._period)

    def _pass(self) -> None:
        samples = self.feed.read()
        done = self.analyzer.samples_done
        if len(samples):
            self.analyzer.feed(self._finite(samples))
        if self.analyzer.samples_done != done:  # a small block may not complete a hop: nothing new then
            self.features = self.analyzer.snapshot()
            self._fan_out()

    def _finite(self, samples: np.ndarray) -> np.ndarray:
        """The samples with anything not finite heard as silence (counted)."""
        samples, bad = finite(samples)
        self.non_finite += bad
        return samples

    def _fan_out(self) -> None:
        events = [*self.analyzer.drain_onsets(), *self.analyzer.drain_beats()]
        drain_more = getattr(self.analyzer, "drain_events", None)  # downbeats, drops, sections
        if drain_more is not None:
            events.extend(drain_more())
        subscribers = self._subscribers
        if not events or not subscribers:
            return
        for callback in subscribers:
            name = getattr(callback, "__qualname__", type(callback).__name__)
            with self.guards.stage(f"analysis subscriber {name}"):
                for event in events:
                    callback(event)

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
    status: Mapping[str, Any] = field(default_factory=dict)  # the sync stages' status (Link mode, peers)
    looks: tuple[str, ...] = ()  # the looks (preset names) the frame drew: a morph's old one, then the one on


class ControlSurface(Protocol):
    """A controller (OSC server, MIDI, sACN…): hands over parameter messages, hears back the show state.

    It may also have `drain_commands()` (operator actions) and `retarget(params)`, which the loop calls
    right after the frame that first shows a new look (Show.look_generation changed), so the surface can
    rebuild what it offers from the new parameters."""

    def start(self, params: Mapping[str, Param]) -> None: ...

    def drain(self) -> list[ParamMessage]: ...

    def publish(self, state: ShowState) -> None: ...

    def stop(self) -> None: ...


MAX_FRAME_TIMES = 1 << 16  # the latest frame times kept (18 min at 60 fps): an hour's show stays bounded
MEDIAN_EVERY = 256  # frames between updates of the running median the slow frames are judged against


@dataclass
class PerformStats:
    """How the show ran: frame times (the latest, bounded), the worst frame, frames over twice the median
    (apart from the frames that brought in a new look, counted on their own: cue-change freezes) and the
    watchdog's stalls."""

    frames: int = 0
    seconds: float = 0.0
    frame_times: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_FRAME_TIMES))
    worst: float = 0.0
    slow: int = 0  # frames over 2x the running median, outside look changes
    look_changes: int = 0
    worst_look_change: float = 0.0  # the longest frame that brought in a new look
    stalls: int = 0  # the watchdog's count of frames over a second
    failures: dict[str, int] = field(default_factory=dict)  # guarded stages that failed, and how often
    _median: float = 0.0

    def add(self, seconds: float, look_changed: bool = False) -> None:
        self.frames += 1
        self.frame_times.append(seconds)
        self.worst = max(self.worst, seconds)
        if self.frames % MEDIAN_EVERY == 1 or self._median == 0.0:
            self._median = statistics.median(self.frame_times)
        if look_changed:
            self.look_changes += 1
            self.worst_look_change = max(self.worst_look_change, seconds)
        elif seconds > 2.0 * self._median:
            self.slow += 1

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.frame_times) if self.frame_times else 0.0

    def summary(self) -> str:
        fps = self.frames / self.seconds if self.seconds else 0.0
        looks = (
            f"; {self.look_changes} look changes, the slowest {1000 * self.worst_look_change:.0f} ms"
            if self.look_changes
            else ""
        )
        return (
            f"{self.frames} frames in {self.seconds:.1f} s ({fps:.1f} fps), "
            f"median frame {self.median_ms:.1f} ms, worst {1000 * self.worst:.0f} ms, "
            f"{self.slow} over 2x the median{looks}, {self.stalls} stalls"
        )


class InputWatch:
    """Tells the operator when the sound input goes away and when it is back: once on the console and on
    /hl/status/error as it happens, and on the preview's banner for as long as it is away (the visuals go
    on with the free-running clock meanwhile; the capture reconnects by itself). A feed without a
    `connected` flag (a file, a buffer) never goes away. Samples that are not numbers (a broken driver, a
    plug-in's NaN), which the analysis hears as silence, are told too, at most every few seconds."""

    def __init__(self, feed: AudioFeed):
        self.feed = feed
        self.was_connected = True
        self.lost_line: str | None = None  # the banner's line while the input is away
        self._non_finite = 0  # non-finite samples already told
        self._told_at = -1e9

    def check(self, notices) -> None:
        """Once a frame (two attribute reads); says so when the input comes or goes, or sends NaN."""
        self._check_finite(notices)
        connected = bool(getattr(self.feed, "connected", True))
        if connected == self.was_connected:
            return
        self.was_connected = connected
        device = self._device()
        if connected:
            self.lost_line = None
            notices.error(f"audio input {device} is back: the show listens again", key="audio input")
        else:
            self.lost_line = f"audio input {device} lost: the visuals go on with the clock; reconnecting"
            notices.error(self.lost_line, key="audio input")

    def _check_finite(self, notices) -> None:
        heard = getattr(self.feed, "non_finite", 0)  # a FiniteFeed's count
        now = time.monotonic()
        if heard == self._non_finite or now - self._told_at < NON_FINITE_EVERY:
            return
        fresh, self._non_finite, self._told_at = heard - self._non_finite, heard, now
        notices.error(
            f"audio input: {fresh} samples were not numbers (NaN or infinite): heard as silence",
            key="audio input non-finite",
        )

    def _device(self) -> str:
        status = getattr(self.feed, "status", None)
        return (getattr(status(), "device", "") if status is not None else "") or "(the sound card)"


def _name(obj: object) -> str:
    return getattr(obj, "name", None) or type(obj).__name__


class FrameLoop:
    """One frame of a live show, stage by stage, each in its guard:
    control drain → operator actions → tempo commands → preset watcher → draw (modulation, each layer) →
    each sink → the GPU finishes the frame → publish to the controls → retarget them when the look
    changed."""

    def __init__(
        self,
        show: Show,
        operator: Operator,
        target: Offscreen,
        *,
        controls: tuple[ControlSurface, ...] = (),
        sinks: tuple[Sink, ...] = (),
        watcher: PresetWatcher | None = None,
        av_offset: float = 0.0,
        recorder: EventRecorder | None = None,
        autopilot: AutopilotDriver | None = None,
        input_watch: InputWatch | None = None,
    ):
        self.input = input_watch  # the sound input's comings and goings, and its samples that are not numbers
        self.recorder = recorder  # --record-events: every control event, at the frame it is applied in
        self.autopilot = autopilot  # --autopilot: looks change with the song's form until the operator acts
        self.show = show
        self.operator = operator
        self.target = target
        self.controls = controls
        self.sinks = sinks
        self.watcher = watcher
        self.av_offset = av_offset
        self.guards = show.guards
        self._look = show.look_generation
        self.status: Mapping[str, Any] = {}  # the sync stages' status, published with each frame

    def frame(self, ft: FrameTime, features: Features) -> FrameInfo:
        show, guards = self.show, self.guards
        if self.input is not None:
            with guards.stage("audio input"):
                self.input.check(self.operator.notices)
        with guards.stage("look"):
            adopted = show.adopt_look()  # a look built aside and now ready; the cue follows it
            if self.recorder is not None:
                self.recorder.look(ft, show.preset.path, adopted)  # a replay brings it in at this frame
            self.operator.settle(adopted)
        before = show.params.base()
        touched = False  # did the operator do anything this frame (the autopilot then holds off)
        for control in self.controls:
            with guards.stage(f"control drain ({_name(control)})"):
                messages, commands = control.drain(), getattr(control, "drain_commands", list)()
                touched = touched or bool(messages or commands)
                if self.recorder is not None:
                    self.recorder.record(ft, _name(control), messages, commands)
                show.params.apply(messages)
                if commands:
                    with guards.stage("operator actions"):
                        self.operator.apply_all(commands)  # bursts coalesce; each failure is reported
        if self.autopilot is not None:
            with guards.stage("autopilot"):
                self.autopilot.frame(ft.time, features, touched)
        base = show.params.base()
        with guards.stage("tempo"):
            heard = ft.time - self.av_offset  # when the operator heard it
            for command in tempo_commands(before, base, heard):
                show.analyzer.command(command)  # thread-safe: applied by the analysis thread
            for name, value in tempo_resets(base).items():  # a nudge once; auto clears manual BPM and lock
                show.params.set(name, value)
        if self.watcher is not None:
            with guards.stage("preset watcher"):
                _reload(show, self.watcher)
        values = show.draw(ft, features, self.target.fbo)
        info = FrameInfo(
            ft.time,
            ft.index,
            features,
            values,
            self.errors(),
            show.preset.name,
            time.monotonic(),
            self.status,
        )
        for sink in self.sinks:
            stage = guards.stage(f"sink {sink.name}", backoff=SINK_RETRY)
            if stage.skip():
                continue
            with stage:
                sink.present(self.target.texture, info)
        with guards.stage("gpu"):
            finish_gpu(self.target.fbo.ctx)  # the frame is done (a swap, headless) with the GIL let go
        looks = (show.preset.name,) if show.morph is None else (show.morph.old.preset.name, show.preset.name)
        state = ShowState(ft.time, values, features, base, self.operator.cue_name, self.status, looks)
        for control in self.controls:
            with guards.stage(f"publish ({_name(control)})"):
                control.publish(state)
        self._retarget()
        return info

    def errors(self) -> tuple[str, ...]:
        """What the preview's banner says: shader and preset errors, then the stages that failed lately."""
        errors = [str(e) for e in self.show.pipeline.errors()]
        if self.input is not None and self.input.lost_line is not None:
            errors.append(self.input.lost_line)
        if self.watcher is not None and self.watcher.error is not None:
            errors.append(str(self.watcher.error))
        if self.show.look_error is not None:
            errors.append(str(self.show.look_error))
        notices = getattr(self.operator, "notices", None)
        if notices is not None:
            errors.extend(notices.banner())  # the last desk action that failed or did nothing
        errors.extend(str(e) for e in self.guards.errors())
        return tuple(dict.fromkeys(errors))  # each line once (a notice may also be a lasting condition)

    def _retarget(self) -> None:
        """After the first frame of a new look: controls that can, rebuild from its parameters."""
        if self.show.look_generation == self._look:
            return
        self._look = self.show.look_generation
        for control in self.controls:
            retarget = getattr(control, "retarget", None)
            if retarget is not None:
                with self.guards.stage(f"retarget ({_name(control)})"):
                    retarget(self.show.params.params)


def _reload(show: Show, watcher: PresetWatcher) -> None:
    """Bring in the preset just saved (a save that does not load is refused by the watcher)."""
    if watcher.path != show.preset.path:
        watcher.follow(show.preset.path)
    fresh = watcher.poll(time.monotonic())
    if fresh is not None:
        show.request(fresh)  # built aside; a shader that does not build is refused and the look stays


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
    sinks: tuple[Sink, ...] = (),
    perflog: PerfLog | None = None,
    recorder: EventRecorder | None = None,
    stages: tuple[FeatureStage, ...] = (),
    stage: Stage | None = None,
    flash_limit: str = "standard",
    record: Path | None = None,
    autopilot: Autopilot | None = None,
    stop: threading.Event | None = None,
) -> PerformStats:
    """Run the show until the window closes, `duration` seconds pass, or show time reaches `end`.

    With `monitor`, the show goes fullscreen on that monitor (the projector) and, unless `preview` is off, a
    preview window on the laptop shows the same frames plus shader errors; errors never reach the projector.
    With `watch_preset` (rehearsals), saving the preset file brings the saved look in at the next frame.
    `av_offset` (seconds) draws frames that far ahead of the audio, for the projector's delay (LiveClock).
    `hud` shows what the engine hears (tempo, confidence, bar and beat, band meters) on the preview.
    `sinks`: more outputs (a recorder, a network sender); each gets a texture of the show's GL context in
    present() and is released with the others.
    `perflog` notes what was on screen (a sink); `recorder` writes every control event to a take.
    `autopilot` changes looks with the song's form (no setlist needed); any operator action holds it off.
    `stages` (engine.sync.stage) turn each analysis snapshot into the frame's Features (Link, a leader's
    stream); a sink with `on_event` hears every analysis event (the feature stream).
    `stage` (engine.output.stage) says which outputs exist (default: one, at the render size, on `monitor`);
    each is composed (warp, blend, masks) and flash-limited (`flash_limit`: standard, strict, off).
    `record`: record the program and the input audio to this file (also started/stopped over OSC).
    `stop`: set it (any thread) to end the show at the next frame boundary, as SIGTERM does.
    """
    tune_allocator()  # before the show's threads make arenas of their own
    params = build_params(preset)
    for sync in stages:  # their controls (link.mode) exist before the desks are told the parameters
        for param in sync.params():
            params.add(param)
    started_controls = start_controls(controls, params.params)  # a port in use: one line, no window yet
    stop = StopRequest(stop)
    stats = PerformStats()
    outputs = show = target = None
    try:
        stage = stage or default_stage(size, monitor)
        outputs = open_stage_outputs(
            stage,
            size,
            f"Halation — {preset.name}",
            headless=headless,
            preview=preview,
            hud=hud,
            flash_limit=flash_limit,
        )
        started_controls += start_controls(outputs.controls, params.params)  # the preview's keys, stage edit
        video = Recorder(record, size, fps, feed.sample_rate)
        heard = feed = FiniteFeed(feed)  # the sound input, NaN made silence (its connection is watched)
        feed = video.tap(feed)
        outputs.sinks.extend([*sinks, video])
        target = Offscreen(outputs.ctx, size)
        set_startup_heap_aside()  # a full collection during the show walks only what the show made
        show = Show(outputs.ctx, preset, size, feed.sample_rate, live=True, params=params)
        for param in outputs.params:  # stage.<output>.<key>: reachable at /hl/stage/<output>/<key>
            show.params.add(param)
        operator = Operator(show, setlist)
        show.guards.on_failure = lambda error: operator.notices.error(
            str(error), key=f"stage {error.stage}", logged_already=True
        )  # a failing stage reaches the desk (/hl/status/error) as well as the preview and the console
        if setlist is not None:  # the first cue before the first frame: nothing is on screen to keep moving
            operator.apply("cue.go")
        show.build_looks_aside()  # from now on looks are built aside and adopted at a frame boundary
        if perflog is not None:
            outputs.sinks.append(PerfLogSink(perflog, show, lambda: operator.cue_name))
        for control in started_controls:
            if hasattr(control, "retarget"):  # the stage's parameters came after it started
                control.retarget(show.params.params)
            if hasattr(control, "attach"):  # its status, errors and name lists come from the operator
                control.attach(operator)
        analysis = AnalysisThread(show.analyzer, feed, show.guards)
        for sink in outputs.sinks:
            if hasattr(sink, "on_event"):
                analysis.subscribe(sink.on_event)
        loop = FrameLoop(
            show,
            operator,
            target,
            controls=tuple(started_controls),
            sinks=tuple(outputs.sinks),
            watcher=PresetWatcher(preset.path) if watch_preset else None,
            av_offset=av_offset,
            recorder=recorder,
            autopilot=AutopilotDriver(autopilot, show) if autopilot is not None else None,
            input_watch=InputWatch(heard),
        )
        with stop.on_signals():
            run = FrameRun(loop, feed, analysis, stages, fps=fps if headless else None, av_offset=av_offset)
            run.until(stats, stop, duration=duration, end=end, should_close=lambda: outputs.should_close)
    finally:
        give_startup_heap_back()
        for control in reversed(started_controls):
            control.stop()
        for sync in stages:
            sync.close()
        if show is not None:
            stats.failures = dict(show.guards.counts)
            show.release()
        if target is not None:
            target.release()
        if outputs is not None:
            outputs.release()
        if recorder is not None:
            recorder.close()
    return stats


def start_controls(controls, params: Mapping[str, Param]) -> list[ControlSurface]:
    """Start every control surface, or none: one that cannot (its port is in use) stops the ones before it
    and raises its one-line error, before any window opens."""
    started: list[ControlSurface] = []
    try:
        for control in controls:
            control.start(params)
            started.append(control)
    except BaseException:
        for control in reversed(started):
            control.stop()
        raise
    return started


class StopRequest:
    """SIGTERM or Ctrl-C asks the show to stop at the next frame boundary, so everything is let go in
    order (the capture ring in /dev/shm, the sockets, the warm-up child) within a second or two. A second
    Ctrl-C while stopping interrupts at once."""

    def __init__(self, event: threading.Event | None = None):
        self.event = event or threading.Event()
        self.signal = ""

    def __bool__(self) -> bool:
        return self.event.is_set()

    def _handle(self, number, _frame) -> None:
        if self.event.is_set() and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signal.Signals(number).name
        self.event.set()

    @contextlib.contextmanager
    def on_signals(self):
        """Handle SIGTERM and SIGINT meanwhile (from the main thread only: Python delivers them there)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {n: signal.signal(n, self._handle) for n in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if self.signal:
                log.info("stopped by %s", self.signal)


class FrameRun:
    """The show's run: the audio, the analysis and the watchdog, started together and stopped together,
    and frames drawn by the loop until the end. `fps`: pace frames (headless); else the display does."""

    def __init__(self, loop: FrameLoop, feed, analysis: AnalysisThread, stages, *, fps, av_offset: float):
        self.loop, self.feed, self.analysis, self.stages = loop, feed, analysis, stages
        self.fps = fps
        self.av_offset = av_offset

    def until(self, stats: PerformStats, stop: StopRequest, *, duration, end, should_close) -> None:
        """Frames until show time reaches `end`, `duration` seconds pass, a window closes or a stop."""
        loop, show = self.loop, self.loop.show
        watchdog = Watchdog(trim=True)
        started = time.monotonic()
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)  # the analysis and control threads wait 1 ms, not 5, for it
        try:
            self.feed.start()
            clock = LiveClock(self.feed.position, lead=self.av_offset)
            self.analysis.start()
            watching = f"; saving {show.preset.path.name} shows it at once" if loop.watcher else ""
            watchdog.start()
            shown = False
            while not stop and not should_close():
                ft = clock.tick()
                if (end is not None and ft.time >= end) or (
                    duration and time.monotonic() - started >= duration
                ):
                    break
                t0 = time.perf_counter()
                self.frame(ft, stats)
                watchdog.beat()
                if not shown:  # said once the picture is there: rehearsals and scripts wait for this line
                    log.info("showing '%s'%s", show.preset.name, watching)
                    shown = True
                if self.fps:  # pace like a display would
                    time.sleep(max(0.0, 1.0 / self.fps - (time.perf_counter() - t0)))
        finally:
            sys.setswitchinterval(switch)
            stats.seconds = time.monotonic() - started
            watchdog.stop()
            stats.stalls = watchdog.stall_count
            if self.analysis.is_alive():
                self.analysis.stop()
            self.feed.stop()

    def frame(self, ft: FrameTime, stats: PerformStats) -> None:
        loop, show = self.loop, self.loop.show
        t0 = time.perf_counter()
        features = run_stages(self.stages, self.analysis.features, ft.time, show.params, show.guards)
        loop.status = stages_status(self.stages)
        look = show.look_generation
        loop.frame(ft, features)
        took = time.perf_counter() - t0
        stats.add(took, look_changed=show.look_generation != look)
        show.pipeline.note_frame(took)
