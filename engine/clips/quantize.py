"""Musical timing of transitions: fire now, on the next beat, bar or 4/8/16-bar phrase; last N beats or
seconds. Pure functions of the beat position, so offline renders start transitions frame-exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass

QUANTIZE_BEATS = {"now": 0, "beat": 1, "bar": 4, "phrase4": 16, "phrase8": 32, "phrase16": 64}


def quantize_beats(name: str, beats_per_bar: int = 4) -> float:
    if name not in QUANTIZE_BEATS:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_BEATS)}")
    base = QUANTIZE_BEATS[name]
    return base if name in ("now", "beat") else base // 4 * beats_per_bar


@dataclass(frozen=True)
class Transition:
    """A scheduled crossfade: starts at a beat position, lasts `beats` beats or `seconds` seconds."""

    start_beat: float
    start_time: float | None  # filled in when the start beat is reached (for durations in seconds)
    beats: float | None = None
    seconds: float | None = None

    def progress(self, beat: float, time: float) -> float:
        """0 before the start, rising to 1 at the end."""
        if beat < self.start_beat:
            return 0.0
        if self.beats:
            return min(1.0, (beat - self.start_beat) / self.beats)
        start = self.start_time if self.start_time is not None else time
        return min(1.0, (time - start) / self.seconds) if self.seconds else 1.0


def schedule(
    beat_now: float,
    quantize: str,
    beats: float | None = None,
    seconds: float | None = None,
    beats_per_bar: int = 4,
) -> Transition:
    """When a transition fired at `beat_now` starts, given its quantisation."""
    q = quantize_beats(quantize, beats_per_bar)
    start = beat_now if q == 0 else math.ceil(beat_now / q - 1e-9) * q
    return Transition(start_beat=start, start_time=None, beats=beats, seconds=seconds)
