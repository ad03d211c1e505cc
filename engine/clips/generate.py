"""Procedural stand-ins for the short AI-generated clips the product plays.

Why: the demo and the tests need real H.264 clips to decode, loop and mix, but the repo must ship
no third-party footage. These are made from periodic value noise (numpy only), so every clip is
deterministic for its seed and loops seamlessly: time is a phase on a circle, so the frame after
the last one is the first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["STYLES", "generate_clip", "main"]

STYLES: tuple[str, ...] = ("nebula", "ember")

_F = np.float32


class _LoopNoise:
    """Value noise on a lattice that wraps in x, y and time.

    The time axis has `gt` cells per loop, so sampling at phase p and p + 1 gives the same field,
    and the field is tileable in space too. Time uses Catmull-Rom across lattice slices so motion
    never stops at lattice points (smoothstep would make the flow visibly stutter).
    """

    def __init__(self, rng: np.random.Generator, gx: int, gy: int, gt: int):
        self.gx, self.gy, self.gt = gx, gy, gt
        self.lattice = rng.random((gt, gy, gx), dtype=np.float32)

    def slice_at(self, phase: float) -> np.ndarray:
        """The 2-D lattice at loop phase in [0, 1)."""
        tt = (phase % 1.0) * self.gt
        i = int(np.floor(tt))
        f = tt - i
        p0, p1, p2, p3 = (self.lattice[(i + k) % self.gt] for k in (-1, 0, 1, 2))
        # Catmull-Rom; clip keeps the overshoot from leaving [0, 1]
        out = 0.5 * (
            2.0 * p1
            + (p2 - p0) * f
            + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * f * f
            + (3.0 * p1 - p0 - 3.0 * p2 + p3) * f * f * f
        )
        return np.clip(out, 0.0, 1.0).astype(_F).ravel()

    def sample(self, flat: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Smooth bilinear lookup of a slice at lattice coordinates (x, y), wrapping."""
        x0 = np.floor(x)
        y0 = np.floor(y)
        fx = x - x0
        fy = y - y0
        fx = fx * fx * (3.0 - 2.0 * fx)
        fy = fy * fy * (3.0 - 2.0 * fy)
        ix0 = x0.astype(np.int64) % self.gx
        iy0 = y0.astype(np.int64) % self.gy
        ix1 = (ix0 + 1) % self.gx
        iy1 = (iy0 + 1) % self.gy
        r0 = iy0 * self.gx
        r1 = iy1 * self.gx
        a = flat[r0 + ix0]
        b = flat[r0 + ix1]
        c = flat[r1 + ix0]
        d = flat[r1 + ix1]
        top = a + (b - a) * fx
        bot = c + (d - c) * fx
        return top + (bot - top) * fy


class _Fbm:
    """A few octaves of loop noise; octave k has 2^k times the spatial detail."""

    def __init__(self, rng: np.random.Generator, gx: int, gy: int, gt: int, octaves: int, gain: float = 0.5):
        self.layers = [_LoopNoise(rng, gx << k, gy << k, gt + k) for k in range(octaves)]
        amps = np.array([gain**k for k in range(octaves)], dtype=np.float64)
        self.amps = (amps / amps.sum()).astype(_F)

    def __call__(
        self, x: np.ndarray, y: np.ndarray, phase: float, shift: Callable[[int], float] | None = None
    ):
        total = np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=_F)
        for k, (layer, amp) in enumerate(zip(self.layers, self.amps, strict=True)):
            s = 1 << k
            dy = shift(k) if shift is not None else 0.0
            total += amp * layer.sample(layer.slice_at(phase), x * s, y * s + dy)
        return total


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _ramp(x: np.ndarray, stops: list[tuple[float, tuple[float, float, float]]]) -> np.ndarray:
    """Piecewise-linear colour palette: maps values in [0, 1] to RGB."""
    pos = np.array([s[0] for s in stops], dtype=_F)
    cols = np.array([s[1] for s in stops], dtype=_F)
    return np.stack([np.interp(x, pos, cols[:, c]).astype(_F) for c in range(3)], axis=-1)


def _splat(
    img: np.ndarray, xs: np.ndarray, ys: np.ndarray, rgb: np.ndarray, sigma: float, radius: int
) -> None:
    """Add small Gaussian blobs (particles) at sub-pixel positions, all particles at once."""
    assert img.flags.c_contiguous
    h, w, _ = img.shape
    off = np.arange(-radius, radius + 1)
    cx = np.floor(xs).astype(np.int64)
    cy = np.floor(ys).astype(np.int64)
    px = cx[:, None, None] + off[None, None, :]
    py = cy[:, None, None] + off[None, :, None]
    dx = px - xs[:, None, None]
    dy = py - ys[:, None, None]
    wgt = np.exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).astype(_F)
    ok = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    px, py = np.broadcast_arrays(px, py)
    flat = (py * w + px)[ok]
    flat_img = img.reshape(-1)  # a view: img is C-contiguous (h, w, 3)
    for c in range(3):
        contrib = (wgt * rgb[:, c, None, None])[ok]
        np.add.at(flat_img, flat * 3 + c, contrib)


class _Nebula:
    """Slow flowing purple/teal clouds with a few twinkling stars over a near-black sky."""

    def __init__(self, rng: np.random.Generator, w: int, h: int, cycles: int = 1):
        self.w, self.h, self.c = w, h, cycles
        c = cycles
        cells = 3
        self.x = (np.arange(w, dtype=_F) / w * cells)[None, :]
        self.y = (np.arange(h, dtype=_F) / w * cells)[:, None]
        gy = int(np.ceil(cells * h / w)) + 1
        self.warp_a = _Fbm(rng, cells, gy, 2 * c, 2)
        self.warp_b = _Fbm(rng, cells, gy, 2 * c, 2)
        self.density = _Fbm(rng, cells, gy, 3 * c, 5, 0.55)
        self.hue = _Fbm(rng, cells, gy, 2 * c, 2)
        n_stars = max(8, w * h // 2500)
        self.stars = (
            rng.uniform(0, w, n_stars).astype(_F),
            rng.uniform(0, h, n_stars).astype(_F),
            rng.uniform(0.3, 1.0, n_stars).astype(_F),
            rng.uniform(0, 1, n_stars),
        )

    def frame(self, phase: float) -> np.ndarray:
        ang = 2.0 * np.pi * phase * self.c
        # drift on a circle (periodic) plus a noise warp that also loops
        x = self.x + 0.35 * np.cos(ang)
        y = self.y + 0.25 * np.sin(ang)
        wx = self.warp_a(x, y, phase) - 0.5
        wy = self.warp_b(x + 5.2, y + 1.3, phase) - 0.5
        d = self.density(x + 1.6 * wx, y + 1.6 * wy, phase)
        hue = _smoothstep(0.35, 0.65, self.hue(x * 0.7 + 3.1, y * 0.7, phase))
        cloud = _smoothstep(0.38, 0.78, d)
        core = _smoothstep(0.62, 0.9, d)
        purple = np.array([0.45, 0.12, 0.75], dtype=_F)
        teal = np.array([0.05, 0.62, 0.66], dtype=_F)
        tint = purple + (teal - purple) * hue[..., None]
        bg = np.array([0.015, 0.01, 0.04], dtype=_F)
        img = (
            bg + tint * (cloud**1.4)[..., None] + np.array([0.55, 0.5, 0.65], dtype=_F) * (core**2)[..., None]
        )
        sx, sy, sb, sp = self.stars
        tw = (0.6 + 0.4 * np.sin(2.0 * np.pi * (phase * 2 * self.c + sp))).astype(_F)
        _splat(img, sx, sy, np.repeat((sb * tw)[:, None], 3, axis=1) * 0.8, 0.7, 2)
        return img


class _Ember:
    """Licking flames rising from the bottom edge and drifting sparks, warm on black."""

    def __init__(self, rng: np.random.Generator, w: int, h: int, cycles: int = 1):
        self.w, self.h, self.c = w, h, cycles
        c = cycles
        cells = 6
        self.x = (np.arange(w, dtype=_F) / w * cells)[None, :]
        # half the vertical frequency: tall, thin tongues rather than round blobs
        self.y = (np.arange(h, dtype=_F) / w * cells * 0.5)[:, None]
        # a y lattice of 2 cells per octave-0 period, scrolled one whole period per loop (~80 px/s)
        self.gy = 2
        self.flame = _Fbm(rng, cells, self.gy, 3 * c, 5, 0.55)
        self.warp = _Fbm(rng, cells, self.gy, 2 * c, 2)
        self.base = _Fbm(rng, cells, 1, 2 * c, 2)
        self.height = (np.arange(h, dtype=_F) / (h - 1))[:, None]  # 0 at the top edge, 1 at the bottom
        n = max(12, w * h // 2000)
        self.margin = 6.0
        self.px = rng.uniform(0, w, n).astype(_F)
        self.py = rng.uniform(0, h + 2 * self.margin, n).astype(_F)
        self.speed = rng.integers(1, 3, n)  # whole wraps per loop, so sparks loop too
        self.wob = rng.uniform(0, 1, n)
        self.wob_amp = rng.uniform(2.0, 8.0, n).astype(_F)
        self.bright = rng.uniform(0.4, 1.0, n).astype(_F)

    def frame(self, phase: float) -> np.ndarray:
        def rise(k: int) -> float:
            return phase * self.c * (self.gy << k)  # whole lattice periods per loop, per octave

        wx = self.warp(self.x, self.y, phase, rise) - 0.5
        heat = (self.flame(self.x + 1.2 * wx, self.y, phase, rise) - 0.5) * 3.0 + 0.5
        base = self.base(self.x, np.zeros_like(self.y), phase)
        # tongues: the noise has to beat a threshold that rises with height above the bottom edge
        lift = self.height**1.5 * (0.75 + 0.5 * base)
        t = np.clip((heat + 1.1 * lift - 0.95) * 1.35, 0.0, 1.0) ** 1.4
        img = _ramp(
            t,
            [
                (0.0, (0.01, 0.0, 0.0)),
                (0.25, (0.35, 0.03, 0.0)),
                (0.55, (0.9, 0.3, 0.02)),
                (0.8, (1.0, 0.62, 0.12)),
                (1.0, (1.0, 0.9, 0.55)),
            ],
        )
        span = self.h + 2 * self.margin
        ys = (self.py - phase * self.c * self.speed * span) % span - self.margin
        ang = 2.0 * np.pi * (phase * 2 * self.c + self.wob)
        xs = self.px + self.wob_amp * np.sin(ang).astype(_F)
        glow = self.bright * (0.55 + 0.45 * np.sin(ang * 1.5 + 1.0).astype(_F) ** 2)
        glow *= np.clip(ys / self.h + 0.3, 0.0, 1.0).astype(_F)  # sparks cool as they rise
        col = glow[:, None] * np.array([1.0, 0.55, 0.15], dtype=_F)
        _splat(img, xs.astype(_F), ys.astype(_F), col * 1.6, 1.1, 3)
        return img


_MAKERS = {"nebula": _Nebula, "ember": _Ember}


def generate_clip(
    path: Path,
    style: str,
    *,
    size: tuple[int, int] = (480, 270),
    fps: int = 24,
    seconds: float = 4.0,
    seed: int = 0,
) -> Path:
    """Render a seamless looping clip of `style` and encode it as H.264 mp4 (no audio).

    Frame i shows loop phase i / n, so playing it on repeat has no seam. Deterministic per seed.
    """
    if style not in _MAKERS:
        raise ValueError(f"unknown clip style {style!r}; choose one of {', '.join(STYLES)}")
    w, h = size
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise ValueError(f"clip size must be even and at least 16x16 (yuv420p), got {w}x{h}")
    n = max(2, round(seconds * fps))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # motion is set per 4 s of loop, so a longer loop repeats the motion instead of slowing it down
    cycles = max(1, round(seconds / 4.0))
    maker = _MAKERS[style](np.random.default_rng(seed), w, h, cycles)

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264",
            rate=Fraction(fps),
            options={
                "crf": "26",
                "preset": "medium",
                # fixed 12-frame GOPs so seeking/looping is cheap. mbtree off: with it, this x264 build gave
                # different bytes for identical input from one encode to the next
                "x264-params": "keyint=12:min-keyint=12:scenecut=0:mbtree=0",
            },
        )
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 12
        # x264's output depends on its thread count; one thread keeps the files byte-reproducible
        stream.codec_context.thread_count = 1
        stream.time_base = Fraction(1, fps)
        for i in range(n):
            rgb = np.clip(maker.frame(i / n), 0.0, 1.0)
            frame = av.VideoFrame.from_ndarray((rgb * 255.0 + 0.5).astype(np.uint8), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.clips.generate OUT_DIR`: write nebula.mp4 and ember.mp4 for the demo."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m engine.clips.generate OUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    for style in STYLES:
        p = generate_clip(out / f"{style}.mp4", style)
        print(f"{p} ({p.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
