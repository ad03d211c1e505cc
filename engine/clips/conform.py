"""Decode a source clip (any format PyAV reads, or a folder of images) and conform it to the show's size
and frame rate, so every prepared clip plays at the output's native size without scaling at show time.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from engine.errors import MediaError

POLICIES = ("fill", "fit", "crop")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
DEFAULT_SEQUENCE_FPS = 24.0
SMALL_DIVISOR = 8  # the small copies are 1/8 of the show size each way (160x90 for 720p)
OPAQUE = 250  # alpha at or above this everywhere: the clip is opaque (stored without alpha)


@dataclass(frozen=True)
class Conformed:
    """A decoded clip at the show's size. `decoded` holds each source frame once, as RGBA (opaque sources:
    alpha 255), in one buffer filled as frames arrive; `small` is its 1/8-size copy, made on the way, which
    the loop search, the descriptors and the deflicker read instead of whole frames. `picks` retimes it to
    the show's rate without copying a frame."""

    decoded: np.ndarray  # (N, H, W, 4) uint8, one per source frame
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
        plain frames (stretching, benches); `prepare` itself encodes from `decoded` and `picks`."""
        chosen = self.decoded if self.picks is None else self.decoded[self.picks]
        return chosen if self.alpha else np.ascontiguousarray(chosen[..., :3])


def small_size(size: tuple[int, int]) -> tuple[int, int]:
    return max(1, size[0] // SMALL_DIVISOR), max(1, size[1] // SMALL_DIVISOR)


class FrameStore:
    """The decoded frames' buffer and their small copies, written by a pool of workers as the decoder
    hands frames over (OpenCV and numpy release the GIL, so this overlaps with decoding on another core).
    Sized from the header's frame count and grown when the header under-counted."""

    def __init__(self, size: tuple[int, int], expected: int, alpha_source: bool):
        self.size = size
        self.alpha_source = alpha_source
        self.count = 0
        self._decoded = self._empty(size, max(1, expected))
        self._small = self._empty(small_size(size), max(1, expected))
        self._alpha_min = np.full(max(1, expected), 255, np.uint8)
        workers = max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="halation-conform")
        self._pending: deque = deque()
        self._in_flight = 2 * workers  # pictures waiting for a worker: the decoder never runs far ahead

    @staticmethod
    def _empty(size: tuple[int, int], n: int) -> np.ndarray:
        return np.empty((n, size[1], size[0], 4), np.uint8)

    def add(self, picture: np.ndarray) -> None:
        """Queue one (h, w, 3|4) picture, already scaled (not yet cropped or padded)."""
        if self.count == len(self._decoded):
            self._grow()
        while len(self._pending) >= self._in_flight:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._put, self.count, picture))
        self.count += 1

    def _grow(self) -> None:
        self._wait()
        n = len(self._decoded)
        self._decoded = np.concatenate([self._decoded, self._empty(self.size, n)])
        self._small = np.concatenate([self._small, self._empty(small_size(self.size), n)])
        self._alpha_min = np.concatenate([self._alpha_min, np.full(n, 255, np.uint8)])

    def _put(self, index: int, picture: np.ndarray) -> None:
        slot = self._decoded[index]
        _place(picture, slot, transparent=self.alpha_source)
        cv2.resize(slot, small_size(self.size), dst=self._small[index], interpolation=cv2.INTER_AREA)
        if self.alpha_source:
            self._alpha_min[index] = slot[..., 3].min()

    def _wait(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def finish(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(decoded, small, alpha) once every queued frame is in."""
        try:
            self._wait()
        finally:
            self._pool.shutdown()
        n = self.count
        alpha = self.alpha_source and n > 0 and int(self._alpha_min[:n].min()) < OPAQUE
        return self._decoded[:n], self._small[:n], alpha

    def abandon(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def _placement(src: tuple[int, int], dst: tuple[int, int], policy: str) -> tuple[int, int]:
    """Scaled size of the source before it is cropped/padded to dst."""
    sw, sh = src
    dw, dh = dst
    if policy == "crop":
        return sw, sh
    scale = max(dw / sw, dh / sh) if policy == "fill" else min(dw / sw, dh / sh)
    return max(2, round(sw * scale / 2) * 2), max(2, round(sh * scale / 2) * 2)


def _place(img: np.ndarray, slot: np.ndarray, transparent: bool) -> None:
    """Centre-crop and/or pad an (h, w, 3|4) image into an (H, W, 4) slot: black, transparent where the
    source has alpha, opaque otherwise; alpha 255 for RGB pictures."""
    dh, dw = slot.shape[:2]
    h, w = img.shape[:2]
    y0, x0 = max(0, (h - dh) // 2), max(0, (w - dw) // 2)
    img = img[y0 : y0 + dh, x0 : x0 + dw]
    h, w = img.shape[:2]
    if (h, w) != (dh, dw):
        slot[...] = (0, 0, 0, 0 if transparent else 255)
    top, left = (dh - h) // 2, (dw - w) // 2
    region = slot[top : top + h, left : left + w]
    if img.shape[2] == 4:
        region[...] = img
    else:
        region[..., :3] = img
        region[..., 3] = 255


def _has_alpha_format(name: str | None) -> bool:
    """Whether a pixel format carries alpha (rgba, yuva420p, ya8, pal8 with a transparent entry…)."""
    if not name:
        return False
    try:
        return any(c.is_alpha for c in av.VideoFormat(name).components) or name == "pal8"
    except (ValueError, AttributeError):
        return False


def _video_frames(path: Path, size: tuple[int, int], policy: str):
    """Decode into a FrameStore: FFmpeg decodes on its own threads and swscale converts (and scales) to
    RGBA straight from the decoder's YUV, one pass; placing and the small copy run on the store's pool."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot open as video ({exc.strerror or exc})", path=path) from exc
    with container:
        if not container.streams.video:
            raise MediaError("has no video stream", path=path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or DEFAULT_SEQUENCE_FPS)
        src = (stream.codec_context.width, stream.codec_context.height)
        if not all(src):
            raise MediaError("video stream has no picture size (unsupported codec?)", path=path)
        w, h = _placement(src, size, policy)
        scaling = {"interpolation": "AREA"} if (w, h) != src else {}
        store = FrameStore(size, stream.frames, _has_alpha_format(stream.codec_context.pix_fmt))
        try:
            for frame in container.decode(stream):
                store.add(frame.reformat(width=w, height=h, format="rgba", **scaling).to_ndarray())
        except av.error.FFmpegError as exc:
            if not store.count:
                store.abandon()
                raise MediaError(f"cannot decode video ({exc.strerror or exc})", path=path) from exc
        except BaseException:
            store.abandon()
            raise
    return store, fps, src


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
            w, h = _placement(im.size, size, policy)
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info.get("duration", 1000 / DEFAULT_SEQUENCE_FPS) or 100)
                mode = "RGBA" if "transparency" in frame.info or frame.mode in ("RGBA", "LA") else "RGB"
                pictures.append(np.asarray(frame.convert(mode).resize((w, h), Image.BOX)))
            src = im.size
    except OSError as exc:
        raise MediaError(f"cannot decode ({exc})", path=path) from exc
    return _stored_pictures(pictures, size), 1000.0 / float(np.median(durations)), src


def _image_frames(folder: Path, size: tuple[int, int], policy: str):
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MediaError("folder holds no images", path=folder)
    pictures, src = [], None
    for f in files:
        with Image.open(f) as im:
            src = src or im.size
            w, h = _placement(im.size, size, policy)
            mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info else "RGB"
            pictures.append(np.asarray(im.convert(mode).resize((w, h), Image.BOX)))
    return _stored_pictures(pictures, size), DEFAULT_SEQUENCE_FPS, src


def retime(n_source: int, source_fps: float, fps: float) -> np.ndarray:
    """Indices of the source frames shown at each output frame (nearest in time)."""
    duration = n_source / source_fps
    n = max(1, round(duration * fps))
    return np.minimum((np.arange(n) / fps * source_fps + 1e-6).astype(np.int64), n_source - 1)


def conform(path: Path, size: tuple[int, int], fps: float | None, policy: str = "fill") -> Conformed:
    """The source at `size`, retimed to `fps` (None: kept at its own rate, for motion interpolation)."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}")
    if path.is_dir():
        store, src_fps, src = _image_frames(path, size, policy)
    else:
        try:
            store, src_fps, src = _video_frames(path, size, policy)
        except MediaError:
            if path.suffix.lower() not in {".webp", ".gif", ".png"}:
                raise
            store, src_fps, src = _animated_image_frames(path, size, policy)
    decoded, small, alpha = store.finish()
    if not len(decoded):
        raise MediaError("contains no frames", path=path)
    if fps is None:
        return Conformed(decoded, small, src_fps, src_fps, src, alpha=alpha)
    picks = retime(len(decoded), src_fps, fps)
    same = len(picks) == len(decoded) and bool((picks == np.arange(len(decoded))).all())
    return Conformed(decoded, small, fps, src_fps, src, None if same else picks, alpha)
