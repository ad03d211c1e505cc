"""Prepared clips reach the GPU still compressed, the right way up, looking like the source; so do the
.hlclip files of earlier versions (stored bottom row first)."""

import json
import struct

import moderngl
import numpy as np
from PIL import Image

from engine.clips.encode import encode_planes
from engine.clips.hap import encode_frame
from engine.clips.prepare import PrepareSettings, prepare
from engine.clips.sources import open_source
from engine.render.cliptexture import ClipTexture
from engine.render.context import Offscreen

VS = "#version 330\nin vec2 p; out vec2 uv; void main(){ uv = p * 0.5 + 0.5; gl_Position = vec4(p, 0, 1); }"
FS = "#version 330\nuniform sampler2D t; in vec2 uv; out vec4 c; void main(){ c = texture(t, uv); }"
SKY, SEA = (220, 40, 30), (20, 60, 200)


def show(ctx, texture, size):
    """Draw a texture full-frame and read it back top row first, as a projector would show it."""
    prog = ctx.program(vertex_shader=VS, fragment_shader=FS)
    vbo = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], "f4"))
    vao = ctx.vertex_array(prog, [(vbo, "2f", "p")])
    out = Offscreen(ctx, size)
    out.fbo.use()
    texture.use(0)
    vao.render(moderngl.TRIANGLE_STRIP)
    pixels = out.read()
    for thing in (vao, vbo, prog):
        thing.release()
    out.release()
    return pixels[..., :3].astype(int)


def sky_over_sea() -> np.ndarray:
    picture = np.zeros((64, 96, 3), np.uint8)
    picture[:32] = SKY  # red sky on top
    picture[32:] = SEA  # blue sea below
    return picture


def assert_upright(path):
    source = open_source(path)
    gl_ctx = moderngl.create_standalone_context(backend="egl")  # its own: it releases a bound framebuffer
    assert source.kind == "hap"
    texture = ClipTexture(gl_ctx)
    tex = texture.upload(source.kind, source.size, source.read(0))
    assert texture.compressed_uploads == 1
    seen = show(gl_ctx, tex, (96, 64))
    assert np.abs(seen[8, 48] - SKY).max() <= 8
    assert np.abs(seen[56, 48] - SEA).max() <= 8
    texture.release()
    source.close()
    gl_ctx.release()


def test_prepared_frame_uploads_compressed_and_upright(tmp_path):
    src = tmp_path / "seq"
    src.mkdir()
    for i in range(8):
        Image.fromarray(sky_over_sea()).save(src / f"{i:02d}.png")
    prepare([src], tmp_path / "out", PrepareSettings((96, 64), 24.0))
    assert_upright(tmp_path / "out" / "seq.mov")


def test_an_earlier_versions_hlclip_still_plays_upright(tmp_path):
    """The .hlclip layout of earlier versions: magic, header, offsets, HAP DXT1 frames bottom row first."""
    frames = [encode_frame(image) for image in encode_planes(np.stack([sky_over_sea()[::-1]] * 3), "hap")]
    meta = json.dumps({"width": 96, "height": 64, "fps": 24.0, "frames": 3}).encode()
    magic = b"HLCLIP\x00\x01"
    offsets = [len(magic) + 4 + len(meta) + 8 * 4]
    for f in frames:
        offsets.append(offsets[-1] + len(f))
    path = tmp_path / "old.hlclip"
    path.write_bytes(
        magic + struct.pack("<I", len(meta)) + meta + struct.pack("<4Q", *offsets) + b"".join(frames)
    )
    assert_upright(path)
