"""Prepared clips reach the GPU still compressed, the right way up, looking like the source."""

import moderngl
import numpy as np
from PIL import Image

from engine.clips.prepare import PrepareSettings, prepare
from engine.clips.sources import open_source
from engine.render.cliptexture import ClipTexture
from engine.render.context import Offscreen

VS = "#version 330\nin vec2 p; out vec2 uv; void main(){ uv = p * 0.5 + 0.5; gl_Position = vec4(p, 0, 1); }"
FS = "#version 330\nuniform sampler2D t; in vec2 uv; out vec4 c; void main(){ c = texture(t, uv); }"


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


def test_prepared_frame_uploads_compressed_and_upright(tmp_path):
    src = tmp_path / "seq"
    src.mkdir()
    picture = np.zeros((64, 96, 3), np.uint8)
    picture[:32] = (220, 40, 30)  # red sky on top
    picture[32:] = (20, 60, 200)  # blue sea below
    for i in range(8):
        Image.fromarray(picture).save(src / f"{i:02d}.png")
    prepare([src], tmp_path / "out", PrepareSettings((96, 64), 24.0))
    source = open_source(tmp_path / "out" / "seq.hlclip")
    gl_ctx = moderngl.create_standalone_context(backend="egl")  # its own: it releases a bound framebuffer
    assert source.kind == "bc1"
    texture = ClipTexture(gl_ctx)
    tex = texture.upload(source.kind, source.size, source.read(0))
    seen = show(gl_ctx, tex, (96, 64))
    assert np.abs(seen[8, 48] - (220, 40, 30)).max() <= 8
    assert np.abs(seen[56, 48] - (20, 60, 200)).max() <= 8
    texture.release()
    source.close()
    gl_ctx.release()
