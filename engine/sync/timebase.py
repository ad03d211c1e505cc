"""Show time on another clock: the Link clock, or the wall clock that OSC timetags and other machines use.

Show time is audio time (the sound card's position, engine.clock). Another clock runs beside it at the same
rate, so the mapping is an offset: re-read each frame and smoothed, so that an audio position that moves in
blocks does not shake a phase; a jump (a seek, a dropout, a clock step) re-anchors it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

JUMP = 0.02  # s: a sample this far from the smoothed offset re-anchors it
SMOOTHING = 0.05  # share of each new sample in the smoothed offset


def link_clock() -> float:
    """Now on the Link clock (seconds): Link uses CLOCK_MONOTONIC_RAW on Linux, never slewed by NTP."""
    return time.clock_gettime(time.CLOCK_MONOTONIC_RAW)


class ClockOffset:
    """`reference() - position()`, smoothed: add it to a show time to get the reference clock's time."""

    def __init__(self, position: Callable[[], float | None], reference: Callable[[], float] = time.time):
        self._position = position
        self._reference = reference
        self.offset: float | None = None

    def update(self, audio_now: float | None = None) -> float | None:
        """The offset now (None until the audio clock has run). `audio_now`: the show's audio time read
        just before, else `position()` is read."""
        audio = self._position() if audio_now is None else audio_now
        if audio is None:
            return self.offset
        sample = self._reference() - audio
        if self.offset is None or abs(sample - self.offset) > JUMP:
            self.offset = sample
        else:
            self.offset += SMOOTHING * (sample - self.offset)
        return self.offset
