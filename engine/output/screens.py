"""The sinks that put the frame on a screen: a glfw window (the projector, the laptop's preview) and the
headless stand-in. Each window draws with its own context; the loop's frame texture is shared with them
(see engine.output.window.Window's `share`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import moderngl

from engine.output.compose import clamped_sampler
from engine.output.sink import FrameInfo, finish_gpu
from engine.render.overlay import PreviewOverlay, status_lines
from engine.render.quad import Blit
from engine.sync.stage import sync_lines


class WindowSink:
    """Puts the frame, letterboxed, into a window; with `overlay`, the preview: the banner of errors and,
    with `hud`, what the engine hears. Errors never reach a window without an overlay (the projector).

    `home` is the window whose context the loop renders with; this sink switches back to it after drawing,
    even when drawing failed, so a failing preview never leaves the loop drawing into the wrong context.
    `flush` waits for the frame to be complete before the swap (a later sink in another context samples
    it)."""

    def __init__(
        self, name: str, window, *, home=None, overlay: bool = False, hud: bool = False, flush=False
    ):
        self.name = name
        self.window = window
        self.home = home
        self.hud = hud
        self.flush = flush
        self.notices: Callable[[], Sequence[str]] = tuple  # lines the preview shows above the HUD
        self._look = ""
        if home is not None:
            window.make_current()
        self._blit = Blit(window.ctx)
        self._filtered = clamped_sampler(window.ctx)  # the frame scaled into the window, clamped
        self._overlay = PreviewOverlay(window.ctx) if overlay else None
        if home is not None:
            home.make_current()

    @property
    def should_close(self) -> bool:
        return self.window.should_close

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        if info.look and info.look != self._look:  # the title says what is on screen, cue after cue
            self._look = info.look
            self.window.set_title(f"Halation — {info.look}{'' if self._overlay is None else ' — preview'}")
        if self.home is not None:
            self.window.make_current()
        try:
            target = self.window.target()
            self._filtered.use(0)
            self._blit.draw(frame, target)
            self._filtered.clear(0)
            if self._overlay is not None:
                status = list(self.notices())  # the operator's notices (stage edit, flash limit, quit)
                if self.hud:
                    status += status_lines(info.features.values(info.time))
                    status += sync_lines(info.status)
                self._overlay.status = status
                self._overlay.draw(target, info.errors)
            if self.flush:
                finish_gpu(self.window.ctx)  # the GIL let go meanwhile
            self.window.present()
        finally:
            if self.home is not None:
                self.home.make_current()

    def release(self) -> None:
        if self.home is not None:
            self.window.make_current()
        try:
            if self._overlay is not None:
                self._overlay.release()
            self._filtered.release()
            self._blit.release()
        finally:
            if self.home is not None:
                self.home.make_current()


class HeadlessSink:
    """No screen (servers, tests, benches): waits for the frame to be drawn, as a swap would, so frame
    times are honest."""

    name = "headless"

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        finish_gpu(self.ctx)  # as moderngl's finish(), but the show's other threads run meanwhile

    def release(self) -> None:
        pass
