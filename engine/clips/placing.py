"""Where a source picture goes in the show's frame: scaled (fill / fit / crop), then centre-cropped or padded.

One `Placement` per clip, shared by both of `prepare`'s passes over a video: the first shrinks each decoded
frame straight to its 1/8-size copy, the second converts it to the full-size RGBA picture the encoder
needs. swscale scales and converts in one pass, on the thread that asks (one reformatter per thread, one
swscale thread each: the encode workers already keep every core busy, and swscale's own threads cost 45 %
more CPU per frame there).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

SMALL_DIVISOR = 8  # the small copies are 1/8 of the show size each way (160x90 for 720p)
# 8-bit planar YUV, whose planes can be area-averaged one by one: the format to convert them from at the
# small size (every plane then has it).
PLANAR_YUV = {
    "yuv420p": "yuv444p",
    "yuv422p": "yuv444p",
    "yuv444p": "yuv444p",
    "yuvj420p": "yuvj444p",
    "yuvj422p": "yuvj444p",
    "yuvj444p": "yuvj444p",
}
COLOUR_TAGS = ("colorspace", "color_range", "color_trc", "color_primaries")

_local = threading.local()


def small_size(size: tuple[int, int]) -> tuple[int, int]:
    return max(1, size[0] // SMALL_DIVISOR), max(1, size[1] // SMALL_DIVISOR)


def placement(src: tuple[int, int], dst: tuple[int, int], policy: str) -> tuple[int, int]:
    """Scaled size of the source before it is cropped/padded to dst."""
    sw, sh = src
    dw, dh = dst
    if policy == "crop":
        return sw, sh
    scale = max(dw / sw, dh / sh) if policy == "fill" else min(dw / sw, dh / sh)
    return max(2, round(sw * scale / 2) * 2), max(2, round(sh * scale / 2) * 2)


def place(img: np.ndarray, slot: np.ndarray, transparent: bool) -> None:
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


def _plane_array(plane) -> np.ndarray:
    """A frame plane's pixels as an (h, w) view (without the row padding)."""
    rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height, : plane.width]


def _reformatter() -> VideoReformatter:
    if not hasattr(_local, "reformatter"):
        _local.reformatter = VideoReformatter()
    return _local.reformatter


@dataclass(frozen=True)
class Placement:
    """How one video's frames become pictures of `size`: scaled to `scaled`, then cropped/padded."""

    source: tuple[int, int]
    size: tuple[int, int]
    scaled: tuple[int, int]
    transparent: bool  # pad with transparent black (the source has alpha), else opaque black

    @classmethod
    def of(cls, source: tuple[int, int], size: tuple[int, int], policy: str, transparent: bool) -> Placement:
        return cls(source, size, placement(source, size, policy), transparent)

    def small(self) -> Placement:
        """The same placement at the small copies' scale."""
        small = small_size(self.size)
        w, h = self.scaled
        scaled = (max(1, round(w * small[0] / self.size[0])), max(1, round(h * small[1] / self.size[1])))
        return Placement(self.source, small, scaled, self.transparent)

    def converted(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame as an (h, w, 4) RGBA picture at the scaled size (before cropping/padding)."""
        w, h = self.scaled
        area = {"interpolation": "AREA"} if (w, h) != self.source else {}
        converted = _reformatter().reformat(frame, width=w, height=h, format="rgba", threads=1, **area)
        return converted.to_ndarray()

    def shrunk(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame at this (small) placement's scaled size, RGBA, area-averaged. Planar YUV: each plane
        averaged on its own (OpenCV), then converted at the small size by swscale with the frame's own colour
        tags, a fifth of converting the whole frame first (averaging commutes with the colour matrix; its
        1/8-size copies of real clips are within 1.2 levels, frame brightness steady to 0.01). swscale's
        own shrinking is no box average: its copies were 4.6 levels off, their brightness wobbling with
        the content, and the deflicker measures exactly that. Other formats: the whole frame converted."""
        w, h = self.scaled
        small_format = PLANAR_YUV.get(frame.format.name)
        if small_format is None:
            whole = Placement(self.source, self.source, self.source, self.transparent).converted(frame)
            return cv2.resize(whole, (w, h), interpolation=cv2.INTER_AREA)
        planes = [cv2.resize(_plane_array(p), (w, h), interpolation=cv2.INTER_AREA) for p in frame.planes]
        small = av.VideoFrame.from_ndarray(np.stack(planes), format=small_format)
        for tag in COLOUR_TAGS:
            setattr(small, tag, getattr(frame, tag))
        return _reformatter().reformat(small, format="rgba", threads=1).to_ndarray()

    def picture(self, frame: av.VideoFrame, out: np.ndarray) -> np.ndarray:
        """The frame placed: the converted picture itself when it already has the size, else placed into
        `out` (an (H, W, 4) uint8 buffer)."""
        picture = self.converted(frame)
        if self.scaled == self.size and picture.flags.c_contiguous:
            return picture
        place(picture, out, self.transparent)
        return out
