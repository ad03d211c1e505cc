"""Reusable buffers for the big blocks a show makes every frame (a HAP frame's stored bytes, its unpacked
texture planes).

WHY: the allocator hands blocks above its mmap threshold pages of their own, given back when freed
(engine/runtime/resources.py tune_allocator); a block made afresh every frame then costs the frame its page
faults (a fresh, zeroed page per 4 KiB: 1080p DXT1 is 254 of them). A pool hands the same buffer out again
once nothing else holds it. "Holds" is CPython's reference count: a buffer is free when the pool's own list
is all that refers to it (a HapImage in a decode cache, a deck's last good frame, a memoryview, an upload
in progress all hold it), so no caller has to say when it is done, and no buffer is ever handed out twice.
Only the pool refers to a free buffer, so no other thread can take it up between the check and the hand-out.
"""

from __future__ import annotations

import sys
import threading

MAX_BUFFERS = 64  # per pool: past this many in use at once, blocks are made afresh (and not kept)
_FREE_REFS = 3  # references to a free buffer: the pool's list, the loop's name, getrefcount's argument


class BufferPool:
    """Bytearrays of a few sizes, reused when no one else holds them. Thread-safe. Buffers handed out keep
    their old bytes: callers overwrite all of what they use."""

    def __init__(self, limit: int = MAX_BUFFERS):
        self.limit = limit
        self._buffers: list[bytearray] = []
        self._lock = threading.Lock()
        self.made = 0  # buffers allocated (steady state: stops growing)

    def take(self, size: int, exact: bool = True) -> bytearray:
        """A buffer of `size` bytes (`exact=False`: at least `size`, for blocks whose size varies frame by
        frame; the caller slices a memoryview)."""
        with self._lock:
            for buf in self._buffers:
                if (len(buf) == size or (not exact and size <= len(buf) <= 2 * size)) and (
                    sys.getrefcount(buf) <= _FREE_REFS
                ):
                    return buf
            buf = bytearray(size if exact else _rounded(size))
            self.made += 1
            if len(self._buffers) < self.limit:
                self._buffers.append(buf)
            return buf

    def clear(self) -> None:
        """Let go of every buffer (those still held elsewhere live on with their holders)."""
        with self._lock:
            self._buffers.clear()

    def __len__(self) -> int:
        return len(self._buffers)


def _rounded(size: int) -> int:
    """Room for a slightly bigger block next time (stored frames vary by a few %): up 1/8, to 64 KiB."""
    step = 64 * 1024
    return -(-(size + size // 8) // step) * step
