"""Split a TCP byte stream into OSC packets, whichever framing the desk uses.

OSC 1.0 prefixes each packet with its int32 length (liblo, ETC Eos by default); OSC 1.1 uses SLIP, with an
END byte after each packet (single END) or around it (double END). The first byte of a connection tells them
apart: 0x00 starts a length (packets are at most 64 KiB), 0xC0 is an END, '/' or '#' a bare SLIP packet.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.control.guard import MAX_PACKET

END, ESC, ESC_END, ESC_ESC = b"\xc0", b"\xdb", b"\xdb\xdc", b"\xdb\xdd"


class StreamError(ValueError):
    """The stream cannot be framed any more (bad length, unknown framing): the connection is closed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that was cut out of the stream but is not a usable packet (the stream itself goes on)."""

    reason: str


def slip_decode(frame: bytes) -> bytes | None:
    """The packet inside one SLIP frame, or None when it holds an invalid escape."""
    if ESC not in frame:
        return frame
    if frame.count(ESC) != frame.count(ESC_END) + frame.count(ESC_ESC):
        return None
    return frame.replace(ESC_END, END).replace(ESC_ESC, ESC)


def slip_encode(packet: bytes) -> bytes:
    """Double-END SLIP, which both single- and double-END readers accept."""
    return END + packet.replace(ESC, ESC_ESC).replace(END, ESC_END) + END


def length_encode(packet: bytes) -> bytes:
    return struct.pack(">i", len(packet)) + packet


class Deframer:
    """Per connection: bytes in, packets (or BadFrame) out; the framing is fixed by the first byte."""

    def __init__(self, max_packet: int = MAX_PACKET):
        self.mode: str | None = None  # "length" or "slip" once detected
        self.max_packet = max_packet
        self._buffer = bytearray()
        self._skipping = False  # SLIP: discarding an oversized frame up to its END

    def feed(self, data: bytes) -> list[bytes | BadFrame]:
        if not data:
            return []
        if self.mode is None:
            first = data[0]
            if first == 0x00:
                self.mode = "length"
            elif first in (0xC0, 0x2F, 0x23):  # END, '/', '#'
                self.mode = "slip"
            else:
                raise StreamError("bad-framing")
        self._buffer += data
        return self._length_frames() if self.mode == "length" else self._slip_frames()

    @property
    def pending(self) -> bool:
        """True while part of a frame has arrived and the rest has not."""
        return bool(self._buffer)

    def encode(self, packet: bytes) -> bytes:
        """A reply framed the way this connection talks."""
        return length_encode(packet) if self.mode == "length" else slip_encode(packet)

    def _length_frames(self) -> list[bytes | BadFrame]:
        out: list[bytes | BadFrame] = []
        buf = self._buffer
        start = 0
        while len(buf) - start >= 4:
            (size,) = struct.unpack_from(">i", buf, start)
            if size <= 0 or size > self.max_packet:
                raise StreamError("bad-frame-length")
            if len(buf) - start - 4 < size:
                break
            out.append(bytes(buf[start + 4 : start + 4 + size]))
            start += 4 + size
        del buf[:start]
        return out

    def _slip_frames(self) -> list[bytes | BadFrame]:
        out: list[bytes | BadFrame] = []
        buf = self._buffer
        while True:
            end = buf.find(END)
            if end < 0:
                if len(buf) > self.max_packet * 2 + 2:  # escaping at most doubles a packet
                    buf.clear()
                    if not self._skipping:
                        out.append(BadFrame("too-big"))
                    self._skipping = True
                return out
            frame = bytes(buf[:end])
            del buf[: end + 1]
            if self._skipping:
                self._skipping = False
                continue
            if not frame:
                continue  # the leading END of double-END framing
            packet = slip_decode(frame)
            if packet is None:
                out.append(BadFrame("bad-slip-escape"))
            elif len(packet) > self.max_packet:
                out.append(BadFrame("too-big"))
            else:
                out.append(packet)
