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
        self._flipped: np.ndarray | None = None  # reused: a fresh copy a frame costs its pages each frame

    def write(self, array: np.ndarray) -> moderngl.Texture:
        h, w = array.shape[:2]
        if self.texture is None or self.texture.size != (w, h):
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture((w, h), self.components, dtype=self.dtype)
            self.texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self.texture.repeat_x = self.texture.repeat_y = False
        # Video frames arrive top row first; GL textures start at the bottom row.
        if self._flipped is None or self._flipped.shape != array.shape or self._flipped.dtype != array.dtype:
            self._flipped = np.empty(array.shape, array.dtype)
        np.copyto(self._flipped, array[::-1])
        self.texture.write(self._flipped)
        return self.texture

    def release(self) -> None:
        if self.texture is not None:
            self.texture.release()
            self.texture = None


class AudioTextures:
    """hl_spectrum (log-frequency, 0..1) and hl_waveform (-1..1) as 1-row float textures, plus the
    images of ISF `audio`/`audioFFT` inputs in the shape the ISF spec asks for (see `isf_audio_row`)."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.spectrum = StreamTexture(ctx, 1, "f4")
        self.waveform = StreamTexture(ctx, 1, "f4")
        self._isf: dict[str, tuple[str, int | None, StreamTexture]] = {}

    def request(self, kind: str, width: int | None) -> str:
        """Name under which `update` will return an ISF audio image of this kind and MAX width."""
        key = f"isf_{kind}_{width or 0}"
        if key not in self._isf:
            self._isf[key] = (kind, width, StreamTexture(self.ctx, 4, "f4"))
        return key

    def update(self, spectrum: np.ndarray, waveform: np.ndarray) -> dict[str, moderngl.Texture]:
        out = {
            "hl_spectrum": self.spectrum.write(spectrum.astype(np.float32).reshape(1, -1)),
            "hl_waveform": self.waveform.write(waveform.astype(np.float32).reshape(1, -1)),
        }
        for key, (kind, width, tex) in self._isf.items():
            source = waveform if kind == "audio" else spectrum
            out[key] = tex.write(isf_audio_row(kind, source, width))
        return out

    def current(self) -> dict[str, moderngl.Texture]:
        """The textures as `update` last wrote them, without writing (none before the first update)."""
        streams = {"hl_spectrum": self.spectrum, "hl_waveform": self.waveform}
        streams.update({key: tex for key, (_, _, tex) in self._isf.items()})
        return {name: stream.texture for name, stream in streams.items() if stream.texture is not None}

    def release(self) -> None:
        self.spectrum.release()
        self.waveform.release()
        for _, _, tex in self._isf.values():
            tex.release()
        self._isf.clear()


def isf_audio_row(kind: str, data: np.ndarray, width: int | None) -> np.ndarray:
    """A (1, width, 4) float image for an ISF audio input: grey (v, v, v, 1) texels.

    `audio` is the waveform centred on 0.5 (0..1), each texel the strongest sample of its stretch, so a
    MAX of 1 shows the overall volume as the spec asks; `audioFFT` is the spectrum (0..1), averaged."""
    data = np.asarray(data, np.float32)
    n = len(data)
    width = int(width) if width and width > 0 else n
    if n < 2:
        values = np.resize(data, width) if n else np.zeros(width, np.float32)
    elif width >= n:
        values = np.interp(np.linspace(0, n - 1, width), np.arange(n), data)
    else:
        chunks = np.array_split(data, width)
        if kind == "audio":
            values = np.array([c[np.argmax(np.abs(c))] for c in chunks], np.float32)
        else:
            values = np.array([c.mean() for c in chunks], np.float32)
    if kind == "audio":
        values = 0.5 + 0.5 * values
    values = np.clip(values, 0.0, 1.0).astype(np.float32)
    row = np.empty((1, width, 4), np.float32)
    row[0, :, :3] = values[:, None]
    row[0, :, 3] = 1.0
    return row
