"""Clip frames on the GPU.

HAP frames are uploaded still compressed (DXT1, DXT5, scaled-YCoCg DXT5, RGTC1 alpha) with
glCompressedTexSubImage2D (moderngl rejects raw compressed data, moderngl issue #739), then one small pass
turns them into the deck's RGBA texture: YCoCg → RGB, HAP Q Alpha's separate alpha plane, and the picture
the right way up (HAP stores the top row first, GL textures start at the bottom). Transition shaders then
sample a plain RGBA texture whatever the clip's format. Video frames arrive as RGBA arrays. Never RGB8.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import time

import moderngl

from engine.clips.hap import HapImage
from engine.render.quad import FULLSCREEN_VS, quad_buffer
from engine.render.textures import StreamTexture

log = logging.getLogger(__name__)

GL_TEXTURE_2D = 0x0DE1
GL_FORMATS = {
    "dxt1": 0x83F0,  # GL_COMPRESSED_RGB_S3TC_DXT1_EXT
    "dxt5": 0x83F3,  # GL_COMPRESSED_RGBA_S3TC_DXT5_EXT
    "ycocg-dxt5": 0x83F3,
    "rgtc1": 0x8DBB,  # GL_COMPRESSED_RED_RGTC1
    "bc7": 0x8E8C,  # GL_COMPRESSED_RGBA_BPTC_UNORM
}
# How the pass reads the planes: 0 opaque colour, 1 colour with alpha, 2 YCoCg, 3 YCoCg + alpha plane,
# 4 alpha only (a grey mask).
MODES = {
    ("dxt1",): 0,
    ("dxt5",): 1,
    ("bc7",): 1,
    ("ycocg-dxt5",): 2,
    ("ycocg-dxt5", "rgtc1"): 3,
    ("rgtc1",): 4,
}

_CONVERT_FS = """#version 330 core
uniform sampler2D colour;
uniform sampler2D alpha;
uniform int mode;
uniform vec2 extent;   // picture size / texture size (blocks pad the edges)
uniform bool top_down; // first stored row is the top of the picture
in vec2 uv;
out vec4 frag;
void main() {
    vec2 st = vec2(uv.x, top_down ? 1.0 - uv.y : uv.y) * extent;
    vec4 c = texture(colour, st);
    if (mode == 2 || mode == 3) {  // Vidvox's scaled YCoCg: Co, Cg, scale, Y
        c -= vec4(0.50196078431373, 0.50196078431373, 0.0, 0.0);
        float s = c.z * (255.0 / 8.0) + 1.0;
        float co = c.x / s, cg = c.y / s;
        c = vec4(c.w + co - cg, c.w + cg, c.w - co - cg, 1.0);
    }
    if (mode == 0) c.a = 1.0;
    if (mode == 3) c.a = texture(alpha, st).r;
    if (mode == 4) c = vec4(c.rrr, c.r);
    frag = c;
}
"""


@functools.cache
def _gl_functions():
    """glCompressedTexSubImage2D and glBindTexture from the system GL library (GLVND dispatches to the
    current context). Looked up once: find_library runs `ldconfig -p` in a subprocess, 3-10 ms on the
    render thread for each deck of every look brought in."""
    for name in ("libGL.so.1", ctypes.util.find_library("GL"), "libOpenGL.so.0"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            upload = lib.glCompressedTexSubImage2D
            upload.argtypes = [
                ctypes.c_uint,
                *[ctypes.c_int] * 5,
                ctypes.c_uint,
                ctypes.c_int,
                ctypes.c_void_p,
            ]
            bind = lib.glBindTexture
            bind.argtypes = [ctypes.c_uint, ctypes.c_uint]
            return upload, bind
        except (OSError, AttributeError):
            continue
    return None


@functools.cache
def _gl_finish():
    for name in ("libGL.so.1", ctypes.util.find_library("GL"), "libOpenGL.so.0"):
        try:
            if name:
                finish = ctypes.CDLL(name).glFinish
                finish.argtypes, finish.restype = [], None
                return finish
        except (OSError, AttributeError):
            continue
    return None


_FINISHING = [0.0]  # seconds spent in finish_releasing_gil, every call together (bench cues reads it)


def finish_releasing_gil(ctx: moderngl.Context) -> None:
    """ctx.finish() with the GIL released while the GL works (ctypes drops it for the call). moderngl holds
    the GIL through its calls, and on llvmpipe a finish is the frame's whole rasterisation (60-130 ms at
    1080p with DXT sampling, loaded machine): meanwhile no other Python thread runs, so clip decode workers
    miss their frames (1 HAP Q stream: 70 of 86 frames late). `ctx` must be this thread's current context."""
    started = time.perf_counter()
    finish = _gl_finish()
    if finish is None:
        ctx.finish()
    else:
        finish()
    _FINISHING[0] += time.perf_counter() - started


def finishing_seconds() -> float:
    """How long the show has waited for the GL to finish, all together: what a frame spent waiting for the
    GPU (llvmpipe's raster threads), apart from its own work and from waiting for the interpreter."""
    return _FINISHING[0]


def _address(plane: bytes | bytearray):
    """What glCompressedTexSubImage2D reads from: the plane's own memory, never a copy of it."""
    if isinstance(plane, bytes):
        return plane
    return (ctypes.c_char * len(plane)).from_buffer(plane)


def padded(size: tuple[int, int]) -> tuple[int, int]:
    """The texture size a block-compressed picture occupies (whole 4x4 blocks)."""
    return (size[0] + 3) // 4 * 4, (size[1] + 3) // 4 * 4


class _Planes:
    """The compressed textures a HAP frame is uploaded into, re-created only when format or size change."""

    def __init__(self, ctx: moderngl.Context, gl):
        self.ctx = ctx
        self._gl = gl
        self._textures: list[moderngl.Texture] = []
        self._key: tuple | None = None
        self.upload_seconds = 0.0  # time in the upload calls (the CPU side of a compressed frame)

    def upload(self, image: HapImage, size: tuple[int, int]) -> list[moderngl.Texture]:
        full = padded(size)
        key = (image.formats, full)
        if key != self._key:
            self.release()
            for fmt in image.formats:
                tex = self.ctx.texture(full, 4, internal_format=GL_FORMATS[fmt])
                tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
                tex.repeat_x = tex.repeat_y = False
                self._textures.append(tex)
            self._key = key
        upload, bind = self._gl
        for tex, fmt, plane in zip(self._textures, image.formats, image.planes, strict=True):
            tex.use(0)
            bind(GL_TEXTURE_2D, tex.glo)
            t0 = time.perf_counter()
            upload(GL_TEXTURE_2D, 0, 0, 0, full[0], full[1], GL_FORMATS[fmt], len(plane), _address(plane))
            self.upload_seconds += time.perf_counter() - t0
        return self._textures

    def release(self) -> None:
        for tex in self._textures:
            tex.release()
        self._textures, self._key = [], None


class ClipTexture:
    """One deck's current frame. `upload(kind, size, payload)` returns the RGBA texture to sample."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._rgba = StreamTexture(ctx)
        self._current: moderngl.Texture | None = None
        gl = _gl_functions()
        if gl is None:
            log.warning("no glCompressedTexSubImage2D: HAP clips are decoded on the CPU (slower)")
        self._planes = _Planes(ctx, gl) if gl is not None else None
        self._prog: moderngl.Program | None = None
        self._vbo = self._vao = None
        self._out: moderngl.Texture | None = None
        self._fbo: moderngl.Framebuffer | None = None
        self.compressed_uploads = 0  # frames that reached the GPU still compressed
        self.uploads = 0  # frames uploaded, however

    @property
    def upload_seconds(self) -> float:
        """Time spent in glCompressedTexSubImage2D, all frames together (benches)."""
        return self._planes.upload_seconds if self._planes is not None else 0.0

    @property
    def current(self) -> moderngl.Texture | None:
        """The texture last uploaded to."""
        return self._current

    def upload(self, kind: str, size: tuple[int, int], payload) -> moderngl.Texture:
        self._current = self._upload(kind, size, payload)
        self.uploads += 1
        return self._current

    def upload_compressed(self, image: HapImage, size: tuple[int, int]) -> None:
        """Only the still-compressed planes, without the conversion pass: what a frame costs the CPU side
        (`halation bench clips` measures it apart from the renderer's sampling)."""
        if self._planes is not None:
            self._planes.upload(image, size)
            self.compressed_uploads += 1

    def _upload(self, kind: str, size: tuple[int, int], payload) -> moderngl.Texture:
        if kind == "rgba":
            return self._rgba.write(payload)
        if self._planes is None:
            from engine.clips.blocks import decode_image

            return self._rgba.write(decode_image(payload, *size))
        planes = self._planes.upload(payload, size)
        self.compressed_uploads += 1
        return self._convert(payload, size, planes)

    def _target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self._out is None or self._out.size != size:
            old = (self._fbo, self._out)
            self._out = self.ctx.texture(size, 4)
            self._out.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._out.repeat_x = self._out.repeat_y = False
            self._fbo = self.ctx.framebuffer(color_attachments=[self._out])
            self._fbo.use()  # bound before the old one goes: releasing a bound framebuffer breaks the next
            for thing in old:
                if thing is not None:
                    thing.release()
        return self._fbo

    def _convert(self, image: HapImage, size: tuple[int, int], planes: list[moderngl.Texture]):
        if self._prog is None:
            self._prog = self.ctx.program(vertex_shader=FULLSCREEN_VS, fragment_shader=_CONVERT_FS)
            self._vbo = quad_buffer(self.ctx)
            self._vao = self.ctx.vertex_array(self._prog, [(self._vbo, "2f", "in_pos")])
        fbo = self._target(size)
        fbo.use()
        planes[0].use(0)
        planes[-1].use(1)
        full = padded(size)
        self._prog["colour"].value = 0
        if "alpha" in self._prog:
            self._prog["alpha"].value = 1
        self._prog["mode"].value = MODES[image.formats]
        self._prog["extent"].value = (size[0] / full[0], size[1] / full[1])
        self._prog["top_down"].value = image.top_down
        self._vao.render(moderngl.TRIANGLE_STRIP)  # blending is off between passes (overlay.py restores it)
        return self._out

    def release(self) -> None:
        self._rgba.release()
        if self._planes is not None:
            self._planes.release()
        for thing in (self._vao, self._vbo, self._prog, self._fbo, self._out):
            if thing is not None:
                thing.release()
        self._vao = self._vbo = self._prog = self._fbo = self._out = None
