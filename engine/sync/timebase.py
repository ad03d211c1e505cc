"""Show time on another clock: the Link clock, or the wall clock that OSC timetags and other machines use.

Show time is audio time (the sound card's position, engine.clock). Another clock runs beside it at the same
rate, so the mapping is an offset: re-read each frame and smoothed, so that an audio position that moves in
blocks does not shake a phase; a jump (a seek, a dropout, a clock step) re-anchors it at once.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

JUMP = 0.02  # s: a sample this far from the smoothed offset re-anchors it
SMOOTHING = 0.05  # share of each new sample in the smoothed offset
READ_SPAN = 0.0005  # s: a reading of both clocks that took longer was interrupted (the thread was preempted)
READ_TRIES = 3


def link_clock() -> float:
    """Now on the Link clock (seconds): Link uses CLOCK_MONOTONIC_RAW on Linux, never slewed by NTP."""
    return time.clock_gettime(time.CLOCK_MONOTONIC_RAW)


class ClockOffset:
    """`reference() - position()`, smoothed: add it to a show time to get the reference clock's time."""

    def __init__(self, position: Callable[[], float | None], reference: Callable[[], float] = time.time):
        self._position = position
        self._reference = reference
        self.offset: float | None = None

    def update(self) -> float | None:
        """The offset now (None until the audio clock has run)."""
        for _ in range(READ_TRIES):
            before = self._reference()
            audio = self._position()
            after = self._reference()
            if audio is None:
                return self.offset
            if after - before <= READ_SPAN:
                break
        else:  # preempted while reading, every time (a busy machine): keep what we know
            if self.offset is not None:
                return self.offset
        sample = (before + after) / 2.0 - audio
        if self.offset is None or abs(sample - self.offset) > JUMP:
            self.offset = sample
        else:
            self.offset += SMOOTHING * (sample - self.offset)
        return self.offset


class SteadyOffset:
    """A clock offset estimated from samples that are mostly right and sometimes far off: the offset another
    machine's clock has, read through Link's shared beat timeline (a sample is off while a tempo change or
    a phase move crosses the network). Samples within `tolerance` of the estimate move it a little; others
    are ignored, unless `persist` of them come in a row (the clock itself moved: it re-anchors on them).
    WHY: a render node must slew, not jump, on a moment's disagreement, yet follow a real clock step."""

    def __init__(self, tolerance: float = 0.001, smoothing: float = SMOOTHING, persist: int = 15):
        self.tolerance, self.smoothing, self.persist = tolerance, smoothing, persist
        self.offset: float | None = None
        self.rejected = 0  # samples ignored so far (for the log)
        self._outliers: list[float] = []

    def add(self, sample: float) -> float:
        if self.offset is None:
            self.offset = sample
        elif abs(sample - self.offset) <= self.tolerance:
            self.offset += self.smoothing * (sample - self.offset)
            self._outliers.clear()
        else:
            self.rejected += 1
            self._outliers.append(sample)
            if len(self._outliers) >= self.persist:  # this long off: the clock itself moved
                self.offset = statistics.median(self._outliers)
                self._outliers.clear()
        return self.offset
