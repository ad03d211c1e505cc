"""Find where a clip loops best and hide the seam, or fall back to ping-pong.

AI clips are not made to loop: their last frame rarely matches their first. We look for the pair of frames
(i, j), far enough apart, that look most alike, play i…j and crossfade the tail into the head, so the jump
back to i is no bigger than an ordinary step between frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.clips.describe import step_differences

MIN_LOOP_SHARE = 0.4  # a loop keeps at least this share of the clip
CROSSFADE_SECONDS = 1.0
STARTS_PER_LENGTH = 3  # best-matching starts checked exactly (after the crossfade) per loop length


@dataclass(frozen=True)
class LoopPlan:
    mode: str  # "loop" (seamless after crossfade) or "pingpong"
    start: int  # first source frame used
    end: int  # one past the last source frame used
    crossfade: int  # frames of tail crossfaded into the head
    seam: float  # difference at the jump before hiding it, in units of the median step

    @property
    def frames(self) -> int:
        return self.end - self.start - self.crossfade if self.mode == "loop" else self.end - self.start


def plan_loop(thumbs: torch.Tensor, fps: float, min_seconds: float = 1.0) -> LoopPlan:
    n = len(thumbs)
    steps = step_differences(thumbs)
    steps = steps[steps > 1e-5]  # a clip retimed to a higher frame rate repeats frames: ignore those steps
    median = max(float(steps.median()) if len(steps) else 0.0, 1e-4)
    min_len = max(int(MIN_LOOP_SHARE * n), min(n - 1, round(min_seconds * fps)), 2)
    if n < 4 or min_len >= n:
        return LoopPlan("pingpong", 0, n, 0, float("inf"))
    flat = thumbs.flatten(1)
    dist = torch.cdist(flat, flat, p=1) / flat.shape[1]  # mean absolute difference
    small = thumbs.cpu().numpy()
    best_seam = float("inf")
    # Artists paid for the whole clip: try the longest loops first, each from its best-matching start.
    for length in range(n - 1, min_len - 1, -1):
        diagonal = torch.diagonal(dist, offset=length)  # dist[s, s + length] for every start s
        for start in torch.argsort(diagonal)[:STARTS_PER_LENGTH].tolist():
            end = start + length  # play start … end-1, then jump back to start (frame end ≈ frame start)
            seam = float(dist[start, end]) / median
            best_seam = min(best_seam, seam)
            crossfade = min(round(CROSSFADE_SECONDS * fps), length // 4)
            plan = LoopPlan("loop", start, end, crossfade, seam)
            if seam_hidden(loop_edges(small, plan), crossfade, median):
                return plan
    return LoopPlan("pingpong", 0, n, 0, best_seam)  # every seam would show: bounce instead


def wrap_difference(frames: np.ndarray) -> float:
    """Mean absolute difference at the loop point (last stored frame → first), in the frames' units."""
    return float(np.abs(frames[-1].astype(np.float32) - frames[0].astype(np.float32)).mean())


def seam_hidden(frames: np.ndarray, crossfade: int, median: float) -> bool:
    """The jump back is an ordinary step, and the crossfade spreads the difference thinly enough."""
    tail = frames[-crossfade - 1 :].astype(np.float32)
    worst = (
        float(np.abs(np.diff(tail, axis=0)).reshape(len(tail) - 1, -1).mean(1).max()) if crossfade else 0.0
    )
    return wrap_difference(frames) <= median and worst <= 2.0 * median


def _tail(frames: np.ndarray, plan: LoopPlan) -> np.ndarray:
    """The loop's last `crossfade` frames: its tail crossfaded into the frames before its head."""
    k, s, e = plan.crossfade, plan.start, plan.end
    # The weight reaches 1 on the last frame: it *is* the frame before the head, so the wrap is a real step.
    w = (np.arange(1, k + 1, dtype=np.float32) / k).reshape(-1, *([1] * (frames.ndim - 1)))
    tail = (1.0 - w) * frames[e - k : e].astype(np.float32) + w * frames[s : s + k].astype(np.float32)
    if frames.dtype == np.uint8:
        tail = np.round(tail).astype(np.uint8)
    return tail.astype(frames.dtype)


def loop_frames(frames: np.ndarray, plan: LoopPlan) -> np.ndarray:
    """The frames to store: for a loop, the body, then the tail crossfaded into the frames before the head."""
    if plan.mode != "loop" or plan.crossfade == 0:
        return frames[plan.start : plan.end]
    body = frames[plan.start + plan.crossfade : plan.end - plan.crossfade]
    return np.concatenate([body, _tail(frames, plan)])


def loop_edges(frames: np.ndarray, plan: LoopPlan) -> np.ndarray:
    """The first of `loop_frames` and its last crossfade + 1, all that `seam_hidden` looks at: the loop
    search tries hundreds of plans, and building each whole loop cost a third of it."""
    if plan.mode != "loop" or plan.crossfade == 0:
        return frames[[plan.start, plan.end - 1]]
    k = plan.crossfade
    return np.concatenate([frames[[plan.start + k, plan.end - k - 1]], _tail(frames, plan)])
