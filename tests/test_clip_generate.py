"""Procedural clips: real H.264 files that decode, move, stay dark and loop without a seam."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.clips.generate import STYLES, generate_clip

ROOT = Path(__file__).resolve().parent.parent
DEMO_CLIPS = ROOT / "presets" / "demo" / "clips"


def _decode(path: Path) -> tuple[av.video.stream.VideoStream, np.ndarray, int]:
    """All frames as float RGB, plus the stream and the count of audio streams."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = np.array([f.to_ndarray(format="rgb24") for f in c.decode(stream)], dtype=np.float32)
        return stream, frames, len(c.streams.audio)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


@pytest.fixture(scope="module")
def small_clips(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("clips")
    return {s: generate_clip(out / f"{s}.mp4", s, size=(96, 64), fps=12, seconds=4.0, seed=5) for s in STYLES}


def test_styles_include_nebula_and_ember() -> None:
    assert {"nebula", "ember"} <= set(STYLES)


@pytest.mark.parametrize("style", STYLES)
def test_clip_decodes_with_requested_size_rate_and_length(small_clips: dict[str, Path], style: str) -> None:
    stream, frames, n_audio = _decode(small_clips[style])
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (96, 64)
    assert stream.average_rate == Fraction(12)
    assert frames.shape == (48, 64, 96, 3)
    assert n_audio == 0


@pytest.mark.parametrize("style", STYLES)
def test_clip_moves_and_loops_without_a_seam(small_clips: dict[str, Path], style: str) -> None:
    _, f, _ = _decode(small_clips[style])
    steps = [_diff(f[i], f[i + 1]) for i in range(len(f) - 1)]
    seam = _diff(f[-1], f[0])
    assert _diff(f[0], f[len(f) // 2]) > 3.0  # visibly animated, not a still
    assert min(steps) > 0.0
    assert seam < 1.5 * float(np.median(steps)) + 0.5  # wrapping around is just another step
    n = len(f)
    far = float(np.median([_diff(f[0], f[k]) for k in range(n // 4, 3 * n // 4)]))
    assert seam < 0.5 * far  # a clip that did not loop would jump like this at the wrap


@pytest.mark.parametrize("style", STYLES)
def test_clip_is_dark_backgrounded(small_clips: dict[str, Path], style: str) -> None:
    _, f, _ = _decode(small_clips[style])
    luma = f.mean(axis=-1)
    assert luma.mean() < 110
    assert (luma < 30).mean() > 0.2  # plenty of near-black for projection


def test_styles_have_their_palettes(small_clips: dict[str, Path]) -> None:
    _, neb, _ = _decode(small_clips["nebula"])
    _, emb, _ = _decode(small_clips["ember"])
    nr, _, nb = neb.reshape(-1, 3).mean(axis=0)
    er, eg, eb = emb.reshape(-1, 3).mean(axis=0)
    assert nb > nr  # cool purple/teal
    assert er > eg > eb  # warm orange/red


def test_same_seed_same_frames(tmp_path: Path) -> None:
    kw = {"size": (64, 48), "fps": 8, "seconds": 0.5}
    a = _decode(generate_clip(tmp_path / "a.mp4", "ember", seed=2, **kw))[1]
    b = _decode(generate_clip(tmp_path / "b.mp4", "ember", seed=2, **kw))[1]
    c = _decode(generate_clip(tmp_path / "c.mp4", "ember", seed=3, **kw))[1]
    np.testing.assert_array_equal(a, b)
    assert _diff(a, c) > 1.0


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nebula"):
        generate_clip(tmp_path / "x.mp4", "plasma")
    with pytest.raises(ValueError, match="even"):
        generate_clip(tmp_path / "x.mp4", "nebula", size=(95, 64))


@pytest.mark.parametrize("name", ["nebula.mp4", "ember.mp4"])
def test_shipped_demo_clips(name: str) -> None:
    path = DEMO_CLIPS / name
    assert path.is_file(), "run: python -m engine.clips.generate presets/demo/clips"
    assert path.stat().st_size < 400_000
    stream, frames, _ = _decode(path)
    assert (stream.width, stream.height) == (480, 270)
    assert stream.average_rate == Fraction(24)
    assert len(frames) == 96
    assert _diff(frames[-1], frames[0]) < 0.5 * _diff(frames[0], frames[48])
