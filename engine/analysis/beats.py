"""Beat phase: a causal cumulative beat score and a predictor that announces each beat ahead of time.

After Ellis (2007) and Stark et al.'s BTrack (2009): the cumulative score of a hop is its onset strength
plus the best score one beat period earlier, so a regular train of onsets builds up and stray onsets do
not. Half-way through each beat the score is projected one period into the future and the next beat is
placed where the projection peaks, pulled towards where the current period says it should be: a
phase-locked loop whose prediction is known half a beat before the beat happens, so visuals can fire on
it without any latency. Without onsets (a breakdown, a dropout) the projection is the period itself: the
beat free-runs at the last tempo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Beat:
    """A beat: `time` when it happens in the audio, `known_at` when the analysis predicted it."""

    time: float
    known_at: float
    count: int  # beats since the stream started (0 is the first beat)


@dataclass(frozen=True)
class BeatSettings:
    memory: float = 0.85  # weight of the past in the cumulative score (vs. the new onset strength)
    tightness: float = 5.0  # how strictly the score looks back exactly one period (log-Gaussian width;
    # beat F with 4 / 5 / 6.5 / 8, scanned when the off-beat check was still there: shared set 0.89 / 0.88 /
    # 0.86 / 0.85, LMMS 0.82 / 0.82 / 0.83 / 0.84, Frets on Fire 0.66 / 0.65 / 0.65 / 0.66; docs/listening.md)
    pull: float = 0.2  # how far the prediction may move from the period's own beat, in periods (std)
    start: float = 1.0  # seconds of music before the first beat is predicted
    lag: float = 0.008  # an onset's strength peaks this long after the sound began (SpectralFlux)
    phase_switch: float = 1.5  # the projected score half a period after the expected beat must be this
    # much stronger for the beat to jump there (a tracker locked onto the off-beat comes back at once)


class BeatTracker:
    """Fed one onset-strength value per hop with the current period; returns the beats that came due."""

    def __init__(self, hop_seconds: float, max_period: float = 1.0, settings: BeatSettings | None = None):
        self.settings = settings or BeatSettings()
        self.dt = hop_seconds
        self._size = int(np.ceil(2.2 * max_period / hop_seconds)) + 2
        self._score = np.zeros(2 * self._size)  # written twice: the last `size` values are one slice
        self._count = 0  # hops seen
        self.last_beat: float | None = None
        self.next_beat: float | None = None
        self.beats = 0
        self._predicted_for: float | None = None  # the beat after which the current prediction was made
        self._known = 0.0  # when the pending prediction was made
        self._weights_key: tuple[float, int] | None = None
        self._weights_cache = np.zeros(0)

    def frame_time(self, index: int) -> float:
        """Audio time (s) an onset strength value refers to: end of its hop minus the flux lag."""
        return (index + 1) * self.dt - self.settings.lag

    def step(self, onset_strength: float, period: float, follow: bool = True) -> Beat | None:
        """Add one hop; `period` is the current beat period in seconds (0 = unknown yet). With `follow`
        off the beat free-runs at the period from where it was placed (the operator's manual tempo)."""
        n = self._count
        score = self._cumulate(onset_strength, period / self.dt if period > 0 else 0.0)
        i = n % self._size
        self._score[i] = self._score[i + self._size] = score
        self._count += 1
        if period <= 0:
            return None
        now = self.frame_time(n)
        end = (n + 1) * self.dt
        if self.next_beat is None:
            if not follow:  # a manual tempo with no beat placed yet: start counting now
                self._schedule(now + period, end)
            elif end >= max(self.settings.start, 1.5 * period):
                self._schedule(self._predict(period, anchor=None, now=now), end)
            return None
        if self.next_beat <= now:
            beat = Beat(self.next_beat, min(self._known, self.next_beat), self.beats)
            self.beats += 1
            self.last_beat = self.next_beat
            self._schedule(self.last_beat + period, end)  # provisional: refined half-way through the beat
            return beat
        if follow and self._predicted_for != self.last_beat and now - self.last_beat >= 0.5 * period:
            self._schedule(self._predict(period, anchor=self.last_beat, now=now), end)
            self._predicted_for = self.last_beat
        return None

    def _schedule(self, beat_time: float, known_at: float) -> None:
        self.next_beat = beat_time
        self._known = known_at

    def shift(self, seconds: float) -> None:
        """Move the beat phase (operator nudge or resync)."""
        if self.last_beat is not None:
            self.last_beat += seconds
        if self.next_beat is not None:
            self.next_beat += seconds

    def place(self, beat_time: float, period: float, now: float) -> int:
        """Put a beat at `beat_time` (operator tap or resync) and continue every `period` from it; returns
        the number of that beat. The tracker keeps this phase for the beat in progress, then follows the
        music again (unless it is told not to follow)."""
        ahead = max(0, math.ceil((now - beat_time) / period)) if now > beat_time else 0
        self.next_beat = beat_time + ahead * period
        if self.next_beat <= now:
            self.next_beat += period
            ahead += 1
        self.last_beat = self.next_beat - period
        self._predicted_for = self.last_beat
        self._known = now
        return self.beats - ahead

    def _recent(self, count: int) -> np.ndarray:
        """The last `count` values (as many as are kept) of the cumulative score."""
        count = min(count, self._count, self._size)
        end = self._count % self._size + self._size
        return self._score[end - count : end]

    def _cumulate(self, strength: float, period: float) -> float:
        m = self.settings.memory
        if period <= 0 or self._count < 2:  # no past to build on yet: the same scale as when there is
            return (1.0 - m) * strength
        past = self._recent(int(2 * period) + 1)
        weights = self._weights(period, len(past))
        best = float(np.maximum.reduce(past * weights)) if len(past) else 0.0
        return (1.0 - m) * strength + m * best

    def _weights(self, period: float, count: int) -> np.ndarray:
        """Log-Gaussian over how far back (in hops) the previous beat was, peaking at one period."""
        key = (period, count)
        if self._weights_key != key:
            self._weights_key = key
            self._weights_cache = self._make_weights(period, count)
        return self._weights_cache

    def _make_weights(self, period: float, count: int) -> np.ndarray:
        back = np.arange(count, 0, -1, dtype=np.float64)
        lo = 0.5 * period
        w = np.exp(-0.5 * (self.settings.tightness * np.log(back / period)) ** 2)
        return np.where(back >= lo, w, 0.0)

    def _project(self, past: np.ndarray, period: float, horizon: int) -> np.ndarray:
        """The cumulative score of the next `horizon` hops with no new onsets (each `memory` times the best
        weighted score a period back). A hop's score reads only scores at least half a period back (the
        weights are 0 nearer), so each half period of the horizon is projected at once from the ones before
        it, not hop by hop."""
        weights = self._weights(period, int(2 * period) + 1)
        span = len(weights)
        # scores are never negative, so the zeros ahead of a short past change no maximum
        score = np.concatenate([np.zeros(span), past, np.zeros(horizon)])
        start = span + len(past)
        step = max(1, math.ceil(0.5 * period))
        m = self.settings.memory
        for lo in range(start, start + horizon, step):
            hi = min(lo + step, start + horizon)
            windows = np.lib.stride_tricks.sliding_window_view(score[lo - span : hi - 1], span)
            score[lo:hi] = m * (windows * weights).max(axis=1)
        return score[start:]

    def _predict(self, period_s: float, anchor: float | None, now: float) -> float:
        """The next beat time: project the cumulative score one period ahead with no new onsets and take
        its peak, weighted towards anchor + period (or, at the start, the strongest recent score peak)."""
        period = period_s / self.dt
        horizon = int(np.ceil(1.5 * period)) + 1
        past = self._recent(int(2 * period) + 1).copy()
        future = self._project(past, period, horizon)
        times = now + self.dt * np.arange(1, horizon + 1)
        if anchor is None:
            recent = past[-int(period) :]
            anchor = now - self.dt * (len(recent) - 1 - int(np.argmax(recent)))
        expected = anchor + period_s
        while expected <= now:
            expected += period_s
        width = self.settings.pull * period_s
        on = future * np.exp(-0.5 * ((times - expected) / width) ** 2)
        off = future * np.exp(-0.5 * ((times - expected - 0.5 * period_s) / width) ** 2)
        if self.settings.phase_switch and off.max() > self.settings.phase_switch * on.max():
            return float(times[int(np.argmax(off))])  # the score says the beat is half a period later
        return float(times[int(np.argmax(on))])
