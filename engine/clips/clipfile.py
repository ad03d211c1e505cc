"""The prepared-clip file of earlier versions (.hlclip), still read so old clip folders keep playing.

Layout: magic, u32 header length, JSON header (width, height, fps, frames, codec), u64 offsets[frames + 1],
then HAP DXT1 frames back to back, bottom row first. New clips are HAP .mov files (see movfile.py).
Frames are read with os.pread (no memory map: a file truncated under the show is an error, not SIGBUS).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from engine.clips.hap import HapError, HapImage, decode_frame
from engine.errors import MediaError

MAGIC = b"HLCLIP\x00\x01"
CODEC = "hap-dxt1"


@dataclass(frozen=True)
class ClipHeader:
    width: int
    height: int
    fps: float
    frames: int
    codec: str = CODEC
    origin: str = "bottom-left"  # first row stored is the bottom of the picture, as OpenGL expects


class ClipReader:
    """Random access to a .hlclip's frames; thread-safe (pread has no shared file position)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise MediaError(f"cannot open prepared clip ({exc})", path=self.path) from exc
        try:
            head = os.pread(self._fd, len(MAGIC) + 4, 0)
            if head[: len(MAGIC)] != MAGIC or len(head) < len(MAGIC) + 4:
                raise MediaError("not a prepared Halation clip (run `halation prepare`)", path=self.path)
            (n,) = struct.unpack_from("<I", head, len(MAGIC))
            self.header = ClipHeader(**json.loads(os.pread(self._fd, n, len(MAGIC) + 4)))
            table = os.pread(self._fd, 8 * (self.header.frames + 1), len(MAGIC) + 4 + n)
            self._offsets = struct.unpack(f"<{self.header.frames + 1}Q", table)
        except MediaError:
            self.close()
            raise
        except (OSError, ValueError, TypeError, struct.error) as exc:
            self.close()
            raise MediaError(f"damaged prepared clip ({exc}): prepare it again", path=self.path) from exc

    @property
    def frame_count(self) -> int:
        return self.header.frames

    @property
    def size(self) -> tuple[int, int]:
        return self.header.width, self.header.height

    def hap(self, index: int) -> bytes:
        a, b = self._offsets[index], self._offsets[index + 1]
        data = os.pread(self._fd, b - a, a)
        if len(data) != b - a:
            raise MediaError(f"frame {index} is cut short: the file was truncated", path=self.path)
        return data

    def image(self, index: int) -> HapImage:
        """Frame `index` as texture planes (bottom row first)."""
        try:
            image = decode_frame(self.hap(index), self.size)
        except HapError as exc:
            raise MediaError(f"frame {index} is damaged ({exc})", path=self.path) from exc
        return HapImage(image.formats, image.planes, top_down=False)

    def close(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
            self._fd = -1
