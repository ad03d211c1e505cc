"""HAP in QuickTime, in and out: files Debian's ffmpeg made (HAP, HAP Alpha, HAP Q, chunked) play on the GPU
still compressed and look as ffmpeg decodes them; files `halation prepare` makes are read by ffprobe and
ffmpeg as `hap` in a QuickTime container, and ffmpeg's decode matches Halation's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import moderngl
import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from engine.clips.blocks import decode_image
from engine.clips.encode import psnr
from engine.clips.hap import HapImage, decode_frame, encode_frame
from engine.clips.sources import open_source
from engine.render.cliptexture import ClipTexture

W, H = 128, 72
pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="Debian ffmpeg is not installed")


def picture(i: int) -> np.ndarray:
    """A detailed, moving RGBA test picture: colour gradients, stripes; left half 50 % transparent."""
    y, x = np.mgrid[0:H, 0:W]
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 0] = (x * 2 + i * 9) % 256
    rgba[..., 1] = (y * 3 + 40) % 256
    rgba[..., 2] = np.where(((x + i) // 6) % 2 == 0, 220, 30)
    rgba[..., 3] = np.where(x < W // 2, 128, 255)
    rgba[: H // 3, :, :3] = (230, 40, 30)  # a red band on top: orientation is visible
    return rgba


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rgba")
    for i in range(4):
        Image.fromarray(picture(i), "RGBA").save(folder / f"{i:03d}.png")
    return folder


def ffmpeg_hap(pngs, out, fmt: str, *extra: str):
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-framerate",
            "24",
            "-i",
            str(pngs / "%03d.png"),
            "-c:v",
            "hap",
            "-format",
            fmt,
            *extra,
            str(out),
        ],
        check=True,
    )
    return out


def ffmpeg_decode(path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)


def gpu_decode(ctx, path) -> tuple[np.ndarray, int]:
    """Every frame through Halation's GPU path, read back top row first; and how many went compressed."""
    source = open_source(path)
    texture = ClipTexture(ctx)
    frames = []
    for i in range(source.frame_count):
        tex = texture.upload(source.kind, source.size, source.read(i))
        frames.append(np.frombuffer(tex.read(), np.uint8).reshape(H, W, 4)[::-1])
    compressed = texture.compressed_uploads
    texture.release()
    source.close()
    return np.stack(frames), compressed


@pytest.fixture(scope="module")
def ctx():
    gl = moderngl.create_standalone_context(backend="egl")
    yield gl
    gl.release()


def ffprobe(path, entries: str) -> dict:
    """What Debian's ffprobe reads of a file: the entries asked for, as JSON."""
    cmd = ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "json", str(path)]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize(
    "fmt,extra,alpha",
    [("hap", (), False), ("hap_alpha", (), True), ("hap_q", (), False), ("hap_q", ("-chunks", "4"), False)],
)
def test_ffmpeg_hap_plays_compressed_and_matches_ffmpeg(ctx, pngs, tmp_path, fmt, extra, alpha):
    mov = ffmpeg_hap(pngs, tmp_path / f"{fmt}.mov", fmt, *extra)
    reference = ffmpeg_decode(mov)
    ours, compressed = gpu_decode(ctx, mov)
    assert compressed == len(reference) == 4  # every frame uploaded still compressed
    assert np.abs(ours.astype(int) - reference).max() <= 3
    assert min(psnr(a, b) for a, b in zip(ours, reference, strict=True)) > 45
    if alpha:  # the half-transparent half stays half-transparent
        assert abs(int(np.median(ours[0, :, : W // 2, 3])) - 128) <= 2
        assert int(ours[0, :, W // 2 :, 3].min()) >= 250
    assert ours[0, 5, W // 2, 0] > 200 and ours[0, 5, W // 2, 2] < 60  # the red band is on top


def test_hap_q_alpha_and_chunked_frames_round_trip_through_ffmpeg(ctx, tmp_path):
    """HAP Q Alpha (YCoCg DXT5 + an RGTC1 alpha plane, 0x0D) in 4 chunks: ffmpeg decodes what we write,
    and our GPU path shows what ffmpeg shows."""
    import etcpak

    from engine.clips.encode import scaled_ycocg
    from engine.clips.movfile import write_mov

    frames = [picture(i) for i in range(3)]
    packets = []
    for f in frames:
        colour = etcpak.compress_bc3(scaled_ycocg(f[..., :3]), W, H)
        alpha = etcpak.compress_bc4(np.ascontiguousarray(np.repeat(f[..., 3:], 4, 2)), W, H)
        packets.append(encode_frame(HapImage(("ycocg-dxt5", "rgtc1"), (colour, alpha)), chunks=4))
    assert decode_frame(packets[0], (W, H)).formats == ("ycocg-dxt5", "rgtc1")
    mov = tmp_path / "hapm.mov"
    write_mov(mov, (W, H), 24.0, "HapM", packets)
    reference = ffmpeg_decode(mov)
    ours, compressed = gpu_decode(ctx, mov)
    assert compressed == 3
    assert np.abs(ours.astype(int) - reference).max() <= 3
    assert abs(int(np.median(ours[0, :, : W // 2, 3])) - 128) <= 2


KEYED = """/*{ "ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}] }*/
void main() {
    vec4 clip = IMG_NORM_PIXEL(inputImage, isf_FragNormCoord);
    vec3 shader = vec3(0.0, 0.8, 0.0);
    gl_FragColor = vec4(mix(shader, clip.rgb, clip.a), 1.0);
}
"""


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["hap_alpha", "hap", "hap_q"])
def test_render_plays_ffmpeg_hap_compressed_and_keys_a_half_transparent_clip(pngs, tmp_path, fmt):
    """`render` with a HAP, HAP Q or HAP Alpha .mov made by ffmpeg: every frame reaches the GPU still
    compressed, the picture is ffmpeg's, and HAP Alpha's half-transparent half keys over the shader."""
    mov = ffmpeg_hap(pngs, tmp_path / f"{fmt}.mov", fmt)
    (tmp_path / "keyed.fs").write_text(KEYED)
    (tmp_path / "keyed.toml").write_text(
        f'name = "keyed"\n[shader]\nfile = "keyed.fs"\n[clips]\na = "{mov}"\nb = "{mov}"\n'
        'transition = "fade"\n'
    )
    frames = tmp_path / "frames"
    result = run_cli(
        "--debug", "render", "--preset", str(tmp_path / "keyed.toml"), "--frames", str(frames),
        "--size", f"{W}x{H}", "--fps", "10", "--duration", "0.2", "--flash-limit", "off",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    uploads = re.findall(r"clip deck A: (\d+) of (\d+) frames uploaded still compressed", result.stderr)
    assert uploads and all(a == b and int(a) > 0 for a, b in uploads), result.stderr[-2000:]
    seen = np.asarray(Image.open(sorted(frames.glob("*.png"))[0]).convert("RGB")).astype(int)
    clip = ffmpeg_decode(mov)[0].astype(int)
    expected = (0.0, 0.8 * 255, 0.0) * (1 - clip[..., 3:] / 255) + clip[..., :3] * clip[..., 3:] / 255
    bottom = slice(H // 2, H - 4)
    assert np.abs(seen[bottom] - expected[bottom]).mean() < 4  # keyed: half clip, half shader on the left
    left, right = slice(4, W // 2 - 4), slice(W // 2 + 4, W - 4)
    shader_shows = np.abs(seen[bottom, left] - clip[bottom, left, :3]).mean() > 20
    assert shader_shows == (fmt == "hap_alpha")  # alpha kept: the shader shows through; opaque: it does not
    assert np.abs(seen[bottom, right] - clip[bottom, right, :3]).mean() < 4  # opaque half: only the clip


def test_prepare_writes_hap_quicktime_that_ffmpeg_reads_as_ours(ctx, pngs, tmp_path):
    out = tmp_path / "clips"
    for codec in ("hap", "hap-alpha", "hap-q"):
        result = run_cli(
            "prepare", str(pngs), "--out", str(out / codec), "--size", f"{W}x{H}", "--fps", "24",
            "--codec", codec, "--no-deflicker",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        entry = json.loads((out / codec / "clips.json").read_text())["clips"][0]
        assert entry["codec"] == codec and entry["file"].endswith(".mov")
        mov = out / codec / entry["file"]
        info = ffprobe(mov, "stream=codec_name,codec_tag_string:format=format_name")
        assert info["streams"][0]["codec_name"] == "hap"
        assert (
            info["streams"][0]["codec_tag_string"]
            == {"hap": "Hap1", "hap-alpha": "Hap5", "hap-q": "HapY"}[codec]
        )
        assert "mov" in info["format"]["format_name"]
        theirs = ffmpeg_decode(mov)
        ours, _ = gpu_decode(ctx, mov)
        source = open_source(mov)
        cpu = np.stack([decode_image(source.read(i), W, H) for i in range(source.frame_count)])
        source.close()
        assert min(psnr(a, b) for a, b in zip(ours, theirs, strict=True)) > 45
        assert min(psnr(a, b) for a, b in zip(cpu, theirs, strict=True)) > 45
        if codec == "hap-alpha":
            assert abs(int(np.median(theirs[0, :, : W // 2, 3])) - 128) <= 2


def test_dxv3_plays_through_pyavs_decoder_on_the_cpu(tmp_path):
    """Resolume's DXV3 (made here with the DXV encoder of PyAV's FFmpeg): decoded by PyAV to RGBA."""
    import av

    mov = tmp_path / "dxv.mov"
    with av.open(str(mov), "w") as out:
        stream = out.add_stream("dxv", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "rgba"
        for i in range(3):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture(i), format="rgba")))
        out.mux(stream.encode(None))
    source = open_source(mov)
    assert source.kind == "rgba" and source.frame_count == 3
    frame = source.read(1)
    source.close()
    assert frame.shape == (H, W, 4)
    assert frame[5, W // 2, 0] > 200 and frame[5, W // 2, 2] < 60  # the red band, on top


def test_auto_keeps_alpha_and_picks_hap_q_for_detail():
    from engine.clips.encode import choose_codec

    y, x = np.mgrid[0:H, 0:W]
    smooth = np.stack([np.dstack([x * 2, y * 3, np.full_like(x, 90)]).astype(np.uint8)] * 3)
    detailed = np.random.default_rng(0).integers(0, 256, (3, H, W, 3), np.uint8)  # grain, fine texture
    assert choose_codec(smooth) == "hap"
    assert choose_codec(detailed) == "hap-q"
    assert choose_codec(np.stack([picture(i) for i in range(3)])) == "hap-alpha"
    assert choose_codec(np.stack([np.dstack([f, np.full((H, W), 255, np.uint8)]) for f in smooth])) == "hap"


def test_preparing_a_hap_q_clip_keeps_the_packets_of_the_frames_it_leaves_alone(pngs, tmp_path):
    """A HAP Q library clip is not encoded a second time: frames prepare does not change are copied."""
    from engine.clips.movfile import HapMovReader

    source = ffmpeg_hap(pngs, tmp_path / "q.mov", "hap_q")
    out = tmp_path / "out"
    result = run_cli("prepare", str(source), "--out", str(out), "--size", f"{W}x{H}", "--fps", "24")
    assert result.returncode == 0, result.stderr
    entry = json.loads((out / "clips.json").read_text())["clips"][0]
    assert entry["codec"] == "hap-q"  # auto keeps the library's variant
    theirs, ours = HapMovReader(source), HapMovReader(out / entry["file"])
    kept = {ours.packet(i) for i in range(ours.frame_count)} & {theirs.packet(i) for i in range(4)}
    assert len(kept) >= 2  # the 4-frame clip ping-pongs: every frame not deflickered is the source's own
    theirs.close()
    ours.close()


def test_prepared_real_ai_clips_are_hap_quicktime_that_ffmpeg_decodes_as_we_do(ctx, shared_data, tmp_path):
    picks = sorted((shared_data / "clips").rglob("*.mp4"))[:2]
    out = tmp_path / "ai"
    result = run_cli("prepare", *map(str, picks), "--out", str(out), "--size", f"{W}x{H}", "--fps", "24")
    assert result.returncode == 0, result.stderr
    for entry in json.loads((out / "clips.json").read_text())["clips"]:
        mov = out / entry["file"]
        info = ffprobe(mov, "stream=codec_name:format=format_name")
        assert info["streams"][0]["codec_name"] == "hap" and "mov" in info["format"]["format_name"]
        theirs = ffmpeg_decode(mov)
        ours, compressed = gpu_decode(ctx, mov)
        assert compressed == len(theirs) == entry["loop"]["frames"]
        assert min(psnr(a, b) for a, b in zip(ours, theirs, strict=True)) > 45  # the same picture
