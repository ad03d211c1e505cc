"""Frame sources a decode worker reads: HAP .mov files (prepared by us or from a user's library: texture
planes uploaded still compressed), .hlclip files of earlier versions, and any other video (PyAV → RGBA on
the CPU: H.264, ProRes, DXV…), behind one small interface."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import av
import numpy as np

from engine.clips.clipfile import ClipReader
from engine.clips.hap import HapImage
from engine.clips.movfile import HapMovReader, is_hap
from engine.errors import MediaError


class FrameSource(Protocol):
    kind: str  # "hap" (a HapImage: compressed texture planes) or "rgba" (uint8 array h×w×4)
    fps: float
    size: tuple[int, int]
    frame_count: int

    def read(self, index: int) -> HapImage | np.ndarray: ...

    def close(self) -> None: ...


class HapSource:
    """A HAP .mov, or a .hlclip: any frame is one pread + one snappy pass away, so scrubbing and reversing
    are free."""

    kind = "hap"

    def __init__(self, path: Path):
        self.path = path
        self._reader = ClipReader(path) if path.suffix == ".hlclip" else HapMovReader(path)
        self.fps = float(self._reader.header.fps if path.suffix == ".hlclip" else self._reader.fps)
        self.size, self.frame_count = self._reader.size, self._reader.frame_count

    def read(self, index: int) -> HapImage:
        return self._reader.image(index)

    def close(self) -> None:
        self._reader.close()


class VideoSource:
    """Any video PyAV reads. Sequential reads are cheap; a backwards jump seeks (slow on long GOPs:
    prepare clips that will be scrubbed or reversed)."""

    kind = "rgba"

    def __init__(self, path: Path):
        self.path = path
        try:
            self._container = av.open(str(path))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as exc:
            raise MediaError(f"cannot open as video ({exc})", path=path) from exc
        self._stream.thread_type = "AUTO"
        self.fps = float(self._stream.average_rate or self._stream.guessed_rate or 25)
        self.size = (self._stream.codec_context.width, self._stream.codec_context.height)
        frames = self._stream.frames
        if not frames and self._stream.duration and self._stream.time_base:
            frames = round(float(self._stream.duration * self._stream.time_base) * self.fps)
        self.frame_count = max(1, frames or 1)
        self._decoder = None
        self._next = 0

    def read(self, index: int) -> np.ndarray:
        if self._decoder is None or index < self._next:
            self._container.seek(0, stream=self._stream)
            self._decoder = self._container.decode(self._stream)
            self._next = 0
        frame = None
        while self._next <= index:
            try:
                frame = next(self._decoder)
            except StopIteration:  # the header over-counted: the clip is shorter than it said
                self.frame_count = max(1, self._next)
                self._decoder = None
                return self.read(index % self.frame_count)
            self._next += 1
        return frame.to_ndarray(format="rgba")

    def close(self) -> None:
        self._container.close()


def open_source(path: str | Path) -> FrameSource:
    path = Path(path)
    if not path.is_file():
        raise MediaError("clip not found", path=path)
    return HapSource(path) if path.suffix == ".hlclip" or is_hap(path) else VideoSource(path)
