"""The full-screen quad every image pass draws, and a plain texture blit (one per GL context: VAOs are
not shared between contexts, programs and textures are)."""

from __future__ import annotations

import moderngl
import numpy as np

FULLSCREEN_VS = """#version 330 core
in vec2 in_pos;
out vec2 uv;
void main() { uv = in_pos * 0.5 + 0.5; gl_Position = vec4(in_pos, 0.0, 1.0); }
"""
_BLIT_FS = """#version 330 core
uniform sampler2D image;
in vec2 uv;
out vec4 color;
void main() { color = vec4(texture(image, uv).rgb, 1.0); }
"""


def quad_buffer(ctx: moderngl.Context) -> moderngl.Buffer:
    """Four corners of a triangle strip covering the viewport."""
    return ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4"))


class Blit:
    """Draws a texture into a framebuffer's viewport."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._prog = ctx.program(vertex_shader=FULLSCREEN_VS, fragment_shader=_BLIT_FS)
        self._vbo = quad_buffer(ctx)
        self._vao = ctx.vertex_array(self._prog, [(self._vbo, "2f", "in_pos")])

    def draw(self, texture: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        target.use()
        texture.use(0)
        self._prog["image"].value = 0
        self._vao.render(moderngl.TRIANGLE_STRIP)

    def release(self) -> None:
        for thing in (self._vao, self._vbo, self._prog):
            thing.release()
