"""Clip playback: the frame of a looping clip for a show time, decoded with PyAV.

Frame n of the output shows clip frame floor(t × fps) mod length, so offline renders are deterministic and
live playback follows the show clock. Decoding is sequential; a jump backwards (the loop) seeks to the start.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import av
import numpy as np

from engine.errors import MediaError

log = logging.getLogger(__name__)


class ClipPlayer:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise MediaError("clip not found", path=self.path)
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as exc:
            raise MediaError(f"cannot open as video ({exc})", path=self.path) from exc
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate or 25
        self.fps = float(rate)
        self.size = (self._stream.codec_context.width, self._stream.codec_context.height)
        frames = self._stream.frames
        if not frames and self._stream.duration and self._stream.time_base:
            frames = round(float(self._stream.duration * self._stream.time_base) * self.fps)
        self.frame_count = max(1, frames or 1)
        self._decoder = None
        self._index = -1  # index of the frame in `_frame`
        self._frame: np.ndarray | None = None

    def index_at(self, t: float) -> int:
        return math.floor(max(t, 0.0) * self.fps + 1e-6) % self.frame_count

    def frame_at(self, t: float) -> tuple[int, np.ndarray]:
        """(index, RGBA uint8 array of shape (h, w, 4)) for show time t, looping."""
        return self.frame(self.index_at(t))

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        if index == self._index and self._frame is not None:
            return index, self._frame
        if self._decoder is None or index < self._index:
            self._restart()
        while self._index < index:
            try:
                frame = next(self._decoder)
            except StopIteration:  # fewer frames than the header said: the clip is shorter, loop sooner
                self.frame_count = max(1, self._index + 1)
                return self.frame(index % self.frame_count)
            self._index += 1
            if self._index == index:
                self._frame = frame.to_ndarray(format="rgba")
        return index, self._frame

    def _restart(self) -> None:
        self._container.seek(0, stream=self._stream)
        self._decoder = self._container.decode(self._stream)
        self._index = -1

    def close(self) -> None:
        self._container.close()
