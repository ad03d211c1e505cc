"""GL contexts: headless EGL (offline renders, headless shows, tests) and the read-back target."""

from __future__ import annotations

import moderngl
import numpy as np

from engine.errors import HalationError


def headless_context() -> moderngl.Context:
    """An offscreen GL 3.3+ context through EGL (Mesa llvmpipe when there is no GPU)."""
    try:
        return moderngl.create_standalone_context(backend="egl")
    except Exception as exc:
        raise HalationError(
            f"cannot create a headless OpenGL context through EGL ({exc}): install Mesa's EGL "
            "(apt install libegl1 libgl1-mesa-dri)"
        ) from exc


class Offscreen:
    """An RGBA8 framebuffer whose pixels can be read back top row first (for video and PNG files)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]):
        self.size = size
        self.texture = ctx.texture(size, 4)
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])

    def read(self) -> np.ndarray:
        w, h = self.size
        data = np.frombuffer(self.fbo.read(components=4, alignment=1), np.uint8)
        return np.ascontiguousarray(data.reshape(h, w, 4)[::-1])

    def release(self) -> None:
        self.fbo.release()
        self.texture.release()
