"""Short clips stretched across the beat (motion-interpolated in-betweens, no repeated frames) and deflicker
(AI brightness pumping evened out, deliberate strobes kept), measured as `prepare` makes them."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from conftest import run_cli

from engine.clips.blocks import decode_image
from engine.clips.conform import conform
from engine.clips.deflicker import brightness, deflicker, flicker
from engine.clips.describe import thumbnails
from engine.clips.generate import generate_clip
from engine.clips.loop import loop_frames, plan_loop
from engine.clips.prepare import PrepareSettings, stored_frames
from engine.clips.sources import open_source
from engine.clips.stretch import smoothness

HUNYUAN = "comfyanonymous_ComfyUI_examples/hunyuan_video_text_to_video.mp4"  # 3.04 s at 24 fps


def test_a_3_s_ai_clip_spans_16_beats_at_124_bpm_without_repeats(shared_data):
    path = shared_data / "clips" / HUNYUAN
    if not path.is_file():
        pytest.skip(f"{HUNYUAN} is absent")
    source = conform(path, (160, 88), None)
    assert source.fps == 24.0 and 70 <= len(source.frames) <= 75
    plan = plan_loop(thumbnails(source.frames), source.fps)
    looped = loop_frames(source.frames, plan)
    settings = PrepareSettings((160, 88), 30.0, deflicker=False, stretch_beats=16, stretch_bpm=124)
    stretched, report, _ = stored_frames(looped, plan.mode, settings)
    assert len(stretched) == round(16 * 60 / 124 * 30) == report["stretch"]["frames"]
    smooth = smoothness(looped, stretched, wrap=plan.mode == "loop")
    assert 0.75 <= smooth.step_ratio <= 1.25  # moves as much per clip-second as the source does
    assert smooth.repeats == 0
    held = looped[
        np.minimum((np.arange(len(stretched)) * len(looped) / len(stretched)).astype(int), len(looped) - 1)
    ]
    assert smoothness(looped, held).repeats > 100  # what beat sync alone would show: the stutter


def test_prepare_stretch_is_remembered_for_the_bank(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    generate_clip(src / "a.mp4", "nebula", size=(96, 54), fps=24, seconds=3.0)
    out = tmp_path / "bank"
    result = run_cli(
        "prepare", str(src / "a.mp4"), "--out", str(out), "--size", "96x52", "--fps", "30",
        "--stretch", "16", "--bpm", "124",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "→ 232 frames for 16 beats at 124 BPM" in result.stdout  # from the looped frames (≤ 72)
    generate_clip(src / "b.mp4", "ember", size=(96, 54), fps=24, seconds=3.0)
    again = run_cli("prepare", str(src / "b.mp4"), "--out", str(out), "--size", "96x52", "--fps", "30")
    assert again.returncode == 0, again.stderr
    manifest = json.loads((out / "clips.json").read_text())
    assert manifest["bank"] == {"stretch_beats": 16.0, "stretch_bpm": 124.0}
    for entry in manifest["clips"]:  # the second clip is stretched too: a bank setting
        assert entry["loop"]["frames"] == 232 and entry["loop"]["stretch"]["source_frames"] <= 72
    clip = open_source(out / "b.mov")
    frames = [decode_image(clip.read(i), 96, 52) for i in range(clip.frame_count)]
    clip.close()
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))  # no frame shown twice


def pumping_clip(n: int = 48, strobe_every: int = 0) -> np.ndarray:
    """A slowly drifting gradient whose brightness pumps by ±4 % frame to frame (as AI clips do); with
    `strobe_every`, a white flash on every such frame (a deliberate strobe)."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:36, 0:64]
    frames = []
    for i in range(n):
        base = 90 + 40 * np.sin(x / 9 + i / 10) + 20 * np.cos(y / 7)
        frame = np.clip(base * (1 + 0.04 * rng.standard_normal()), 0, 255)
        if strobe_every and i % strobe_every == 0:
            frame = np.full_like(frame, 250.0)
        frames.append(np.repeat(frame[..., None], 3, 2).astype(np.uint8))
    return np.stack(frames)


def test_deflicker_evens_out_ai_pumping_and_says_by_how_much():
    frames = pumping_clip()
    out, report = deflicker(frames)
    assert report.before == pytest.approx(flicker(brightness(frames)))
    assert report.after < 0.4 * report.before and report.corrected > 30
    assert report.after == pytest.approx(flicker(brightness(out)))


def test_deflicker_never_washes_out_a_strobe():
    frames = pumping_clip(strobe_every=6)
    out, report = deflicker(frames)
    flashes = np.arange(0, len(frames), 6)
    assert report.flashes >= len(flashes)
    assert np.array_equal(out[flashes], frames[flashes])  # every flash exactly as bright as the source's
    level_in, level_out = brightness(frames), brightness(out)
    assert (level_out[flashes] - np.delete(level_out, flashes).mean()).min() >= 0.95 * (
        level_in[flashes] - np.delete(level_in, flashes).mean()
    ).min()
