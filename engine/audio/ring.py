"""A preallocated single-producer, single-consumer ring of audio frames, shareable between processes.

The writer (a PortAudio callback) copies a block in, stamps it, then publishes the new frame count; the
reader takes everything that arrived since its last read. No locks: the count is published only after
the copy, so the reader never sees a half-written block. The ring can live in a memory-mapped file, so
the writer may be another process (engine/audio/capture.py keeps the sound card in a child process that
a wedged driver cannot take down with it). When the reader falls more than the ring behind, the oldest
audio is dropped and counted.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

HEADER_SLOTS = 16  # float64 values before the samples
WRITTEN, LAST_WRITE, STREAM_TIME, OVERFLOWS, STATE, HEARTBEAT, STOP, LATENCY = range(8)


class SampleRing:
    """`capacity` frames of `channels` float32 samples; in memory, or in the file at `path`."""

    def __init__(self, capacity: int, channels: int, path: Path | None = None, create: bool = True):
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.path = path
        size = HEADER_SLOTS * 8 + self.capacity * self.channels * 4
        if path is None:
            memory = np.zeros(size, np.uint8)
        else:
            memory = np.memmap(path, np.uint8, mode="w+" if create else "r+", shape=(size,))
        self._memory = memory
        self.header = memory[: HEADER_SLOTS * 8].view(np.float64)
        self._buf = memory[HEADER_SLOTS * 8 :].view(np.float32).reshape(self.capacity, self.channels)
        self.read_to = 0  # frames consumed (reader side)
        self.dropped = 0  # frames lost because the reader fell behind (reader side)

    @classmethod
    def attach(cls, path: Path, capacity: int, channels: int) -> SampleRing:
        """Open a ring another process created."""
        return cls(capacity, channels, path, create=False)

    @property
    def written(self) -> int:
        return int(self.header[WRITTEN])

    @property
    def last_write(self) -> float:
        """Monotonic time (system-wide) of the newest block; 0 before the first."""
        return float(self.header[LAST_WRITE])

    def write(self, block: np.ndarray, stream_time: float) -> None:
        """Copy a (frames, channels) block in (audio callback: no allocation of sample memory)."""
        n = len(block)
        start = int(self.header[WRITTEN])
        at = start % self.capacity
        first = min(n, self.capacity - at)
        self._buf[at : at + first] = block[:first]
        if first < n:
            self._buf[: n - first] = block[first:]
        self.header[STREAM_TIME] = stream_time
        self.header[LAST_WRITE] = time.monotonic()
        self.header[WRITTEN] = start + n  # publish

    def read(self) -> np.ndarray:
        """Every frame written since the last read, as a new (frames, channels) array (reader side)."""
        end = self.written
        behind = end - self.read_to
        limit = self.capacity - self.capacity // 8  # keep clear of the block being written
        if behind > limit:
            self.dropped += behind - limit
            self.read_to = end - limit
        start = self.read_to
        n = end - start
        out = np.empty((n, self.channels), np.float32)
        at = start % self.capacity
        first = min(n, self.capacity - at)
        out[:first] = self._buf[at : at + first]
        if first < n:
            out[first:] = self._buf[: n - first]
        self.read_to = end
        return out

    @property
    def unread(self) -> int:
        return self.written - self.read_to
