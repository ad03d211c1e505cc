"""The operator's overlay on the preview (never the projector): shader and preset errors, and what the engine
hears (tempo, confidence, bar and beat, band meters).

Text is drawn with Pillow into a texture only when it changes, so an overlay that stays up costs one small
blended quad per frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
ERROR_HEADER = "error — the last good look stays on the output"
HUD_BANDS = ("bass", "lowmid", "mid", "highmid", "high")


class PreviewOverlay:
    """The operator's text over the preview (never the projector): errors (e.g. `pipeline.errors()`) in a
    red box at the top-left and, when `status` lines are set, what the engine hears in a dim box at the
    bottom-left (`status_lines`)."""

    def __init__(self, ctx: moderngl.Context, font_size: int = 16):
        self.ctx = ctx
        self._prog = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self._vbo = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4"))
        self._vao = ctx.vertex_array(self._prog, [(self._vbo, "2f", "in_pos")])
        self._errors = _TextBox(ctx, font_size, background=(20, 0, 0, 215), ink=(255, 190, 170, 255))
        self._status = _TextBox(ctx, font_size, background=(0, 0, 0, 160), ink=(200, 220, 255, 255))
        self.status: Sequence[str] = ()

    def draw(self, target: moderngl.Framebuffer, errors: Sequence[object]) -> None:
        """Draw `errors` (anything with a str(): "file:line: message") and the status over `target`."""
        lines = tuple(str(e) for e in errors)[:MAX_LINES]
        if lines:
            self._box(target, self._errors.texture((ERROR_HEADER, *lines)), top=True)
        if self.status:
            self._box(target, self._status.texture(tuple(self.status)), top=False)

    def _box(self, target: moderngl.Framebuffer, tex: moderngl.Texture, top: bool) -> None:
        _, _, w, h = target.viewport
        tw, th = min(tex.width, w), min(tex.height, h)
        y = 1.0 - 2.0 * th / h if top else -1.0  # top-left or bottom-left, in normalised device coordinates
        self._prog["rect"].value = (-1.0, y, 2.0 * tw / w, 2.0 * th / h)
        target.use()
        tex.use(0)
        self._prog["text"].value = 0
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._vao.render(moderngl.TRIANGLE_STRIP)
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        self._errors.release()
        self._status.release()
        self._vao.release()
        self._vbo.release()
        self._prog.release()


class _TextBox:
    """Lines of text drawn with Pillow into a texture, again only when they change."""

    def __init__(self, ctx: moderngl.Context, font_size: int, background: tuple, ink: tuple):
        self.ctx = ctx
        self.font_size = font_size
        self.background, self.ink = background, ink
        self._texture: moderngl.Texture | None = None
        self._text: tuple[str, ...] = ()

    def texture(self, lines: tuple[str, ...]) -> moderngl.Texture:
        if lines != self._text or self._texture is None:
            self._upload(lines)
        return self._texture

    def _upload(self, lines: tuple[str, ...]) -> None:
        from PIL import Image, ImageDraw, ImageFont

        try:
            font = ImageFont.load_default(size=self.font_size)
        except TypeError:  # Pillow < 10.1: the fixed bitmap font
            font = ImageFont.load_default()
        text = "\n".join(lines)
        probe = ImageDraw.Draw(Image.new("L", (1, 1)))
        left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, spacing=4)
        size = (int(right - left) + 2 * PADDING, int(bottom - top) + 2 * PADDING)
        img = Image.new("RGBA", size, self.background)
        ImageDraw.Draw(img).multiline_text(
            (PADDING - left, PADDING - top), text, font=font, fill=self.ink, spacing=4
        )
        if self._texture is not None:
            self._texture.release()
        self._texture = self.ctx.texture(size, 4, img.tobytes())
        self._text = lines

    def release(self) -> None:
        if self._texture is not None:
            self._texture.release()
            self._texture = None


def status_lines(values: Mapping[str, float]) -> tuple[str, str]:
    """What the engine hears, for the preview: tempo, confidence, bar and beat (a * on the beat), and a
    meter per band. Levels are shown in eighths, so the text (and its texture) changes only a few times a
    second."""
    if values.get("bpm", 0.0) > 0:
        beat = "*" if values.get("on_beat", 0.0) > 0.5 else " "
        clock = (
            f"{values['bpm']:.1f} BPM  {values.get('bpm_confidence', 0.0):.0%}"
            f"{'  locked' if values.get('tempo_locked') else ''}"
            f"  bar {int(values.get('bar_count', 0)) + 1} beat {int(values.get('bar_beat', 0)) + 1} {beat}"
        )
    else:
        clock = "listening for the beat…" if not values.get("silence") else "silence"
    meters = "  ".join(
        f"{band} {'#' * round(8 * values.get(band + '.level', 0.0)):.<8}" for band in HUD_BANDS
    )
    return clock, meters
