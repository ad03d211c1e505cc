"""The operator's error overlay: shader reload errors as text in a box on the preview (never the projector).

Text is drawn with Pillow into a texture only when the message changes, so an overlay that stays up costs one
small blended quad per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import moderngl
import numpy as np

_VS = """#version 330 core
uniform vec4 rect;  // x, y, width, height in normalised device coordinates
in vec2 in_pos;
out vec2 uv;
void main() {
    uv = vec2(in_pos.x, 1.0 - in_pos.y);
    gl_Position = vec4(rect.xy + in_pos * rect.zw, 0.0, 1.0);
}
"""
_FS = """#version 330 core
uniform sampler2D text;
in vec2 uv;
out vec4 color;
void main() { color = texture(text, uv); }
"""
PADDING = 8
MAX_LINES = 8


class ErrorOverlay:
    """Draws error lines (e.g. `pipeline.errors()`) in a dark box at the top-left of a framebuffer."""

    def __init__(self, ctx: moderngl.Context, font_size: int = 16):
        self.ctx = ctx
        self.font_size = font_size
        self._prog = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self._vbo = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4"))
        self._vao = ctx.vertex_array(self._prog, [(self._vbo, "2f", "in_pos")])
        self._texture: moderngl.Texture | None = None
        self._text: tuple[str, ...] = ()

    def draw(self, target: moderngl.Framebuffer, errors: Sequence[object]) -> None:
        """Draw `errors` (anything with a str(): "file:line: message") over `target`; nothing if empty."""
        lines = tuple(str(e) for e in errors)[:MAX_LINES]
        if not lines:
            return
        if lines != self._text or self._texture is None:
            self._upload(lines)
        tex = self._texture
        _, _, w, h = target.viewport
        tw, th = min(tex.width, w), min(tex.height, h)
        # Top-left corner of the viewport, in normalised device coordinates.
        self._prog["rect"].value = (-1.0, 1.0 - 2.0 * th / h, 2.0 * tw / w, 2.0 * th / h)
        target.use()
        tex.use(0)
        self._prog["text"].value = 0
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._vao.render(moderngl.TRIANGLE_STRIP)
        self.ctx.disable(moderngl.BLEND)

    def _upload(self, lines: tuple[str, ...]) -> None:
        from PIL import Image, ImageDraw, ImageFont

        try:
            font = ImageFont.load_default(size=self.font_size)
        except TypeError:  # Pillow < 10.1: the fixed bitmap font
            font = ImageFont.load_default()
        text = "\n".join(("shader error — the last good version stays on the output", *lines))
        probe = ImageDraw.Draw(Image.new("L", (1, 1)))
        left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, spacing=4)
        size = (int(right - left) + 2 * PADDING, int(bottom - top) + 2 * PADDING)
        img = Image.new("RGBA", size, (20, 0, 0, 215))
        draw = ImageDraw.Draw(img)
        draw.multiline_text(
            (PADDING - left, PADDING - top), text, font=font, fill=(255, 190, 170, 255), spacing=4
        )
        if self._texture is not None:
            self._texture.release()
        self._texture = self.ctx.texture(size, 4, img.tobytes())
        self._text = lines

    def release(self) -> None:
        if self._texture is not None:
            self._texture.release()
            self._texture = None
        self._vao.release()
        self._vbo.release()
        self._prog.release()
