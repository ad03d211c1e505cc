"""Clip frames on the GPU: prepared (BC1) frames are uploaded still compressed with
glCompressedTexSubImage2D (moderngl rejects raw compressed data), video frames as RGBA. Never RGB8."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

import moderngl
import numpy as np

from engine.render.textures import StreamTexture

log = logging.getLogger(__name__)

GL_TEXTURE_2D = 0x0DE1
GL_COMPRESSED_RGB_S3TC_DXT1_EXT = 0x83F0


def _gl_function():
    """glCompressedTexSubImage2D from the system GL library (GLVND dispatches to the current context)."""
    for name in ("libGL.so.1", ctypes.util.find_library("GL"), "libOpenGL.so.0"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            fn = lib.glCompressedTexSubImage2D
            fn.argtypes = [
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_void_p,
            ]
            bind = lib.glBindTexture
            bind.argtypes = [ctypes.c_uint, ctypes.c_uint]
            return fn, bind
        except (OSError, AttributeError):
            continue
    return None


class ClipTexture:
    """One deck's current frame. `upload(kind, size, payload)` returns the texture to sample."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._rgba = StreamTexture(ctx)
        self._bc1: moderngl.Texture | None = None
        self._current: moderngl.Texture | None = None
        self._gl = _gl_function()
        if self._gl is None:
            log.warning("no glCompressedTexSubImage2D: prepared clips are decoded on the CPU (slower)")

    @property
    def current(self) -> moderngl.Texture | None:
        """The texture last uploaded to."""
        return self._current

    def upload(self, kind: str, size: tuple[int, int], payload) -> moderngl.Texture:
        self._current = self._upload(kind, size, payload)
        return self._current

    def _upload(self, kind: str, size: tuple[int, int], payload) -> moderngl.Texture:
        if kind == "rgba":
            return self._rgba.write(payload)
        if self._gl is None:
            from engine.clips.dxt import decode_bc1

            rgb = decode_bc1(payload, *size)[::-1]  # StreamTexture flips rows; prepared frames are bottom-up
            return self._rgba.write(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
        if self._bc1 is None or self._bc1.size != size:
            if self._bc1 is not None:
                self._bc1.release()
            self._bc1 = self.ctx.texture(size, 4, internal_format=GL_COMPRESSED_RGB_S3TC_DXT1_EXT)
            self._bc1.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._bc1.repeat_x = self._bc1.repeat_y = False
        upload, bind = self._gl
        self._bc1.use(0)
        bind(GL_TEXTURE_2D, self._bc1.glo)
        upload(
            GL_TEXTURE_2D, 0, 0, 0, size[0], size[1], GL_COMPRESSED_RGB_S3TC_DXT1_EXT, len(payload), payload
        )
        return self._bc1

    def release(self) -> None:
        self._rgba.release()
        if self._bc1 is not None:
            self._bc1.release()
            self._bc1 = None
