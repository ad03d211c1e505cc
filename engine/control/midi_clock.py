"""MIDI clock in as a tempo source: 24 ticks a beat. The tick period is a least-squares fit of the last two
beats' tick times, refitted without the ticks that arrived late (a USB frame, a JACK period or a busy machine
delays ticks, never advances them), so transport jitter averages out and bunched ticks do not bend the
tempo. Start (0xFA) marks beat 1.
"""

from __future__ import annotations

import statistics
from collections import deque

TICKS_PER_BEAT = 24
MIN_FIT = 12  # ticks a fit needs


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(seconds per tick, offset) of tick time against tick number, least squares."""
    n = len(points)
    mean_i = sum(i for i, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    num = sum((i - mean_i) * (t - mean_t) for i, t in points)
    den = sum((i - mean_i) ** 2 for i, _ in points)
    slope = num / den
    return slope, mean_t - slope * mean_i


def tick_period(times: list[float]) -> float:
    """Seconds per tick from tick arrival times, robust to late (bunched) ticks."""
    points = list(enumerate(times))
    slope, offset = _fit(points)
    residuals = [t - (offset + slope * i) for i, t in points]
    spread = statistics.median(abs(r) for r in residuals) * 1.4826
    keep = [p for p, r in zip(points, residuals, strict=True) if r <= max(3 * spread, 0.002)]
    if len(keep) >= MIN_FIT and len(keep) < len(points):
        slope, _ = _fit(keep)
    return slope


class MidiClock:
    def __init__(self, window: int = 2 * TICKS_PER_BEAT, min_change: float = 0.05):
        self._times: deque[float] = deque(maxlen=window + 1)
        self.min_change = min_change
        self.bpm: float | None = None
        self._reported: float | None = None

    def tick(self, t: float) -> float | None:
        """Feed one clock tick at time t (s); returns a BPM when it has moved enough to report."""
        if self._times and t - self._times[-1] > 1.0:
            self._times.clear()  # the clock stopped and came back: start over
        self._times.append(t)
        if len(self._times) < TICKS_PER_BEAT + 1:
            return None
        interval = tick_period(list(self._times))
        if interval <= 0:
            return None
        self.bpm = 60.0 / (interval * TICKS_PER_BEAT)
        if self._reported is None or abs(self.bpm - self._reported) >= self.min_change:
            self._reported = round(self.bpm, 2)
            return self._reported
        return None

    def reset(self) -> None:
        self._times.clear()
