"""Textures fed from the CPU each frame: clip frames and the audio spectrum/waveform."""

from __future__ import annotations

import moderngl
import numpy as np


class StreamTexture:
    """A texture rewritten from numpy arrays; re-created only when the array's size changes."""

    def __init__(self, ctx: moderngl.Context, components: int = 4, dtype: str = "f1"):
        self.ctx = ctx
        self.components = components
        self.dtype = dtype
        self.texture: moderngl.Texture | None = None

    def write(self, array: np.ndarray) -> moderngl.Texture:
        h, w = array.shape[:2]
        if self.texture is None or self.texture.size != (w, h):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((w, h), self.components, dtype=self.dtype)
            self.texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self.texture.repeat_x = self.texture.repeat_y = False
        # Video frames arrive top row first; GL textures start at the bottom row.
        self.texture.write(np.ascontiguousarray(array[::-1]))
        return self.texture

    def release(self) -> None:
        if self.texture is not None:
            self.texture.release()
            self.texture = None


class AudioTextures:
    """hl_spectrum (log-frequency, 0..1) and hl_waveform (-1..1) as 1-row float textures."""

    def __init__(self, ctx: moderngl.Context):
        self.spectrum = StreamTexture(ctx, 1, "f4")
        self.waveform = StreamTexture(ctx, 1, "f4")

    def update(self, spectrum: np.ndarray, waveform: np.ndarray) -> dict[str, moderngl.Texture]:
        return {
            "hl_spectrum": self.spectrum.write(spectrum.astype(np.float32).reshape(1, -1)),
            "hl_waveform": self.waveform.write(waveform.astype(np.float32).reshape(1, -1)),
        }

    def release(self) -> None:
        self.spectrum.release()
        self.waveform.release()
