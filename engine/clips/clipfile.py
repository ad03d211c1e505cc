"""The prepared-clip file (.hlclip): HAP frames with an offset table, so any frame is one seek away.

Layout: magic, u32 header length, JSON header (width, height, fps, frames, codec), u64 offsets[frames + 1],
then the frames back to back. Memory-mapped for reading: decode workers slice frames without copying the file.
"""

from __future__ import annotations

import json
import mmap
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.clips.hap import decode_frame
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


def write_clip(path: Path, header: ClipHeader, frames: Iterable[bytes]) -> None:
    """Write HAP frames (already encoded) with their offset table; atomically (temp file + rename)."""
    frames = list(frames)
    if len(frames) != header.frames:
        raise ValueError(f"header says {header.frames} frames, got {len(frames)}")
    meta = json.dumps(header.__dict__).encode()
    start = len(MAGIC) + 4 + len(meta) + 8 * (len(frames) + 1)
    offsets = [start]
    for f in frames:
        offsets.append(offsets[-1] + len(f))
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as out:
        out.write(MAGIC + struct.pack("<I", len(meta)) + meta)
        out.write(struct.pack(f"<{len(offsets)}Q", *offsets))
        for f in frames:
            out.write(f)
    tmp.replace(path)


class ClipReader:
    """Random access to a prepared clip's frames; thread-safe for concurrent reads of different frames."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115 (lives as long as the reader)
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise MediaError(f"cannot open prepared clip ({exc})", path=self.path) from exc
        if self._map[: len(MAGIC)] != MAGIC:
            self.close()
            raise MediaError("not a prepared Halation clip (run `halation prepare`)", path=self.path)
        (n,) = struct.unpack_from("<I", self._map, len(MAGIC))
        meta_start = len(MAGIC) + 4
        self.header = ClipHeader(**json.loads(self._map[meta_start : meta_start + n]))
        table = meta_start + n
        self._offsets = struct.unpack_from(f"<{self.header.frames + 1}Q", self._map, table)

    @property
    def frame_count(self) -> int:
        return self.header.frames

    def hap(self, index: int) -> bytes:
        a, b = self._offsets[index], self._offsets[index + 1]
        return self._map[a:b]

    def bc1(self, index: int) -> bytes:
        """BC1 texture data of frame `index` (what the GPU uploads)."""
        return decode_frame(self.hap(index))

    def close(self) -> None:
        if getattr(self, "_map", None) is not None:
            self._map.close()
            self._map = None
        self._file.close()
