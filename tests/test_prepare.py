"""`halation prepare`: real decoding (PyAV), torch analysis, HAP .mov files, clips.json — checked on generated
clips and, when present, on the real AI clips in ../shared/data/clips."""

import json

import av
import numpy as np
import pytest
import torch
from conftest import run_cli
from PIL import Image

from engine.clips.blocks import decode_bc1, decode_image
from engine.clips.conform import conform
from engine.clips.dxt import encode_bc1
from engine.clips.encode import encode_planes, psnr
from engine.clips.generate import generate_clip
from engine.clips.prepare import PrepareSettings, prepare
from engine.clips.sources import open_source
from engine.paths import PRESETS_DIR

DEMO_EMBER = PRESETS_DIR / "demo" / "clips" / "ember.mp4"
SIZE = (160, 92)  # not a multiple of 4 on purpose: stored as 160x92 → BC1 needs 4x4 blocks


def frames_of(path, limit=None):
    with av.open(str(path)) as c:
        out = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return out[:limit]


def decoded(entry_dir, entry) -> np.ndarray:
    source = open_source(entry_dir / entry["file"])
    w, h = source.size
    frames = np.stack([decode_image(source.read(i), w, h)[..., :3] for i in range(source.frame_count)])
    source.close()
    return frames


def mean_abs(a, b) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def assert_seam_within_target(frames: np.ndarray):
    steps = [mean_abs(frames[i], frames[i + 1]) for i in range(len(frames) - 1)]
    assert mean_abs(frames[-1], frames[0]) <= np.median(steps) * 1.05 + 0.5


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    # Not made to loop: 3 s cut from the middle of a 5 s nebula.
    generate_clip(src / "long.mp4", "nebula", size=(192, 108), fps=24, seconds=5.0)
    with av.open(str(src / "long.mp4")) as c, av.open(str(src / "cut.mp4"), "w") as out:
        s = out.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 192, 108, "yuv420p"
        for i, f in enumerate(c.decode(video=0)):
            if 20 <= i < 92:
                frame = av.VideoFrame.from_ndarray(f.to_ndarray(format="rgb24"), format="rgb24")
                out.mux(s.encode(frame))
        out.mux(s.encode(None))
    (src / "long.mp4").unlink()
    (src / "cut.json").write_text(json.dumps({"model": "test-gen", "prompt": "purple nebula", "seed": 7}))
    seq = src / "sequence"
    seq.mkdir()
    for i, f in enumerate(frames_of(DEMO_EMBER, 24)):
        Image.fromarray(f).save(seq / f"{i:03d}.png")
    (src / "broken.mp4").write_bytes(b"this is not a video")
    return src


@pytest.fixture(scope="module")
def prepared(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("clips")
    result = run_cli(
        "prepare", str(sources), "--out", str(out), "--size", f"{SIZE[0]}x{SIZE[1]}", "--fps", "24"
    )
    return out, result


def test_prepare_reports_the_broken_file_and_prepares_the_rest(prepared, sources):
    out, result = prepared
    assert result.returncode == 1
    assert f"{sources / 'broken.mp4'}" in result.stderr
    assert "2 prepared, 0 unchanged, 1 failed" in result.stdout
    manifest = json.loads((out / "clips.json").read_text())
    names = {c["name"] for c in manifest["clips"]}
    assert names == {"cut", "sequence"}


def test_manifest_is_complete(prepared, sources):
    out, _ = prepared
    clips = {c["name"]: c for c in json.loads((out / "clips.json").read_text())["clips"]}
    cut = clips["cut"]
    for key in ("name", "file", "source", "duration", "fps", "size", "loop", "descriptors", "provenance"):
        assert key in cut
    assert cut["source"]["sha256"] and cut["source"]["path"].endswith("cut.mp4")
    assert cut["size"] == [160, 92] and cut["fps"] == 24.0
    assert cut["loop"]["mode"] in ("loop", "pingpong") and cut["loop"]["frames"] > 24
    d = cut["descriptors"]
    assert 0 < d["brightness"] < 0.5 and d["motion"] > 0 and len(d["palette"]) == 5
    assert cut["provenance"] == {"model": "test-gen", "prompt": "purple nebula", "seed": 7}
    ember = clips["sequence"]["descriptors"]["palette"]
    r, _, b = (int(ember[0][i : i + 2], 16) for i in (1, 3, 5))
    assert r >= b  # the ember clip's dominant colour is warm (or black)


def test_loop_seam_is_an_ordinary_step(prepared):
    out, _ = prepared
    for entry in json.loads((out / "clips.json").read_text())["clips"]:
        if entry["loop"]["mode"] == "loop":
            assert_seam_within_target(decoded(out, entry))


def test_unchanged_sources_are_skipped(prepared, sources):
    out, _ = prepared
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mov")}
    again = prepare([sources / "cut.mp4"], out, PrepareSettings(SIZE, 24.0))
    assert [o.status for o in again] == ["skipped"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mov")} == before


def test_etcpak_keeps_the_picture_close_to_the_torch_encoder():
    """etcpak trades a little quality for 30x the speed (halation bench clips measures both)."""
    frames = np.stack(frames_of(DEMO_EMBER, 4))[:, :268]
    torch_bc1 = encode_bc1(torch.from_numpy(frames))
    etcpak_bc1 = list(encode_planes(frames, "hap"))
    for f, old, new in zip(frames, torch_bc1, etcpak_bc1, strict=True):
        before, after = psnr(decode_bc1(old, 480, 268), f), psnr(decode_bc1(new.planes[0], 480, 268), f)
        assert before > 32 and after > 35 and after > before - 2.0


def test_etcpak_runs_its_sse4_build_with_the_plain_builds_output():
    """etcpak's wheels name their SIMD builds so that no current Python imports them (the plain build is 5x
    slower): prepare loads the SSE4.1 build where the CPU has it, and it compresses real frames byte for
    byte as the plain build does."""
    import sys

    import etcpak

    from engine.clips.encode import etcpak_module

    if "etcpak._etcpak_none" not in sys.modules:
        pytest.skip("this etcpak imports a SIMD build of its own")
    fast = etcpak_module()
    if "sse4_1" in etcpak.local_host.features:
        assert "_etcpak_sse41" in fast.__file__
    for f in frames_of(DEMO_EMBER, 3):
        rgba = np.ascontiguousarray(np.dstack([f, np.full(f.shape[:2], 255, np.uint8)])[:268])
        for name in ("compress_bc1", "compress_bc3"):
            assert getattr(fast, name)(rgba, 480, 268) == getattr(etcpak, name)(rgba, 480, 268)


def test_real_ai_clips_loop_within_target(shared_data, tmp_path):
    picks = sorted((shared_data / "clips").rglob("*.mp4"))[:3]
    outcomes = prepare(picks, tmp_path, PrepareSettings((128, 72), 24.0))
    assert [o.status for o in outcomes] == ["prepared"] * 3
    for entry in json.loads((tmp_path / "clips.json").read_text())["clips"]:
        if entry["loop"]["mode"] == "loop":
            assert_seam_within_target(decoded(tmp_path, entry))


def test_stored_recipes_are_the_looped_deflickered_frames():
    """prepare keeps the stored frames as recipes over the decoded buffer: they must be exactly the frames
    the loop (seam crossfade) and the deflicker describe, and leave the decoded frames untouched."""
    import cv2

    from engine.clips.deflicker import deflicker, deflicker_stored, luma_means
    from engine.clips.loop import LoopPlan, loop_frames
    from engine.clips.stored import StoredFrames, loop_recipe

    ramp = np.linspace(40, 200, 24)[None, None, :, None] + np.linspace(0, 30, 16)[None, :, None, None]
    moving = np.stack([np.roll(ramp[0], i, axis=1) for i in range(40)])  # each frame its own picture
    pump = 1.0 + 0.06 * np.sin(np.arange(40) * 2.1)  # AI-style brightness pumping
    decoded = np.clip(np.repeat(moving, 4, -1) * pump[:, None, None, None], 0, 255).astype(np.uint8)
    decoded[..., 3] = 255
    small = np.stack([cv2.resize(f, (3, 2), interpolation=cv2.INTER_AREA) for f in decoded])  # as conform
    kept = decoded.copy()
    plan = LoopPlan("loop", 3, 37, 8, 0.5)
    stored = StoredFrames(decoded, loop_recipe(plan, np.arange(40)), small)
    looped = loop_frames(decoded, plan)
    assert len(stored) == len(looped) == plan.frames
    assert np.abs(stored.array().astype(int) - looped).max() <= 1
    evened, report = deflicker_stored(stored, wrap=True)
    reference, expected = deflicker(looped, wrap=True)
    assert report.corrected == expected.corrected > 0 and report.after < report.before / 2
    assert np.abs(evened.array().astype(int) - reference).max() <= 2
    assert abs(float(luma_means(evened.small_frames()).std()) - float(luma_means(reference).std())) < 0.01
    for encoder in ("torch", "etcpak"):  # each encoder compresses each stored frame, not a reused buffer
        shown = [decode_bc1(i.planes[0], 24, 16) for i in encode_planes(evened, "hap", encoder)]
        assert min(psnr(a, b) for a, b in zip(shown, evened.array(), strict=True)) > 30
    assert np.array_equal(decoded, kept)  # the decoded buffer is never written


def _stored(decoded, recipe) -> np.ndarray:
    from engine.clips.stored import StoredFrames

    return np.stack([job().copy() for job in StoredFrames(decoded, recipe).jobs()])


@pytest.mark.parametrize("policy", ["fill", "fit"])
def test_a_video_read_twice_stores_the_frames_a_whole_clip_gives(sources, policy):
    """prepare keeps only a video's small copies and decodes it again for the encoder (memory no longer
    grows with the clip's length): the stored frames, retimed 24 → 30 fps, the loop's head crossfaded into
    its tail and brightened by the deflicker, are the ones the clip held whole gives, pixel for pixel."""
    from dataclasses import replace

    from engine.clips.loop import LoopPlan
    from engine.clips.stored import loop_recipe

    path = sources / "cut.mp4"  # 192x108: scaled and cropped (fill) or letterboxed (fit) into 160x92
    whole = conform(path, SIZE, 30.0, policy)
    twice = conform(path, SIZE, 30.0, policy, whole=False)
    assert len(twice.origins()) == len(whole.origins()) == 90 and twice.alpha is whole.alpha is False
    from engine.clips.deflicker import luma_means

    # The first pass shrinks the YUV planes, not the converted frames: a steady offset in brightness, which
    # moves under a quarter of a level from frame to frame (even at this 20x11 size), so no flicker is added.
    offset = luma_means(twice.small) - luma_means(whole.small)
    assert abs(float(offset.mean())) < 0.01 and np.abs(np.diff(offset)).max() < 1e-3
    assert np.array_equal(twice.sample(), whole.sample())
    recipe = loop_recipe(LoopPlan("loop", 6, 84, 20, 0.5), whole.origins())
    recipe = replace(recipe, gain=np.where(np.arange(len(recipe)) % 3 == 0, 1.07, 0.96).astype(np.float32))
    held, reread = _stored(whole.decoded, recipe), _stored(twice.decoded, recipe)
    assert len(held) == 58 and np.array_equal(held, reread)
