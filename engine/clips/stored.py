"""The frames `prepare` stores, as recipes over the decoded ones, never copied as a whole clip.

Each stored frame is one decoded frame, or a crossfade of two (the loop seam), times a brightness gain
(the deflicker). The encode workers render a frame into a scratch buffer of their own just before they
compress it: from the decoded buffer for a clip held whole (untouched frames are compressed straight from
it), or from the video decoded again (reread.py). The same recipe over the 1/8-size copies is what the
deflicker measures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

import cv2
import numpy as np

from engine.clips.loop import LoopPlan


@dataclass(frozen=True)
class Recipe:
    first: np.ndarray  # (S,) int64: the decoded frame each stored frame starts from
    second: np.ndarray  # (S,) int64: the decoded frame crossfaded in, -1 for none
    weight: np.ndarray  # (S,) float32: the share of `second`
    gain: np.ndarray  # (S,) float32: brightness gain (1: as decoded)

    def __len__(self) -> int:
        return len(self.first)

    @classmethod
    def plain(cls, indices: np.ndarray) -> Recipe:
        n = len(indices)
        return cls(
            np.asarray(indices, np.int64),
            np.full(n, -1, np.int64),
            np.zeros(n, np.float32),
            np.ones(n, np.float32),
        )

    def untouched(self) -> np.ndarray:
        """Which stored frames are a decoded frame exactly."""
        return (self.second < 0) & (self.gain == 1.0)

    def take(self, indices: np.ndarray) -> Recipe:
        return Recipe(self.first[indices], self.second[indices], self.weight[indices], self.gain[indices])


def loop_recipe(plan: LoopPlan, origins: np.ndarray) -> Recipe:
    """What `loop.loop_frames` stores, over the decoded frames `origins` names (the show-rate frames): the
    body, then the tail crossfaded into the frames before the head (weight 1 on the last one)."""
    if plan.mode != "loop" or plan.crossfade == 0:
        return Recipe.plain(origins[plan.start : plan.end])
    k, s, e = plan.crossfade, plan.start, plan.end
    body = Recipe.plain(origins[s + k : e - k])
    weight = np.arange(1, k + 1, dtype=np.float32) / k
    return Recipe(
        np.concatenate([body.first, origins[e - k : e]]),
        np.concatenate([body.second, origins[s : s + k]]),
        np.concatenate([body.weight, weight]),
        np.ones(len(body) + k, np.float32),
    )


def gain_table(gain: float, channels: int) -> np.ndarray:
    """A 256-entry lookup that scales the colour channels by `gain` (alpha stays as it is)."""
    table = np.clip(np.round(np.arange(256, dtype=np.float32) * np.float32(gain)), 0, 255).astype(np.uint8)
    if channels == 4:
        table = np.stack([table, table, table, np.arange(256, dtype=np.uint8)], -1).reshape(256, 1, 4)
    return table


class StoredFrames:
    """A sequence of (H, W, 4) frames: `frames[i]` renders stored frame i (a view of the decoded buffer
    when untouched, else this thread's scratch buffer, valid until the thread's next render). `decoded` is
    the decoded buffer, or a video's second pass (reread.Reread): then the frames come only from jobs()."""

    def __init__(self, decoded, recipe: Recipe, small: np.ndarray | None = None):
        self.decoded = decoded
        self.recipe = recipe
        self.small = small
        self._scratch = threading.local()

    @classmethod
    def of(cls, frames: np.ndarray) -> StoredFrames:
        """Frames made elsewhere (stretched), stored as they are."""
        return cls(frames, Recipe.plain(np.arange(len(frames))))

    def __len__(self) -> int:
        return len(self.recipe)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.decoded.shape[1:])

    def with_gain(self, gain: np.ndarray) -> StoredFrames:
        return StoredFrames(self.decoded, replace(self.recipe, gain=gain.astype(np.float32)), self.small)

    def take(self, indices: np.ndarray) -> StoredFrames:
        return StoredFrames(self.decoded, self.recipe.take(indices), self.small)

    def jobs(self) -> Iterator[Callable[[], np.ndarray]]:
        """One call per stored frame, in order, each rendering it on the thread that calls it (an encode
        worker): frames in memory render from the decoded buffer; a video read twice (see reread.py) is
        decoded again as the calls are handed out."""
        if isinstance(self.decoded, np.ndarray):
            return (partial(self.__getitem__, i) for i in range(len(self)))
        return self.decoded.jobs(self.recipe)

    def __getitem__(self, i: int) -> np.ndarray:
        buffer = getattr(self._scratch, "frame", None)
        if buffer is None or buffer.shape != self.decoded.shape[1:]:
            buffer = self._scratch.frame = np.empty(self.decoded.shape[1:], np.uint8)
        return render(self.decoded, self.recipe, int(i), buffer)

    def small_frames(self) -> np.ndarray:
        """Every stored frame at 1/8 size (the same recipe over the small copies): cheap to measure."""
        if self.small is None:
            raise ValueError("no small copies to measure")
        out = np.empty((len(self), *self.small.shape[1:]), np.uint8)
        for i in range(len(self)):
            out[i] = render(self.small, self.recipe, i, out[i])
        return out

    def array(self) -> np.ndarray:
        """All stored frames in one array (a copy; each frame is copied as it is rendered, since the
        scratch buffer is reused by the next)."""
        out = np.empty(self.shape, np.uint8)
        for i in range(len(self)):
            out[i] = self[i]
        return out


def render(frames: np.ndarray, recipe: Recipe, i: int, out: np.ndarray) -> np.ndarray:
    """Stored frame i from `frames`: a view when untouched, else written into `out`."""
    second = int(recipe.second[i])
    return blend(
        frames[recipe.first[i]],
        frames[second] if second >= 0 else None,
        float(recipe.weight[i]),
        float(recipe.gain[i]),
        out,
    )


def blend(first: np.ndarray, second: np.ndarray | None, weight: float, gain: float, out: np.ndarray):
    """`first` crossfaded with `second` (its share `weight`), times `gain`: `first` itself when that
    changes nothing, else written into `out` (neither input). A gain alone is one saturating multiply
    (cv2.convertScaleAbs, the same rounding as the lookup table, a fifth of its time) with the alpha copied
    back; after a crossfade, the lookup table in place."""
    if second is None and gain == 1.0:
        return first
    if second is None:
        cv2.convertScaleAbs(first, dst=out, alpha=gain)
        if first.shape[-1] == 4:
            cv2.mixChannels([first], [out], [3, 3])
        return out
    cv2.addWeighted(first, 1.0 - weight, second, weight, 0.0, dst=out)
    if gain != 1.0:
        cv2.LUT(out, gain_table(gain, out.shape[-1]), dst=out)
    return out
