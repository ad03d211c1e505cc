"""HAP in QuickTime: the prepared-clip file, and the reader for any user's HAP .mov.

Writing: our own encoded frames are muxed with PyAV as pre-encoded packets (no encoder involved) into a
.mov with the codec tag other players look for (Hap1, Hap5, HapY, HapM), top row first as FFmpeg, Resolume
and VDMX expect; atomically (temp file, then rename), so a show reading the folder never sees half a file.

PyAV cannot set a codec tag on a stream muxed without an encoder, and FFmpeg's mov muxer then writes the
first tag it knows for HAP (Hap1); the sample description's four-character code is set afterwards, in place
(players choose DXT1, DXT5, YCoCg or YCoCg + alpha by it).

Reading: PyAV parses the container once for its sample table (offset and size of every frame); frames are
then read with os.pread. No memory map: a file truncated or overwritten under a running show gives a short
read or a bad frame (an error the deck reports), never SIGBUS.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from engine.clips.hap import CODEC_TAGS, HapError, HapImage, decode_frame
from engine.errors import MediaError
from engine.runtime.pool import BufferPool


def write_mov(path: Path, size: tuple[int, int], fps: float, codec_tag: str, frames: Iterable[bytes]) -> int:
    """Mux HAP frames into a QuickTime file; returns the frame count."""
    rate = Fraction(fps).limit_denominator(1001)
    tmp = path.with_name(path.name + ".part")
    count = 0
    try:
        with av.open(str(tmp), "w", format="mov") as out:
            stream = out.add_mux_stream("hap", rate=rate, width=size[0], height=size[1])
            frame_time = 1 / rate  # the muxer picks its own timescale: packets say theirs
            stream.time_base = frame_time
            for count, data in enumerate(frames, 1):
                packet = av.Packet(data)
                packet.stream = stream
                packet.pts = packet.dts = count - 1
                packet.time_base = frame_time
                packet.duration = 1
                packet.is_keyframe = True
                out.mux(packet)
        set_sample_format(tmp, codec_tag)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return count


def _atoms(data: bytes, start: int, end: int):
    """(type, payload start, atom end) of the QuickTime atoms between start and end."""
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, start + 8)
            header = 16
        elif size == 0:
            size = end - start
        if size < header:
            return
        yield kind, start + header, start + size
        start += size


def _find(data: bytes, path: tuple[bytes, ...], start: int, end: int) -> int | None:
    """Payload start of the first atom along `path` (e.g. trak/mdia/…/stsd)."""
    for kind, a, b in _atoms(data, start, end):
        if kind == path[0]:
            found = a if len(path) == 1 else _find(data, path[1:], a, b)
            if found is not None:
                return found
    return None


def _moov(f) -> tuple[int, bytes]:
    """(file offset, bytes) of the movie atom, found by hopping over the top-level atoms."""
    offset = 0
    while True:
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            break
        size, kind = struct.unpack_from(">I4s", header)
        if size == 1 and len(header) == 16:
            (size,) = struct.unpack_from(">Q", header, 8)
        if kind == b"moov":
            f.seek(offset)
            return offset, f.read(size)
        if size < 8:
            break
        offset += size
    raise MediaError("muxed file has no movie atom", path=Path(f.name))


def set_sample_format(path: Path, codec_tag: str) -> None:
    """Write the video sample description's four-character code (moov/trak/mdia/minf/stbl/stsd)."""
    with open(path, "r+b") as f:
        base, moov = _moov(f)
        stsd = _find(moov, (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"), 0, len(moov))
        if stsd is None:
            raise MediaError("muxed file has no sample description", path=path)
        offset = stsd + 8 + 4  # version/flags + entry count, then the entry's size: its format follows
        if moov[offset : offset + 3] != b"Hap":
            raise MediaError(f"unexpected sample format {moov[offset : offset + 4]!r}", path=path)
        f.seek(base + offset)
        f.write(codec_tag.encode("ascii"))


@dataclass(frozen=True)
class FrameIndex:
    offsets: tuple[int, ...]
    sizes: tuple[int, ...]


def is_hap(path: Path) -> bool:
    """Whether a file's first video stream is HAP (read from its header only)."""
    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            return bool(streams) and streams[0].codec_context.name == "hap"
    except (av.error.FFmpegError, UnicodeDecodeError):
        return False


class HapMovReader:
    """Random access to the HAP frames of a .mov (any HAP variant, made by us or by any other tool)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                if stream.codec_context.name != "hap":
                    raise MediaError("not a HAP video", path=self.path)
                self.size = (stream.codec_context.width, stream.codec_context.height)
                self.fps = float(stream.average_rate or stream.guessed_rate or 30)
                self.codec_tag = stream.codec_tag
                entries = [e for e in stream.index_entries if e.size > 0]
                self.index = FrameIndex(tuple(e.pos for e in entries), tuple(e.size for e in entries))
        except (av.error.FFmpegError, IndexError) as exc:
            raise MediaError(f"cannot open as video ({exc})", path=self.path) from exc
        if not self.index.offsets:
            raise MediaError("HAP video without frames (or without a sample table)", path=self.path)
        self.formats = CODEC_TAGS.get(self.codec_tag)
        self._fd = os.open(self.path, os.O_RDONLY)
        self._pool = BufferPool()  # stored frames and their unpacked planes, reused frame after frame

    @property
    def frame_count(self) -> int:
        return len(self.index.offsets)

    def packet(self, index: int) -> bytes:
        """The stored bytes of frame `index`; MediaError when the file no longer holds them."""
        size = self.index.sizes[index]
        try:
            data = os.pread(self._fd, size, self.index.offsets[index])
        except OSError as exc:
            raise MediaError(f"cannot read frame {index} ({exc})", path=self.path) from exc
        if len(data) != size:
            raise MediaError(f"frame {index} is cut short: the file was truncated", path=self.path)
        return data

    def _packet_view(self, index: int) -> memoryview:
        """packet(), read into a buffer of the reader's pool (a show reads a frame's worth every frame)."""
        size = self.index.sizes[index]
        buf = self._pool.take(size, exact=False)
        try:
            got = os.preadv(self._fd, [memoryview(buf)[:size]], self.index.offsets[index])
        except OSError as exc:
            raise MediaError(f"cannot read frame {index} ({exc})", path=self.path) from exc
        if got != size:
            raise MediaError(f"frame {index} is cut short: the file was truncated", path=self.path)
        return memoryview(buf)[:size]

    def image(self, index: int) -> HapImage:
        """Frame `index` as texture planes, checked against the picture size; their buffers come from the
        reader's pool, reused once the frame is let go (engine/runtime/pool.py)."""
        try:
            with self._packet_view(index) as packet:
                return decode_frame(packet, self.size, self._pool)
        except HapError as exc:
            raise MediaError(f"frame {index} is damaged ({exc})", path=self.path) from exc

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
