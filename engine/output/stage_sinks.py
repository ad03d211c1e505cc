"""The stage's sinks: one per output (composed on the GPU, shown fullscreen on its projector, or headless),
the laptop's preview (the program with the operator's overlay, or the output being edited), and the
preview's keys and mouse as a control surface.

A projector window ignores the keyboard; the preview takes the show keys. A projector whose monitor goes
away mid-show (glfw turns its window into a plain window) is kept running in a window on the laptop and can
go back with M on the preview or /hl/stage/<output>/restore.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import moderngl

from engine.output.compose import OutputCompositor
from engine.output.flash import NOTICE
from engine.output.sink import FrameInfo, Sink, finish_gpu
from engine.output.stage import OutputSpec, Stage, convex, save_stage
from engine.output.stage_edit import PreviewControl, StageEditor
from engine.output.stage_params import (
    SAVE,
    flash_limit_of,
    safety_params,
    spec_from_values,
    stage_params,
)
from engine.params.store import Param

log = logging.getLogger(__name__)

CHANGE_NOTE_S = 8.0  # how long the preview says the flash limit changed (a lower one stays said all show)
PREVIEW_WIDTH = 640  # the laptop preview: a quarter of a 720p frame to draw (the window can be resized)
LAPTOP_WIDTH = 640  # a lost projector's window on the laptop


class OutputSink:
    """One output of the stage. It composes the program into the output's picture (in the loop's context)
    and, with a window, shows it there; `picture` is the last one, for the preview."""

    def __init__(self, compositor: OutputCompositor, window=None, home=None, monitor=None):
        self.compositor = compositor
        self.name = f"output {compositor.name}"
        self.window = window
        self.home = home  # the window whose context the loop renders with (None: this one, or headless)
        self.monitor = monitor  # the glfw monitor it should be fullscreen on
        self.lost = False
        self.picture: moderngl.Texture | None = None
        self._look = ""

    @property
    def spec(self) -> OutputSpec:
        return self.compositor.spec

    def _in_window(self, draw: Callable[[], Any]) -> None:
        if self.home is not None:
            self.window.make_current()
        try:
            draw()
        finally:
            if self.home is not None:
                self.home.make_current()

    def adopt(self, values: Mapping) -> None:
        """Take the stage values the parameters hold now (OSC, stage edit); a keystone that is not a convex
        quad is refused (the last good one stays) and said once."""
        spec = spec_from_values(self.spec, values)
        if spec == self.spec:
            return
        if not convex(spec.keystone):
            spec = spec_from_values(self.spec, {**values, **_keystone_values(self.spec)})
            if spec == self.spec:
                return
        self.compositor.update(spec)

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        self.adopt(info.values)
        if info.values.get(f"stage.{self.spec.name}.restore"):
            self.restore()
        if self.window is None:
            self.picture = self.compositor.draw(frame, info.time)
            return
        self._watch_monitor()
        if info.look and info.look != self._look:  # the title says what is on screen, as the preview's does
            self._look = info.look
            self.window.set_title(f"Halation — {info.look} — {self.spec.name}")
        if self.home is not None:
            finish_gpu(self.home.ctx)  # this window's context samples the loop's frame: it must be complete
        self._in_window(lambda: self._show(frame, info.time))

    def _show(self, frame: moderngl.Texture, time: float) -> None:
        """The output's picture drawn straight into its window (see OutputCompositor.draw_into)."""
        self.picture = self.compositor.draw_into(frame, time, self.window.target())
        finish_gpu(self.window.ctx)  # the preview's context may sample the picture next
        self.window.present()

    def _watch_monitor(self) -> None:
        """A projector that is no longer fullscreen was unplugged (glfw makes its window a plain one)."""
        if self.monitor is None or self.lost or self.window.fullscreen:
            return
        self.lost = True
        w, h = self.spec.size
        self.window.move_to(None, (LAPTOP_WIDTH, round(LAPTOP_WIDTH * h / w)))
        log.warning(
            "output %s: its monitor is gone; it goes on in a window on the laptop (M on the preview or "
            "/hl/stage/%s/restore puts it back)",
            self.spec.name,
            self.spec.name,
        )

    def restore(self) -> bool:
        """Back to its monitor, when that monitor is there again."""
        from engine.output.window import find_monitor

        if self.window is None or self.spec.monitor is None:
            return False
        monitor = find_monitor(self.spec.monitor)
        if monitor is None:
            log.warning("output %s: monitor %r is still not there", self.spec.name, self.spec.monitor)
            return False
        self.window.move_to(monitor)
        self.monitor, self.lost = monitor, False
        log.info("output %s: back on its monitor", self.spec.name)
        return True

    def notice(self) -> str | None:
        if self.lost:
            return f"output {self.spec.name}: monitor lost, showing in a window (M: back to the monitor)"
        limiter = self.compositor.limiter
        if limiter is not None and limiter.damping:
            return f"output {self.spec.name}: flash limiter damping (over 3 flashes/s)"
        return None

    def release(self) -> None:
        if self.window is None:
            self.compositor.release()
        else:
            self._in_window(self.compositor.release)  # made in its window's context


def _keystone_values(spec: OutputSpec) -> dict:
    from engine.output.stage_params import CORNERS

    return {f"stage.{spec.name}.keystone.{c}": xy for c, xy in zip(CORNERS, spec.keystone, strict=True)}


class StageControl:
    """The stage-wide values, first of the sinks each frame: the flash limit (switched live over OSC at
    /hl/stage/flash_limit or with L in stage edit: logged, and shown on the preview) and saving the stage
    file (/hl/stage/save or S in stage edit). Its `saver`, the last sink, writes the file once the outputs
    have adopted every move asked before the save (`busy`: stage edit's moves still on their way)."""

    name = "stage"

    def __init__(self, stage: Stage, outputs: list[OutputSink], flash_limit: str):
        self.stage = stage
        self.outputs = outputs
        self.limit = flash_limit
        self.saved_note = ""
        self.busy: Callable[[], bool] = lambda: False
        self.saver = _StageSaver(self)
        self._changed_live = False  # a save keeps the file's own flash limit unless it was changed live
        self._change: tuple[str, float] | None = None  # (what the preview says, until show time)
        self._save_asked = False
        self._now = 0.0

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        self._now = info.time
        limit = flash_limit_of(info.values, self.limit)
        if limit != self.limit:
            self.switch(limit, info.time)
        if info.values.get(SAVE):  # a desk's moves sent before it are in this frame's values already
            self._save_asked = True

    def save_when_done(self) -> None:
        if self._save_asked and not self.busy():
            self._save_asked = False
            self.save()

    def switch(self, limit: str, now: float) -> None:
        was, self.limit = self.limit, limit
        self._changed_live = True
        for out in self.outputs:
            out.compositor.set_flash_limit(limit)
        said = NOTICE.get(limit, "flash limiter STANDARD: at most 3 flashes/s over 25 % of the frame")
        log.warning("%s (was %s; changed live by the operator)", said, was)
        self._change = (f"flash limit changed: {was} -> {limit}", now + CHANGE_NOTE_S)

    def request_save(self) -> None:
        self._save_asked = True

    def save(self) -> str:
        """Write the stage as the outputs run now to the stage file (with the flash limit set live, if it
        was: one given by --flash-limit for this show is not written into the venue's file)."""
        limit = self.limit if self._changed_live else self.stage.flash_limit
        stage = replace(self.stage, outputs=tuple(o.spec for o in self.outputs), flash_limit=limit)
        if self.stage.path is None:
            self.saved_note = "no stage file to save to: start with --stage FILE"
        else:
            try:
                save_stage(stage, self.stage.path)
                self.saved_note = f"saved {self.stage.path} (previous kept as .bak)"
            except OSError as exc:
                self.saved_note = f"could not save {self.stage.path}: {exc.strerror}; the show goes on"
        log.info("stage: %s", self.saved_note)
        return self.saved_note

    def notices(self) -> list[str]:
        lines = [NOTICE[self.limit]] if self.limit in NOTICE else []  # less protection: said all show
        if self._change is not None and self._now <= self._change[1]:
            lines.append(self._change[0])
        return lines

    def release(self) -> None:
        pass


class _StageSaver:
    """The last of the stage's sinks: saves the stage file when asked, after the outputs took the frame's
    values."""

    name = "stage save"

    def __init__(self, control: StageControl):
        self.control = control

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        self.control.save_when_done()

    def release(self) -> None:
        pass


class PreviewSink:
    """The laptop's preview: the program (or, while a stage output is edited or when there is no projector,
    that output's picture) with the overlay and the operator's notices."""

    def __init__(
        self,
        window_sink,
        outputs: list[OutputSink],
        editor: StageEditor,
        show_output: bool,
        control: StageControl,
    ):
        self.name = "preview"
        self.inner = window_sink
        self.outputs = outputs
        self.editor = editor
        self.show_output = show_output  # no projector: the laptop's window is the output
        self.control = control

    def notices(self) -> list[str]:
        lines = self.control.notices()
        lines += [n for n in (o.notice() for o in self.outputs) if n]
        lines += self.editor.notices()
        hint = self.inner.window.quit_hint
        if hint:
            lines.append(hint)
        return lines

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        shown = frame
        edited = self.editor.editing
        if edited is not None or self.show_output:
            out = next((o for o in self.outputs if o.spec.name == edited), self.outputs[0])
            shown = out.picture or frame
        self.inner.window.content_size = shown.size
        self.inner.present(shown, info)

    def release(self) -> None:
        self.inner.release()


@dataclass
class StageOutputs:
    """Where the frames go (live.Outputs' shape): the GL context the show renders with, the sinks in the
    order they run, the windows to watch, and what the stage adds to the show: its parameters and the
    preview's control surface."""

    ctx: Any
    sinks: list[Sink]
    windows: list[Any]
    outputs: list[OutputSink] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    controls: list[Any] = field(default_factory=list)
    control: StageControl | None = None

    @property
    def should_close(self) -> bool:
        return any(w.should_close for w in self.windows if getattr(w, "keys", True))

    def release(self) -> None:
        for sink in reversed(self.sinks):
            try:
                sink.release()
            except Exception as exc:  # a sink that fails to let go must not keep the others
                log.warning("releasing sink %s: %s", sink.name, exc)
        for window in reversed(self.windows):
            window.close()


def open_stage_outputs(
    stage: Stage,
    size: tuple[int, int],
    title: str,
    *,
    headless: bool,
    preview: bool,
    hud: bool,
    flash_limit: str,
) -> StageOutputs:
    """The stage's sinks. Headless: each output composed offscreen. Otherwise each output with a monitor
    gets a fullscreen window there (keyboard ignored); the laptop gets the preview (unless `preview` is off
    and there is a projector). Without any projector the laptop's window is the first output."""
    from engine.output.screens import HeadlessSink
    from engine.render.context import headless_context

    params = stage_params(stage) + safety_params(flash_limit)
    if headless:
        ctx = headless_context()
        outputs = [OutputSink(OutputCompositor(ctx, s, size, flash_limit)) for s in stage.outputs]
        control = StageControl(stage, outputs, flash_limit)
        sinks = [control, *outputs, control.saver, HeadlessSink(ctx)]
        return StageOutputs(ctx, sinks, [], outputs, params, control=control)
    windows, outputs = _projectors(stage, size, title, flash_limit)
    home = windows[0] if windows else None
    laptop_only = not outputs
    if not (preview or laptop_only):
        control = StageControl(stage, outputs, flash_limit)
        sinks = [control, *outputs, control.saver]
        return StageOutputs(home.ctx, sinks, windows, outputs, params, control=control)
    from engine.output.window import Window

    small = size if size[0] <= PREVIEW_WIDTH else (PREVIEW_WIDTH, round(PREVIEW_WIDTH * size[1] / size[0]))
    window = Window(small, f"{title} — preview", vsync=laptop_only, share=home)
    windows.append(window)
    home = home or window
    home.make_current()
    if laptop_only:  # no projector: the laptop's window shows the outputs, drawn in its context
        outputs = [OutputSink(OutputCompositor(home.ctx, s, size, flash_limit)) for s in stage.outputs]
    control = StageControl(stage, outputs, flash_limit)
    preview_sink, keys = _preview(window, home, stage, outputs, control, hud, laptop_only)
    sinks: list[Sink] = [control, *outputs, control.saver, preview_sink]
    return StageOutputs(home.ctx, sinks, windows, outputs, params, [keys], control)


def _projectors(stage: Stage, size, title: str, flash_limit: str) -> tuple[list, list[OutputSink]]:
    """A fullscreen window (keyboard ignored) for each output with a monitor, the first one's context
    shared with the others; each output drawn in its own window's context."""
    from engine.output.window import Window, find_monitor

    windows: list[Window] = []
    outputs: list[OutputSink] = []
    home: Window | None = None
    for spec in (s for s in stage.outputs if s.monitor is not None):
        monitor = _monitor_or_warn(spec, find_monitor)
        window = Window(
            spec.size,
            f"{title} — {spec.name}",
            share=home,
            keys=False,
            monitor_handle=monitor,
            vsync=home is None,
        )
        home = home or window
        windows.append(window)
        comp = OutputCompositor(window.ctx, spec, size, flash_limit)
        home.make_current()
        outputs.append(OutputSink(comp, window, home if window is not home else None, monitor))
    return windows, outputs


def _preview(window, home, stage: Stage, outputs, control: StageControl, hud: bool, laptop_only: bool):
    """The laptop's preview sink and its keys (the show keys and stage edit)."""
    from engine.output.screens import WindowSink

    editor = StageEditor(stage, outputs, control)
    inner = WindowSink("preview", window, home=home if window is not home else None, overlay=True, hud=hud)
    sink = PreviewSink(inner, outputs, editor, laptop_only, control)
    inner.notices = sink.notices  # a lowered flash limit stays in sight all show
    keys = PreviewControl(window, inner, editor, outputs)
    window.on_key = keys.press
    return sink, keys


def _monitor_or_warn(spec: OutputSpec, find_monitor):
    """The output's monitor; when it is not there, the output opens in a window and the show goes on."""
    monitor = find_monitor(spec.monitor)
    if monitor is None:
        log.warning(
            "output %s: monitor %r not found (see `halation devices`); it opens in a window on the laptop",
            spec.name,
            spec.monitor,
        )
    return monitor
