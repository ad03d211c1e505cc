"""Prepared clips reach the GPU still compressed, the right way up, looking like the source; so do the
.hlclip files of earlier versions (stored bottom row first)."""

import json
import struct
import subprocess

import moderngl
import numpy as np
from conftest import run_cli
from PIL import Image

from engine.clips.blocks import decode_image
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


def write_hlclip(path, pictures: np.ndarray, fps: float = 24.0) -> None:
    """The .hlclip layout of earlier versions: magic, header, offsets, HAP DXT1 frames bottom row first."""
    h, w = pictures.shape[1:3]
    frames = [encode_frame(image) for image in encode_planes(np.ascontiguousarray(pictures[:, ::-1]), "hap")]
    meta = json.dumps({"width": w, "height": h, "fps": fps, "frames": len(frames)}).encode()
    magic = b"HLCLIP\x00\x01"
    offsets = [len(magic) + 4 + len(meta) + 8 * (len(frames) + 1)]
    for f in frames:
        offsets.append(offsets[-1] + len(f))
    path.write_bytes(
        magic
        + struct.pack("<I", len(meta))
        + meta
        + struct.pack(f"<{len(offsets)}Q", *offsets)
        + b"".join(frames)
    )


def test_an_earlier_versions_hlclip_still_plays_upright(tmp_path):
    write_hlclip(tmp_path / "old.hlclip", np.stack([sky_over_sea()] * 3))
    assert_upright(tmp_path / "old.hlclip")


def ffmpeg_frames(path, size) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0], 3)


def test_prepare_convert_turns_an_old_folder_into_hap_mov_losslessly(tmp_path):
    """`halation prepare --convert FOLDER`: each .hlclip becomes a HAP .mov that ffmpeg reads upright, the
    blocks unchanged (no generation lost), clips.json keeps its provenance; a damaged file is one line."""
    folder = tmp_path / "old_bank"
    folder.mkdir()
    rows = np.linspace(0, 255, 64).astype(np.uint8)[:, None, None]  # detail inside every block row
    pictures = np.stack([np.broadcast_to(rows, (64, 96, 3)).copy() for _ in range(4)])
    pictures[:, :32] //= 2
    pictures[:, :, :48, 0] = 200
    write_hlclip(folder / "ramp.hlclip", pictures)
    (folder / "broken.hlclip").write_bytes(b"not a clip")
    entry = {
        "name": "ramp",
        "file": "ramp.hlclip",
        "source": {"path": "/clips/ramp.mp4", "sha256": "ab" * 32},
        "duration": 4 / 24,
        "fps": 24.0,
        "size": [96, 64],
        "loop": {"mode": "loop", "frames": 4},
        "descriptors": {"brightness": 0.4},
        "provenance": {"model": "svd-xt", "prompt": "a ramp", "seed": 3},
        "tags": ["calm"],
    }
    (folder / "clips.json").write_text(json.dumps({"version": 1, "clips": [entry]}))

    result = run_cli("prepare", "--convert", str(folder))
    assert result.returncode == 1  # the damaged file failed…
    assert result.stderr.count("broken.hlclip") == 1, result.stderr
    assert "ramp.hlclip → ramp.mov (4 frames, lossless)" in result.stdout  # …the other converted
    clips = json.loads((folder / "clips.json").read_text())["clips"]
    assert clips[0]["file"] == "ramp.mov" and clips[0]["codec"] == "hap"
    assert {k: clips[0][k] for k in ("provenance", "tags", "source")} == {
        k: entry[k] for k in ("provenance", "tags", "source")
    }
    fields = "stream=codec_name:format=format_name"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", fields, "-of", "json", str(folder / "ramp.mov")],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(probe.stdout)
    assert info["streams"][0]["codec_name"] == "hap" and "mov" in info["format"]["format_name"]
    seen = ffmpeg_frames(folder / "ramp.mov", (96, 64))
    old = open_source(folder / "ramp.hlclip")
    as_before = decode_image(old.read(0), 96, 64)[..., :3]  # what the old clip showed, top row first
    old.close()
    assert len(seen) == 4
    assert np.abs(seen[0].astype(int) - as_before).max() <= 2  # the same blocks (ffmpeg's rounding)
    assert np.abs(seen[0].astype(int) - pictures[0]).mean() < 4  # and upright: the ramp runs downwards
    new = open_source(folder / "ramp.mov")
    assert np.array_equal(decode_image(new.read(0), 96, 64)[..., :3], as_before)
    new.close()
    again = run_cli("prepare", "--convert", str(folder))
    assert "0 converted" in again.stdout  # nothing done twice
