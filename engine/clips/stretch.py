"""Stretch a short clip across the beat: motion-interpolated in-between frames, made once at prepare time.

AI clips last 2-4 s; beat-synced over 8 or 16 beats they would repeat frames (stutter). Between each pair of
neighbouring frames OpenCV's DIS optical flow is measured both ways; an in-between frame at time t warps both
neighbours along the flow (backwards from the in-between) and blends them by t. Where the flow is unreliable
(the forward and backward flows disagree: occlusions, fast motion, a cut) the frame falls back to a plain
crossfade of the two neighbours, pixel by pixel; across a scene cut the whole frame does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOW_WIDTH = 480  # flow is measured at most this wide (AI motion is smooth; full size is 4x the cost)
CONSISTENT_PX = 1.0  # forward-backward disagreement (pixels at flow size) where trust starts to fall
CUT_STEP = 6.0  # a step this many times the clip's median step is a scene cut


@dataclass(frozen=True)
class StretchReport:
    source_frames: int
    frames: int
    fallback: float  # share of in-between pixels that were crossfaded instead of warped


@dataclass(frozen=True)
class Smoothness:
    """How evenly a stretched clip moves, against its source played at its own rate."""

    step_ratio: float  # mean step × stretch factor / source mean step (1 = the same motion per clip time)
    repeats: int  # steps with (almost) no change, under 5 % of the source's mean: a frame shown twice
    min_step_ratio: float  # smallest step × factor / source mean step


def frame_count(seconds_per_pass: float, fps: float) -> int:
    return max(1, round(seconds_per_pass * fps))


def beats_seconds(beats: float, bpm: float) -> float:
    return beats * 60.0 / bpm


def _steps(frames: np.ndarray, wrap: bool) -> np.ndarray:
    small = frames[:, ::4, ::4, :3].astype(np.float32)
    steps = np.abs(np.diff(small, axis=0)).reshape(len(frames) - 1, -1).mean(1)
    if wrap:
        steps = np.append(steps, np.abs(small[0] - small[-1]).mean())
    return steps


def smoothness(source: np.ndarray, stretched: np.ndarray, wrap: bool = True) -> Smoothness:
    base = _steps(source, wrap)
    steps = _steps(stretched, wrap)
    factor = len(stretched) / len(source)
    mean = max(float(base.mean()), 1e-6)
    return Smoothness(
        step_ratio=float(steps.mean()) * factor / mean,
        repeats=int((steps * factor < 0.05 * mean).sum()),
        min_step_ratio=float(steps.min()) * factor / mean,
    )


class _Flows:
    """Optical flow between neighbouring frames, both ways, measured once per pair."""

    def __init__(self, frames: np.ndarray):
        import cv2

        self.cv2 = cv2
        h, w = frames.shape[1:3]
        self.scale = min(1.0, FLOW_WIDTH / w)
        self.small_size = (max(8, round(w * self.scale)), max(8, round(h * self.scale)))
        self.grey = [
            cv2.resize(cv2.cvtColor(f[..., :3], cv2.COLOR_RGB2GRAY), self.small_size) for f in frames
        ]
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.full = (w, h)

    def pair(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flow i→j, flow j→i, trust 0..1) at full size, flows in full-size pixels."""
        if (i, j) not in self._cache:
            cv2 = self.cv2
            f01 = self.dis.calc(self.grey[i], self.grey[j], None)
            f10 = self.dis.calc(self.grey[j], self.grey[i], None)
            trust = self._trust(f01, f10)
            up = [cv2.resize(f, self.full, interpolation=cv2.INTER_LINEAR) / self.scale for f in (f01, f10)]
            trust = cv2.resize(
                cv2.GaussianBlur(trust, (0, 0), 2.0), self.full, interpolation=cv2.INTER_LINEAR
            )
            self._cache = {(i, j): (up[0], up[1], trust)}  # neighbours come in order: keep one pair
        return self._cache[(i, j)]

    def _trust(self, f01: np.ndarray, f10: np.ndarray) -> np.ndarray:
        """Forward-backward check: following i→j then j→i should come back where it started."""
        h, w = f01.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        back = self.cv2.remap(f10, gx + f01[..., 0], gy + f01[..., 1], self.cv2.INTER_LINEAR)
        error = np.linalg.norm(f01 + back, axis=2)
        limit = CONSISTENT_PX + 0.1 * np.linalg.norm(f01, axis=2)
        return np.clip(2.0 - error / limit, 0.0, 1.0).astype(np.float32)


def _warp(cv2, image: np.ndarray, flow: np.ndarray, amount: float, grid) -> np.ndarray:
    gx, gy = grid
    return cv2.remap(
        image,
        gx - amount * flow[..., 0],
        gy - amount * flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    ).astype(np.float32)


def stretch(frames: np.ndarray, count: int, wrap: bool = True) -> tuple[np.ndarray, StretchReport]:
    """`count` frames spanning the same clip time as `frames` (more of them: in-betweens by flow).

    `wrap`: the clip loops, so the last in-betweens lead back into the first frame."""
    n = len(frames)
    if count <= n or n < 2:
        return frames, StretchReport(n, n, 0.0)
    flows = _Flows(frames)
    cv2 = flows.cv2
    h, w = frames.shape[1:3]
    grid = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    steps = _steps(frames, wrap)
    cut = steps > max(CUT_STEP * float(np.median(steps)), 30.0)
    positions = np.arange(count) * (n / count if wrap else (n - 1) / (count - 1))
    out = np.empty((count, *frames.shape[1:]), np.uint8)
    fallback, blended = 0.0, 0
    for k, p in enumerate(positions):
        i, t = int(p), float(p - int(p))
        j = (i + 1) % n
        if t < 1e-3 or (not wrap and i >= n - 1):
            out[k] = frames[min(i, n - 1)]
            continue
        a, b = frames[i].astype(np.float32), frames[j].astype(np.float32)
        fade = (1 - t) * a + t * b
        if cut[i]:
            out[k], fallback, blended = np.round(fade).astype(np.uint8), fallback + 1.0, blended + 1
            continue
        f01, f10, trust = flows.pair(i, j)
        warped = (1 - t) * _warp(cv2, frames[i], f01, t, grid) + t * _warp(cv2, frames[j], f10, 1 - t, grid)
        m = trust[..., None] if frames.ndim == 4 else trust
        out[k] = np.clip(np.round(m * warped + (1 - m) * fade), 0, 255).astype(np.uint8)
        fallback, blended = fallback + float(1.0 - trust.mean()), blended + 1
    return out, StretchReport(n, count, round(fallback / max(blended, 1), 4))
