"""Decode a source clip (any format PyAV reads, or a folder of images) and conform it to the show's size
and frame rate, so every prepared clip plays at the output's native size without scaling at show time.

`conform(..., whole=False)` (what `prepare` uses when it does not stretch) keeps only the 1/8-size copies of
a video and reads it again for the encoder (see reread.py); stretching, benches and tests get every frame.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from engine.clips.placing import Placement, place, placement, small_size
from engine.clips.reread import Reread
from engine.clips.video import DEFAULT_FPS, open_video
from engine.errors import MediaError

POLICIES = ("fill", "fit", "crop")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
DEFAULT_SEQUENCE_FPS = DEFAULT_FPS
OPAQUE = 250  # alpha at or above this everywhere: the clip is opaque (stored without alpha)


@dataclass(frozen=True)
class Conformed:
    """A decoded clip at the show's size. `decoded` holds each source frame once, as RGBA (opaque sources:
    alpha 255), in one buffer filled as frames arrive, or is the video's second pass (`whole=False`);
    `small` is its 1/8-size copy, made on the way, which the loop search, the descriptors and the deflicker
    read instead of whole frames. `picks` retimes it to the show's rate without copying a frame."""

    decoded: np.ndarray | Reread  # (N, H, W, 4) uint8, one per source frame
    small: np.ndarray  # (N, H/8, W/8, 4) uint8, area-averaged
    fps: float
    source_fps: float
    source_size: tuple[int, int]
    picks: np.ndarray | None = None  # the source frame each conformed frame shows (None: one each, in order)
    alpha: bool = False  # some pixel is transparent (the source has alpha and uses it)

    def origins(self) -> np.ndarray:
        return np.arange(len(self.decoded)) if self.picks is None else self.picks

    @cached_property
    def frames(self) -> np.ndarray:
        """(N, H, W, 3) uint8 at the show's rate, (N, H, W, 4) with alpha: a copy, for callers that want
        plain frames (stretching, benches; conformed whole); `prepare` encodes from `decoded` and `picks`."""
        if isinstance(self.decoded, Reread):
            raise TypeError("a clip conformed with whole=False has no frames in memory")
        chosen = self.decoded if self.picks is None else self.decoded[self.picks]
        return chosen if self.alpha else np.ascontiguousarray(chosen[..., :3])

    def sample(self) -> np.ndarray:
        """The middle frame at full size, RGBA: what `--codec auto` measures the detail of."""
        if isinstance(self.decoded, Reread):
            return self.decoded.sample()
        origins = self.origins()
        return self.decoded[origins[len(origins) // 2]]


class FrameStore:
    """The small copies (and, for a whole clip, the decoded frames' buffer), written by a pool of workers
    as the decoder hands frames over: swscale, OpenCV and numpy release the GIL, so converting and placing
    overlap with decoding on another core. Sized from the header's frame count and grown when the header
    under-counted. Without `whole`, an opaque video's frames are shrunk straight to the small copies' size
    (placing.Placement.shrunk: a fifth of the full conversion's time); a video with alpha is converted at
    full size into a buffer of the worker's own, to find its least alpha, and shrunk from there."""

    def __init__(
        self,
        size: tuple[int, int],
        expected: int,
        alpha_source: bool,
        placed: Placement | None = None,
        whole: bool = True,
    ):
        self.size = size
        self.alpha_source = alpha_source
        self.placed = placed
        self.count = 0
        self._decoded = self._empty(size, max(1, expected)) if whole else None
        self._small = self._empty(small_size(size), max(1, expected))
        self._alpha_min = np.full(max(1, expected), 255, np.uint8)
        self._scratch = threading.local()
        workers = max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="halation-conform")
        self._pending: deque = deque()
        self._in_flight = 2 * workers  # pictures waiting for a worker: the decoder never runs far ahead

    @staticmethod
    def _empty(size: tuple[int, int], n: int) -> np.ndarray:
        return np.empty((n, size[1], size[0], 4), np.uint8)

    def add(self, picture: np.ndarray | av.VideoFrame) -> None:
        """Queue one decoded video frame, or one (h, w, 3|4) picture already scaled (not yet placed)."""
        if self.count == len(self._small):
            self._grow()
        while len(self._pending) >= self._in_flight:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._put, self.count, picture))
        self.count += 1

    def _grow(self) -> None:
        self._wait()
        n = len(self._small)
        if self._decoded is not None:
            self._decoded = np.concatenate([self._decoded, self._empty(self.size, n)])
        self._small = np.concatenate([self._small, self._empty(small_size(self.size), n)])
        self._alpha_min = np.concatenate([self._alpha_min, np.full(n, 255, np.uint8)])

    def _slot(self, index: int) -> np.ndarray:
        if self._decoded is not None:
            return self._decoded[index]
        if getattr(self._scratch, "slot", None) is None:
            self._scratch.slot = np.empty((self.size[1], self.size[0], 4), np.uint8)
        return self._scratch.slot

    def _put(self, index: int, picture: np.ndarray | av.VideoFrame) -> None:
        if isinstance(picture, av.VideoFrame):
            if self._decoded is None and not self.alpha_source:
                place(self.placed.small().shrunk(picture), self._small[index], transparent=False)
                return
            picture = self.placed.converted(picture)
        slot = self._slot(index)
        place(picture, slot, transparent=self.alpha_source)
        cv2.resize(slot, small_size(self.size), dst=self._small[index], interpolation=cv2.INTER_AREA)
        if self.alpha_source:
            self._alpha_min[index] = slot[..., 3].min()

    def _wait(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def finish(self) -> tuple[np.ndarray | None, np.ndarray, bool]:
        """(decoded, or None without `whole`; small; alpha) once every queued frame is in."""
        try:
            self._wait()
        finally:
            self._pool.shutdown()
        n = self.count
        alpha = self.alpha_source and n > 0 and int(self._alpha_min[:n].min()) < OPAQUE
        decoded = self._decoded[:n] if self._decoded is not None else None
        return decoded, self._small[:n], alpha

    def abandon(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def _video_frames(path: Path, size: tuple[int, int], policy: str, whole: bool):
    """Decode into a FrameStore (FFmpeg decodes on its own threads; its workers convert); without `whole`,
    also the second pass that reads the video again, holding the frame near the middle as the sample."""
    with open_video(path) as (info, frames):
        placed = Placement.of(info.size, size, policy, info.alpha)
        store = FrameStore(size, info.expected, info.alpha, placed, whole)
        middle, sample = info.expected // 2, None
        try:
            for index, frame in enumerate(frames):
                if sample is None or index <= middle:
                    sample = frame
                store.add(frame)
        except BaseException:
            store.abandon()
            raise
    reread = None if whole or sample is None else Reread(path, placed, store.count, sample)
    return store, info.fps, info.size, reread


def _stored_pictures(pictures: list[np.ndarray], size: tuple[int, int]) -> FrameStore:
    store = FrameStore(size, len(pictures), any(p.shape[2] == 4 for p in pictures))
    for picture in pictures:
        store.add(picture)
    return store


def _animated_image_frames(path: Path, size: tuple[int, int], policy: str):
    """Animated WebP/GIF through Pillow (FFmpeg cannot decode animated WebP)."""
    from PIL import ImageSequence

    try:
        with Image.open(path) as im:
            durations, pictures = [], []
            w, h = placement(im.size, size, policy)
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info.get("duration", 1000 / DEFAULT_SEQUENCE_FPS) or 100)
                mode = "RGBA" if "transparency" in frame.info or frame.mode in ("RGBA", "LA") else "RGB"
                pictures.append(np.asarray(frame.convert(mode).resize((w, h), Image.BOX)))
            src = im.size
    except OSError as exc:
        raise MediaError(f"cannot decode ({exc})", path=path) from exc
    return _stored_pictures(pictures, size), 1000.0 / float(np.median(durations)), src, None


def _image_frames(folder: Path, size: tuple[int, int], policy: str):
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MediaError("folder holds no images", path=folder)
    pictures, src = [], None
    for f in files:
        with Image.open(f) as im:
            src = src or im.size
            w, h = placement(im.size, size, policy)
            mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info else "RGB"
            pictures.append(np.asarray(im.convert(mode).resize((w, h), Image.BOX)))
    return _stored_pictures(pictures, size), DEFAULT_SEQUENCE_FPS, src, None


def retime(n_source: int, source_fps: float, fps: float) -> np.ndarray:
    """Indices of the source frames shown at each output frame (nearest in time)."""
    duration = n_source / source_fps
    n = max(1, round(duration * fps))
    return np.minimum((np.arange(n) / fps * source_fps + 1e-6).astype(np.int64), n_source - 1)


def conform(
    path: Path, size: tuple[int, int], fps: float | None, policy: str = "fill", whole: bool = True
) -> Conformed:
    """The source at `size`, retimed to `fps` (None: kept at its own rate, for motion interpolation).
    `whole=False`: a video keeps only its small copies and is read again for its frames (reread.py)."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}")
    if path.is_dir():
        store, src_fps, src, reread = _image_frames(path, size, policy)
    else:
        try:
            store, src_fps, src, reread = _video_frames(path, size, policy, whole)
        except MediaError:
            if path.suffix.lower() not in {".webp", ".gif", ".png"}:
                raise
            store, src_fps, src, reread = _animated_image_frames(path, size, policy)
    decoded, small, alpha = store.finish()
    if not len(small):
        raise MediaError("contains no frames", path=path)
    if reread is not None:
        decoded = reread
    if fps is None:
        return Conformed(decoded, small, src_fps, src_fps, src, alpha=alpha)
    picks = retime(len(small), src_fps, fps)
    same = len(picks) == len(small) and bool((picks == np.arange(len(small))).all())
    return Conformed(decoded, small, fps, src_fps, src, None if same else picks, alpha)
