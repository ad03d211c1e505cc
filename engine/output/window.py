"""A glfw window as the show's output (preview on the laptop, or fullscreen on the projector).

Keys can never end a show by accident: quitting needs Esc held for a second (QUIT_HOLD); a single Esc or Q
does nothing but show a hint. A projector's window ignores the keyboard entirely.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import moderngl

from engine.errors import HalationError
from engine.output.sink import finish_gpu
from engine.render.quad import Blit


def display_available() -> bool:
    """True when a window can be opened (X11 or Wayland display present and glfw initialises)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    import glfw

    return bool(glfw.init())


def letterbox(window: tuple[int, int], content: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest viewport of the content's aspect ratio centred in the window (x, y, w, h)."""
    ww, wh = window
    scale = min(ww / content[0], wh / content[1])
    w, h = max(1, round(content[0] * scale)), max(1, round(content[1] * scale))
    return ((ww - w) // 2, (wh - h) // 2, w, h)


QUIT_HOLD = 1.0  # seconds Esc must be held to end the show


def find_monitor(monitor: int | str):
    """The glfw monitor for an index or a name (a substring of `halation devices`' name), else None."""
    import glfw

    if not glfw.init():
        return None
    monitors = glfw.get_monitors() or []
    if isinstance(monitor, int):
        return monitors[monitor] if 0 <= monitor < len(monitors) else None
    wanted = monitor.lower()
    for m in monitors:
        if wanted in (glfw.get_monitor_name(m) or b"").decode("utf-8", "replace").lower():
            return m
    return None


class Window:
    """Opens a window with its own moderngl context. Holding Esc for a second closes it; F11 toggles
    fullscreen; other keys go to `on_key(key)` (the preview's show keys). With `keys` off (a projector)
    the keyboard is ignored."""

    def __init__(
        self,
        size: tuple[int, int],
        title: str = "Halation",
        monitor: int | str | None = None,
        vsync=True,
        share: Window | None = None,
        keys: bool = True,
        monitor_handle=None,
    ):
        """`share`: another window whose textures this one samples (the preview of a projector output).
        `monitor_handle`: a glfw monitor already found (a stage output's)."""
        import glfw

        self._glfw = glfw
        if not glfw.init():
            raise HalationError("cannot open a window: no display (use --headless, or `halation render`)")
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        # The projector must not minimise when the preview gets focus.
        glfw.window_hint(glfw.AUTO_ICONIFY, False)
        self.content_size = size
        self._windowed_size = size
        self.keys = keys
        self.on_key: Callable[[int], None] | None = None
        self._esc_since: float | None = None
        self._quit = False
        target = monitor_handle
        if monitor is not None and target is None:
            target = find_monitor(monitor)
            if target is None:
                raise HalationError(
                    f"--monitor {monitor}: there are {len(glfw.get_monitors())} monitors"
                    " (see `halation devices`)"
                )
        if target is not None:
            mode = glfw.get_video_mode(target)
            size = (mode.size.width, mode.size.height)
        self.handle = glfw.create_window(size[0], size[1], title, target, share.handle if share else None)
        if not self.handle:
            raise HalationError(
                "cannot open a window with OpenGL 3.3 core (is a GPU driver or Mesa installed?)"
            )
        glfw.make_context_current(self.handle)
        glfw.swap_interval(1 if vsync else 0)
        if target is not None:
            glfw.set_input_mode(self.handle, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        glfw.set_key_callback(self.handle, self._on_key)
        # the framebuffer's size, kept by glfw's events: asking X for it each frame is a round trip that
        # waits until the X server has taken the last frame's image (on a busy machine, milliseconds)
        self._resized()
        glfw.set_framebuffer_size_callback(self.handle, self._on_resize)
        self.ctx = moderngl.create_context()

    def _on_resize(self, _handle, width: int, height: int) -> None:
        self._fb_size = (width, height)

    def _on_key(self, handle, key, _scancode, action, _mods) -> None:
        glfw = self._glfw
        if not self.keys:
            return
        if key == glfw.KEY_ESCAPE:
            if action == glfw.PRESS:
                self._esc_since = time.monotonic()
            elif action == glfw.RELEASE:  # a hold that lasted counts even if no frame looked meanwhile
                self._quit = self._quit or self._held()
                self._esc_since = None
            return
        if action != glfw.PRESS:
            return
        if key == glfw.KEY_F11:
            self.toggle_fullscreen()
        elif self.on_key is not None:
            self.on_key(key)

    @property
    def quit_hint(self) -> str | None:
        """While Esc is held but not yet long enough: what the preview says."""
        if self._esc_since is None:
            return None
        return f"keep holding Esc to end the show ({QUIT_HOLD:.0f} s)"

    def toggle_fullscreen(self) -> None:
        glfw = self._glfw
        if glfw.get_window_monitor(self.handle):
            w, h = self._windowed_size
            glfw.set_window_monitor(self.handle, None, 100, 100, w, h, 0)
        else:
            monitor = glfw.get_primary_monitor()
            mode = glfw.get_video_mode(monitor)
            glfw.set_window_monitor(
                self.handle, monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate
            )
        self._resized()

    def _resized(self) -> None:
        """Ask X for the size once after a change of our own (its event then keeps it right)."""
        self._fb_size = tuple(self._glfw.get_framebuffer_size(self.handle))

    def _held(self) -> bool:
        return self._esc_since is not None and time.monotonic() - self._esc_since >= QUIT_HOLD

    @property
    def should_close(self) -> bool:
        return self._quit or self._held() or bool(self._glfw.window_should_close(self.handle))

    @property
    def fullscreen(self) -> bool:
        return bool(self._glfw.get_window_monitor(self.handle))

    def move_to(self, monitor, windowed_size: tuple[int, int] | None = None) -> None:
        """Fullscreen on `monitor` (a glfw monitor), or a window on the laptop when None."""
        glfw = self._glfw
        if monitor is None:
            w, h = windowed_size or self._windowed_size
            glfw.set_window_monitor(self.handle, None, 60, 60, w, h, 0)
        else:
            mode = glfw.get_video_mode(monitor)
            glfw.set_window_monitor(
                self.handle, monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate
            )
        self._resized()

    def target(self) -> moderngl.Framebuffer:
        """The window's framebuffer with a letterboxed viewport for the show's aspect ratio, its bars
        cleared (every sink covers the viewport it is given, so a viewport that fills the window is not
        cleared first: a full-window clear is a pass of its own on a software rasteriser)."""
        screen = self.ctx.screen
        fb_size = self._fb_size
        viewport = letterbox(fb_size, self.content_size)
        screen.viewport = (0, 0, *fb_size)
        screen.use()
        if viewport != (0, 0, *fb_size):
            self.ctx.clear(0.0, 0.0, 0.0)
        screen.viewport = viewport
        return screen

    def set_title(self, title: str) -> None:
        self._glfw.set_window_title(self.handle, title)

    def make_current(self) -> None:
        """Window contexts are per thread and per window: switch before using this window's `ctx`."""
        self._glfw.make_context_current(self.handle)

    def present(self) -> None:
        self._glfw.swap_buffers(self.handle)
        self._glfw.poll_events()

    def close(self) -> None:
        self._glfw.destroy_window(self.handle)


class ProjectorOutput:
    """The gig set-up: the show fullscreen on the projector's monitor, and a preview window on the laptop
    that shows the same frame plus the operator's overlay (errors, what the engine hears). The preview
    shares the output's textures; each window draws with its own context."""

    def __init__(self, size: tuple[int, int], title: str, monitor: int):
        self.output = Window(size, title, monitor=monitor)
        self.preview = Window(
            size if size[0] <= 960 else (960, round(960 * size[1] / size[0])),
            f"{title} — preview",
            vsync=False,
            share=self.output,
        )
        self._preview_blit = Blit(self.preview.ctx)
        self.output.make_current()
        self._output_blit = Blit(self.output.ctx)
        self.ctx = self.output.ctx

    @property
    def should_close(self) -> bool:
        return self.output.should_close or self.preview.should_close

    def show(self, frame: moderngl.Texture, overlay=None, errors: Sequence[object] = ()) -> None:
        """Put the frame (a texture of the output context) on the projector, then on the preview with the
        errors drawn by `overlay` (a PreviewOverlay made in the preview's context)."""
        self._output_blit.draw(frame, self.output.target())
        finish_gpu(self.ctx)  # the preview's context samples the frame: it must be complete
        self.output.present()
        self.preview.make_current()
        target = self.preview.target()
        self._preview_blit.draw(frame, target)
        if overlay is not None:
            overlay.draw(target, errors)
        self.preview.present()
        self.output.make_current()

    def close(self) -> None:
        self.preview.make_current()
        self._preview_blit.release()
        self.preview.close()
        self.output.make_current()
        self._output_blit.release()
        self.output.close()
