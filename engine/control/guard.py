"""Check an OSC message's layout before python-osc parses it.

python-osc 1.10 corrupts the arguments after an `S` or `c` tag, drops `I`, pads truncated floats, and raises
errors it does not catch on invalid UTF-8. Walking the layout first turns every malformed datagram into one
counted rejection with a reason, never a wrong value or a crashed receive thread.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache
from typing import NamedTuple

MAX_PACKET = 65536
# Tags python-osc decodes correctly, plus I (impulse), which is rewritten to N (nil) before parsing.
_SIZES = {"i": 4, "f": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8, "T": 0, "F": 0, "N": 0, "I": 0}


class PacketError(ValueError):
    """A datagram that is not well-formed OSC; `reason` is the counter it is filed under."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def string_end(data: bytes, start: int) -> int:
    """Index just after the null-terminated, 4-byte padded OSC string that starts at `start`."""
    nul = data.find(b"\0", start)
    if nul < 0:
        raise PacketError("truncated")
    end = (nul + 4) & ~3
    if end > len(data):
        raise PacketError("truncated")
    return end


_ADDRESS = re.compile(rb"/[\x21\x22\x24-\x7e]*")  # printable ASCII, no space, no '#'


class Checked(NamedTuple):
    """A well-formed message: bytes to parse (I rewritten to N), address, tags, where the arguments start."""

    data: bytes
    address: str
    tags: str
    args_at: int


def _check_address(data: bytes) -> tuple[str, int]:
    nul = data.find(b"\0")
    if nul < 0 or not _ADDRESS.fullmatch(data, 0, nul):
        raise PacketError("bad-address" if nul >= 0 else "truncated")
    end = (nul + 4) & ~3
    if end > len(data):
        raise PacketError("truncated")
    return data[:nul].decode("ascii"), end


@lru_cache(maxsize=256)
def fixed_size(tags: str) -> int | None:
    """Bytes the arguments of these tags take when none has a variable size (s, b); else None."""
    if any(t not in _SIZES for t in tags):
        return None
    return sum(_SIZES[t] for t in tags)


def _check_args(data: bytes, tags: str, index: int) -> None:
    size = fixed_size(tags)
    if size is not None:  # the common case: numbers and T/F, checked by length alone
        if index + size != len(data):
            raise PacketError("truncated" if index + size > len(data) else "bad-length")
        return
    depth = 0
    for tag in tags:
        size = _SIZES.get(tag)
        if size is not None:
            index += size
        elif tag == "s":
            start, index = index, string_end(data, index)
            try:
                data[start : data.index(b"\0", start)].decode("utf-8")
            except UnicodeDecodeError:
                raise PacketError("bad-string") from None
        elif tag == "b":
            if index + 4 > len(data):
                raise PacketError("truncated")
            (length,) = struct.unpack_from(">i", data, index)
            if length < 0:
                raise PacketError("truncated")
            index += 4 + ((length + 3) & ~3)
        elif tag == "[":
            depth += 1
        elif tag == "]":
            depth -= 1
            if depth < 0:
                raise PacketError("bad-array")
        else:
            raise PacketError("bad-type-tag")
        if index > len(data):
            raise PacketError("truncated")
    if depth:
        raise PacketError("bad-array")
    if index != len(data):
        raise PacketError("bad-length")


class _Head(NamedTuple):
    """What the address and type tags of a message say, once they have been checked."""

    address: str
    tags: str
    args_at: int
    size: int | None  # the arguments' bytes when none has a variable size


MAX_HEADS = 1024  # heads remembered: a desk sends a few dozen, a spray of distinct addresses must not grow
_heads: dict[bytes, _Head] = {}


def _head_end(data: bytes) -> int:
    """Where the address and type tags end (0 when the layout is not even that far): the cache's key."""
    nul = data.find(b"\0")
    index = (nul + 4) & ~3
    if nul < 0 or index >= len(data) or data[index] != 0x2C:
        return 0
    nul = data.find(b"\0", index)
    return (nul + 4) & ~3 if nul >= 0 else 0


def check_message(data: bytes) -> Checked:
    """The message's layout, checked; raises PacketError (with a reason) if it is malformed.

    A desk sends the same few addresses and tags thousands of times a second, with new values: a head
    checked once is remembered by its bytes, and its messages are then checked by their length alone."""
    if len(data) > MAX_PACKET:
        raise PacketError("too-big")
    if len(data) % 4:
        raise PacketError("bad-length")
    end = _head_end(data)
    head = _heads.get(data[:end]) if end else None
    if head is not None and head.size is not None:
        if head.args_at + head.size != len(data):
            raise PacketError("truncated" if head.args_at + head.size > len(data) else "bad-length")
        return Checked(data, head.address, head.tags, head.args_at)
    checked = _check_whole(data)
    if end and end == checked.args_at and "I" not in checked.tags:
        if len(_heads) >= MAX_HEADS:
            _heads.clear()
        _heads[data[:end]] = _Head(checked.address, checked.tags, end, fixed_size(checked.tags))
    return checked


def _check_whole(data: bytes) -> Checked:
    address, index = _check_address(data)
    if index == len(data):
        return Checked(data, address, "", index)  # no type tag string: an OSC 1.0 message without arguments
    if data[index] != 0x2C:  # ','
        raise PacketError("bad-type-tag")
    tags_end = string_end(data, index)
    raw_tags = data[index + 1 : data.index(b"\0", index)]
    try:
        tags = raw_tags.decode("ascii")
    except UnicodeDecodeError:
        raise PacketError("bad-type-tag") from None
    _check_args(data, tags, tags_end)
    if "I" in tags:
        tags = tags.replace("I", "N")
        data = data[: index + 1] + tags.encode() + data[index + 1 + len(raw_tags) :]
    return Checked(data, address, tags, tags_end)
