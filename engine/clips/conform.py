"""Decode a source clip (any format PyAV reads, or a folder of images) and conform it to the show's size
and frame rate, so every prepared clip plays at the output's native size without scaling at show time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from engine.errors import MediaError

POLICIES = ("fill", "fit", "crop")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
DEFAULT_SEQUENCE_FPS = 24.0


@dataclass(frozen=True)
class Conformed:
    frames: np.ndarray  # (N, H, W, 3) uint8 at the show's size and frame rate; (N, H, W, 4) with alpha
    fps: float
    source_fps: float
    source_size: tuple[int, int]
    picks: np.ndarray | None = None  # the source frame each conformed frame shows (None: one each, in order)

    def origins(self) -> np.ndarray:
        return np.arange(len(self.frames)) if self.picks is None else self.picks


def _placement(src: tuple[int, int], dst: tuple[int, int], policy: str) -> tuple[int, int]:
    """Scaled size of the source before it is cropped/padded to dst."""
    sw, sh = src
    dw, dh = dst
    if policy == "crop":
        return sw, sh
    scale = max(dw / sw, dh / sh) if policy == "fill" else min(dw / sw, dh / sh)
    return max(2, round(sw * scale / 2) * 2), max(2, round(sh * scale / 2) * 2)


def _place(img: np.ndarray, dst: tuple[int, int]) -> np.ndarray:
    """Centre-crop and/or pad (black; transparent when there is alpha) an image to exactly dst."""
    dw, dh = dst
    h, w = img.shape[:2]
    y0, x0 = max(0, (h - dh) // 2), max(0, (w - dw) // 2)
    img = img[y0 : y0 + dh, x0 : x0 + dw]
    if img.shape[:2] == (dh, dw):
        return img
    out = np.zeros((dh, dw, img.shape[2]), np.uint8)
    h, w = img.shape[:2]
    out[(dh - h) // 2 : (dh - h) // 2 + h, (dw - w) // 2 : (dw - w) // 2 + w] = img
    return out


def _has_alpha_format(name: str | None) -> bool:
    """Whether a pixel format carries alpha (rgba, yuva420p, ya8, pal8 with a transparent entry…)."""
    if not name:
        return False
    try:
        return any(c.is_alpha for c in av.VideoFormat(name).components) or name == "pal8"
    except (ValueError, AttributeError):
        return False


def _opaque_to_rgb(frames: list[np.ndarray]) -> list[np.ndarray]:
    """RGBA frames that are everywhere opaque are RGB: alpha is kept only where there is some."""
    if frames and frames[0].shape[2] == 4 and all(int(f[..., 3].min()) >= 250 for f in frames):
        return [f[..., :3] for f in frames]
    return frames


def _video_frames(path: Path, size: tuple[int, int], policy: str):
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
        pix = "rgba" if _has_alpha_format(stream.codec_context.pix_fmt) else "rgb24"
        frames = []
        try:
            for frame in container.decode(stream):
                rgb = frame.reformat(width=w, height=h, format=pix, interpolation="AREA").to_ndarray()
                frames.append(_place(rgb, size))
        except av.error.FFmpegError as exc:
            if not frames:
                raise MediaError(f"cannot decode video ({exc.strerror or exc})", path=path) from exc
    return frames, fps, src


def _animated_image_frames(path: Path, size: tuple[int, int], policy: str):
    """Animated WebP/GIF through Pillow (FFmpeg cannot decode animated WebP)."""
    from PIL import ImageSequence

    try:
        with Image.open(path) as im:
            durations, frames = [], []
            w, h = _placement(im.size, size, policy)
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info.get("duration", 1000 / DEFAULT_SEQUENCE_FPS) or 100)
                mode = "RGBA" if "transparency" in frame.info or frame.mode in ("RGBA", "LA") else "RGB"
                frames.append(_place(np.asarray(frame.convert(mode).resize((w, h), Image.BOX)), size))
            src = im.size
    except OSError as exc:
        raise MediaError(f"cannot decode ({exc})", path=path) from exc
    return frames, 1000.0 / float(np.median(durations)), src


def _image_frames(folder: Path, size: tuple[int, int], policy: str):
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MediaError("folder holds no images", path=folder)
    frames, src = [], None
    for f in files:
        with Image.open(f) as im:
            src = src or im.size
            w, h = _placement(im.size, size, policy)
            mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info else "RGB"
            frames.append(_place(np.asarray(im.convert(mode).resize((w, h), Image.BOX)), size))
    return frames, DEFAULT_SEQUENCE_FPS, src


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
        frames, src_fps, src = _image_frames(path, size, policy)
    else:
        try:
            frames, src_fps, src = _video_frames(path, size, policy)
        except MediaError:
            if path.suffix.lower() not in {".webp", ".gif", ".png"}:
                raise
            frames, src_fps, src = _animated_image_frames(path, size, policy)
    if not frames:
        raise MediaError("contains no frames", path=path)
    frames = _opaque_to_rgb(frames)
    if len({f.shape for f in frames}) > 1:  # a sequence mixing RGB and RGBA images
        frames = [
            f if f.shape[2] == 4 else np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in frames
        ]
    stack = np.stack(frames)
    if fps is None:
        return Conformed(stack, src_fps, src_fps, src)
    picks = retime(len(stack), src_fps, fps)
    same = len(picks) == len(stack) and bool((picks == np.arange(len(stack))).all())
    return Conformed(stack if same else stack[picks], fps, src_fps, src, None if same else picks)
