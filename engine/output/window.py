"""A glfw window as the show's output (preview on the laptop, or fullscreen on the projector)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import moderngl

from engine.errors import HalationError
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


class Window:
    """Opens a window with its own moderngl context. Esc or Q closes it; F toggles fullscreen."""

    def __init__(
        self,
        size: tuple[int, int],
        title: str = "Halation",
        monitor: int | None = None,
        vsync=True,
        share: Window | None = None,
    ):
        """`share`: another window whose textures this one samples (the preview of a projector output)."""
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
        target = None
        if monitor is not None:
            monitors = glfw.get_monitors()
            if not 0 <= monitor < len(monitors):
                raise HalationError(
                    f"--monitor {monitor}: there are {len(monitors)} monitors (see `halation devices`)"
                )
            target = monitors[monitor]
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
        self.ctx = moderngl.create_context()

    def _on_key(self, handle, key, _scancode, action, _mods) -> None:
        glfw = self._glfw
        if action != glfw.PRESS:
            return
        if key in (glfw.KEY_ESCAPE, glfw.KEY_Q):
            glfw.set_window_should_close(handle, True)
        elif key == glfw.KEY_F:
            self.toggle_fullscreen()

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

    @property
    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self.handle))

    def target(self) -> moderngl.Framebuffer:
        """The window's framebuffer, cleared, with a letterboxed viewport for the show's aspect ratio."""
        screen = self.ctx.screen
        fb_size = self._glfw.get_framebuffer_size(self.handle)
        screen.viewport = (0, 0, *fb_size)
        screen.use()
        self.ctx.clear(0.0, 0.0, 0.0)
        screen.viewport = letterbox(fb_size, self.content_size)
        return screen

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
        self.ctx.finish()  # the preview's context samples the frame: it must be complete
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
