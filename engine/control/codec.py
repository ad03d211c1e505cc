"""OSC packets ↔ messages: python-osc decodes each checked message; bundle framing and encoding live here.

python-osc's own bundle parser recurses without a limit and skips unknown elements silently, so bundles are
unpacked here (atomically: one bad element rejects the whole bundle, as OSC bundles are all-or-nothing).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.control.guard import MAX_PACKET, PacketError, check_message

BUNDLE_HEAD = b"#bundle\0"
IMMEDIATELY = 1  # the OSC timetag that means "now"
MAX_DEPTH = 8  # nested bundles deeper than this are refused (a 64 KiB packet could nest 4000 deep)
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


@dataclass(frozen=True, slots=True)
class Decoded:
    """One OSC message as received: its address, plain Python arguments, and its bundle's timetag."""

    address: str
    args: tuple[Any, ...]
    timetag: int = IMMEDIATELY  # raw 64-bit NTP time; IMMEDIATELY outside bundles


_NUMERIC = {"i": "i", "f": "f", "d": "d", "h": "q"}
_CONSTANTS: dict[str, Any] = {"T": True, "F": False, "N": None}
_NUMERIC_SLOT = object()


def ntp_to_unix(timetag: int) -> float:
    return (timetag >> 32) - NTP_UNIX_OFFSET + (timetag & 0xFFFFFFFF) / 2**32


def unix_to_ntp(seconds: float) -> int:
    whole = int(seconds)
    return ((whole + NTP_UNIX_OFFSET) << 32) | int((seconds - whole) * 2**32)


def _plain(value: Any) -> Any:
    return tuple(_plain(v) for v in value) if isinstance(value, list) else value


@lru_cache(maxsize=256)
def _numeric_plan(tags: str) -> tuple[struct.Struct, tuple[Any, ...]] | None:
    """For tags of numbers and T/F/N only: one precompiled struct and the constants in between."""
    if not tags or any(t not in _NUMERIC and t not in _CONSTANTS for t in tags):
        return None
    layout = struct.Struct(">" + "".join(_NUMERIC.get(t, "") for t in tags))
    return layout, tuple(_CONSTANTS.get(t, _NUMERIC_SLOT) for t in tags)


def decode_message(data: bytes, timetag: int = IMMEDIATELY) -> Decoded:
    checked = check_message(data)
    plan = _numeric_plan(checked.tags)
    if plan is not None:  # desks send numbers: one struct reads them (tests check it agrees with python-osc)
        layout, slots = plan
        numbers = iter(layout.unpack_from(checked.data, checked.args_at))
        args = tuple(next(numbers) if v is _NUMERIC_SLOT else v for v in slots)
        return Decoded(checked.address, args, timetag)
    try:
        message = OscMessage(checked.data)
        return Decoded(message.address, tuple(_plain(v) for v in message.params), timetag)
    except Exception:  # python-osc raises assorted errors on values it cannot represent
        raise PacketError("bad-value") from None


def _decode_bundle(data: bytes, depth: int, outer: int) -> list[Decoded]:
    if len(data) < 16 or len(data) % 4:
        raise PacketError("bad-bundle")
    (timetag,) = struct.unpack_from(">Q", data, 8)
    if outer != IMMEDIATELY and timetag != IMMEDIATELY:
        timetag = max(timetag, outer)  # OSC 1.0: an inner bundle never runs before its outer one
    elif timetag == IMMEDIATELY:
        timetag = outer
    out: list[Decoded] = []
    index = 16
    while index < len(data):
        if index + 4 > len(data):
            raise PacketError("truncated")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or size % 4 or index + size > len(data):
            raise PacketError("bad-bundle")
        element = data[index : index + size]
        index += size
        if element.startswith(BUNDLE_HEAD):
            if depth >= MAX_DEPTH:
                raise PacketError("too-deep")
            out.extend(_decode_bundle(element, depth + 1, timetag))
        elif element.startswith(b"/"):
            out.append(decode_message(element, timetag))
        else:
            raise PacketError("bad-bundle")
    return out


def decode_packet(data: bytes) -> list[Decoded]:
    """The messages of one datagram or stream frame; raises PacketError (with a reason) if malformed."""
    if not data:
        raise PacketError("empty")
    if len(data) > MAX_PACKET:
        raise PacketError("too-big")
    if data.startswith(b"/"):
        return [decode_message(data)]
    if data.startswith(BUNDLE_HEAD):
        return _decode_bundle(data, 0, IMMEDIATELY)
    raise PacketError("not-osc")


def encode_message(address: str, args: Iterable[Any] = ()) -> bytes:
    """One OSC message: bool → T/F, int → i, float → f, str → s, bytes → b."""
    builder = OscMessageBuilder(address)
    for arg in args:
        if isinstance(arg, bool):
            builder.add_arg(arg, OscMessageBuilder.ARG_TYPE_TRUE if arg else OscMessageBuilder.ARG_TYPE_FALSE)
        elif isinstance(arg, int):
            builder.add_arg(arg, OscMessageBuilder.ARG_TYPE_INT)
        elif isinstance(arg, float):
            builder.add_arg(arg, OscMessageBuilder.ARG_TYPE_FLOAT)
        else:
            builder.add_arg(arg)
    return builder.build().dgram


def encode_bundle(elements: Iterable[bytes], timetag: int = IMMEDIATELY) -> bytes:
    """A bundle of already encoded messages or bundles, to run at `timetag` (raw NTP)."""
    parts = [BUNDLE_HEAD, struct.pack(">Q", timetag)]
    for element in elements:
        parts += [struct.pack(">i", len(element)), element]
    return b"".join(parts)
