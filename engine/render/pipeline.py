"""The render graph of a preset: clip decks → transition → the preset's shader → master level → target.

Everything is drawn into framebuffers owned here; the caller supplies the final target (a window's screen,
or an offscreen framebuffer that is read back for video files).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import moderngl
import numpy as np

from engine.analysis.features import Features
from engine.clips.player import ClipPlayer
from engine.clock import FrameTime
from engine.errors import MediaError
from engine.params.store import ParamValue
from engine.render.program import FrameInfo, IsfProgram
from engine.render.textures import AudioTextures, StreamTexture
from engine.show.preset import Preset

log = logging.getLogger(__name__)

_MASTER_VS = """#version 330 core
in vec2 in_pos;
out vec2 uv;
void main() { uv = in_pos * 0.5 + 0.5; gl_Position = vec4(in_pos, 0.0, 1.0); }
"""
_MASTER_FS = """#version 330 core
uniform sampler2D image;
uniform float level;
in vec2 uv;
out vec4 color;
void main() { color = vec4(texture(image, uv).rgb * level, 1.0); }
"""


def audio_uniforms(features: Features) -> dict[str, float]:
    """Every analysis value as the hl_* uniform name shaders read (bass.hits → hl_bass_hits)."""
    return {"hl_" + name.replace(".", "_"): float(v) for name, v in features.values().items()}


class ClipDeck:
    """One clip player and its texture; a clip that cannot be opened is skipped, never fatal."""

    def __init__(self, ctx: moderngl.Context, path):
        self.texture = StreamTexture(ctx)
        self.player: ClipPlayer | None = None
        self._shown = -1
        try:
            self.player = ClipPlayer(path)
        except MediaError as exc:
            log.warning("skipping clip: %s", exc)

    def update(self, t: float) -> moderngl.Texture | None:
        if self.player is None:
            return None
        index = self.player.index_at(t)
        if index != self._shown or self.texture.texture is None:
            _, rgba = self.player.frame(index)
            self.texture.write(rgba)
            self._shown = index
        return self.texture.texture

    def release(self) -> None:
        self.texture.release()
        if self.player is not None:
            self.player.close()


class Pipeline:
    def __init__(self, ctx: moderngl.Context, preset: Preset, size: tuple[int, int]):
        self.ctx = ctx
        self.preset = preset
        self.size = size
        self.shader = IsfProgram(ctx, preset.shader)
        self.transition = IsfProgram(ctx, preset.transition) if preset.transition else None
        self.decks = [ClipDeck(ctx, p) for p in preset.clips]
        self.audio = AudioTextures(ctx)
        self._clip_fbo = self._framebuffer(size)
        self._main_fbo = self._framebuffer(size)
        self._blank = ctx.texture((1, 1), 4, data=bytes(4))
        self._master = ctx.program(vertex_shader=_MASTER_VS, fragment_shader=_MASTER_FS)
        quad = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4"))
        self._quad = quad
        self._master_vao = ctx.vertex_array(self._master, [(quad, "2f", "in_pos")])
        self._shader_inputs = {i.name for i in preset.shader.inputs}

    def _framebuffer(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        tex = self.ctx.texture(size, 4)
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return self.ctx.framebuffer(color_attachments=[tex])

    def render(
        self,
        ft: FrameTime,
        values: Mapping[str, ParamValue],
        features: Features,
        target: moderngl.Framebuffer,
    ) -> None:
        if not values.get("master.freeze", False):
            self._draw_look(ft, values, features)
        level = 0.0 if values.get("master.blackout", False) else float(values.get("master.level", 1.0))
        target.use()
        self._main_fbo.color_attachments[0].use(0)
        self._master["image"].value = 0
        self._master["level"].value = level
        self._master_vao.render(moderngl.TRIANGLE_STRIP)

    def _draw_look(self, ft: FrameTime, values: Mapping[str, ParamValue], features: Features) -> None:
        """Clips → transition → the preset's shader, into the main framebuffer."""
        frame = FrameInfo(time=ft.time, timedelta=ft.delta, frame_index=ft.index, date=ft.date)
        uniforms = audio_uniforms(features)
        images = self.audio.update(features.spectrum, features.waveform)

        clip_textures = [t for t in (deck.update(ft.time) for deck in self.decks) if t is not None]
        clip_image = self._blank
        if clip_textures and self.transition is not None:
            start, end = clip_textures[0], clip_textures[-1]
            self.transition.render(
                self._clip_fbo,
                values={"progress": float(values.get("clips.crossfade", 0.0))},
                images={**images, "startImage": start, "endImage": end},
                frame=frame,
                audio=uniforms,
            )
            clip_image = self._clip_fbo.color_attachments[0]

        shader_values = {k[7:]: v for k, v in values.items() if k.startswith("shader.")}
        self.shader.render(
            self._main_fbo,
            values=shader_values,
            images={**images, "inputImage": clip_image},
            frame=frame,
            audio=uniforms,
        )

    def release(self) -> None:
        for deck in self.decks:
            deck.release()
        self.shader.release()
        if self.transition:
            self.transition.release()
        self.audio.release()
        for fbo in (self._clip_fbo, self._main_fbo):
            fbo.color_attachments[0].release()
            fbo.release()
        self._master_vao.release()
        self._quad.release()
        self._master.release()
        self._blank.release()
