"""A video's second pass: `prepare` decodes a video twice rather than holding it.

The first pass keeps only what the loop search, the descriptors and the deflicker measure (the 1/8-size
copies). Holding every decoded frame instead took 3.7 MB a frame at 720p (442 MB for a 4 s clip, 15 GB for a
minute at 1080p), and first touching that much fresh memory cost 0.06 to 2.7 s a clip on these machines,
more than decoding it again (about 2 ms a 720p H.264 frame). The second pass decodes the file again in order
and hands out one job per stored frame; an encode worker runs it, converting the frame (swscale, to RGBA at
the show's size), crossfading and brightening it by its recipe, just before it compresses it. Only the frames
a later stored frame still needs are kept, still in FFmpeg's own YUV (the loop's head, crossfaded into its
tail: at most a second of frames); frames no stored frame uses are decoded and dropped, never converted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import av
import numpy as np

from engine.clips.placing import Placement
from engine.clips.stored import Recipe, blend
from engine.clips.video import open_video
from engine.errors import MediaError

_local = threading.local()


def _scratch(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's three frame buffers (first, second, blended), reused frame after frame: memory that
    stays hot, where a fresh buffer a frame would be first-touched every time."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None or buffers[0].shape != shape:
        buffers = _local.buffers = tuple(np.empty(shape, np.uint8) for _ in range(3))
    return buffers


def _render(
    placement: Placement, first: av.VideoFrame, second: av.VideoFrame | None, weight: float, gain: float
) -> np.ndarray:
    shape = (placement.size[1], placement.size[0], 4)
    a, b, out = _scratch(shape)
    picture = placement.picture(first, a)
    other = placement.picture(second, b) if second is not None else None
    return blend(picture, other, weight, gain, out)


class Reread:
    """The decoded frames of a video, by decoded index, decoded again on demand (see the module's doc)."""

    def __init__(self, path: Path, placement: Placement, count: int, sample: av.VideoFrame):
        self.path = path
        self.placement = placement
        self.count = count
        self._sample = sample

    def __len__(self) -> int:
        return self.count

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.count, self.placement.size[1], self.placement.size[0], 4)

    def sample(self) -> np.ndarray:
        """The middle frame (or near it), placed: what `--codec auto` measures the detail of."""
        return self.placement.picture(self._sample, np.empty(self.shape[1:], np.uint8)).copy()

    def jobs(self, recipe: Recipe) -> Iterator[Callable[[], np.ndarray]]:
        """One job per stored frame of `recipe`, in order; decoding runs on as the jobs are taken."""
        last_use: dict[int, int] = {}
        for position, (first, second) in enumerate(zip(recipe.first, recipe.second, strict=True)):
            last_use[int(first)] = position
            if second >= 0:
                last_use[int(second)] = position
        held: dict[int, av.VideoFrame] = {}
        with open_video(self.path) as (_, frames):
            decoded = enumerate(frames)
            for position in range(len(recipe)):
                needs = [int(recipe.first[position])]
                if recipe.second[position] >= 0:
                    needs.append(int(recipe.second[position]))
                while any(n not in held for n in needs):
                    index, frame = next(decoded, (None, None))
                    if index is None:
                        raise MediaError(
                            "decodes to fewer frames than at first (changed while preparing?)", path=self.path
                        )
                    if last_use.get(index, -1) >= position:
                        held[index] = frame
                yield partial(
                    _render,
                    self.placement,
                    held[needs[0]],
                    held[needs[1]] if len(needs) == 2 else None,
                    float(recipe.weight[position]),
                    float(recipe.gain[position]),
                )
                for n in needs:
                    if last_use[n] == position:
                        held.pop(n, None)
