"""Tempo: a causal tempogram over the onset strength, with an octave-aware choice that does not flip.

Every ~0.1 s the autocorrelation of the last few seconds of onset strength is read through a comb (the
beat period and its multiples), weighted by a broad prior over tempo and accumulated over time. The
tempo only moves to another peak of that accumulated tempogram when the other peak is clearly stronger,
and much more so when it is the double, half or 1.5× of the current one: the classic octave flips of
aubio and friends need overwhelming evidence. Tempo changes within a few percent are followed directly.
Between two levels related by 3:2 or 4:3 the metre decides: a level whose third is more periodic than its
half groups the beat in threes (a dotted riff, a dotted-eighth delay) and counts less. A maximum on a slope
that rises to an end of the BPM range is not a tempo (its peak lies outside the range). Once the window is
full, evidence counts in proportion to how periodic and how strong it is against the track's recent best,
so a breakdown or the ringing end of a song does not move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

# Levels that one grouping in threes turns into one another (a dotted quarter or a dotted eighth against
# the beat): between these the metre decides, not the raw periodicity.
METRIC_RATIOS = (1.5, 2 / 3, 4 / 3, 3 / 4)
# The other levels a listener may tap for the same music: the runner-up tempo is one of these
OCTAVE_RATIOS = (2.0, 0.5, 3.0, 1 / 3, 1.5, 2 / 3)
# (periodicity, confidence) knots: the tempo's periodicity mapped to a confidence a preset can gate on. How
# often the tempo was right (Acc1 against the local annotated tempo, every ~0.1 s after 5 s, 86 files of the
# shared, LMMS, Frets on Fire and generated sets; a diagnostic over their traces) rises with the periodicity
# but not evenly: from 0.55 up it was right in 99.9 % of 7,548 samples (Frets on Fire 97 % of 179), at
# 0.40-0.55 in 55-100 % by set (octave errors of metal and 6/8), below 0.40 anywhere from 0 % (generated
# shuffles, 6/8, hip-hop at 4/3) to 100 % (the shared loops). So 0.55 maps to 0.8: `confidence >= 0.8` is
# the tempo a preset can trust. Below 0.25 the value is the periodicity itself, so what listens for "a tempo
# at all" (Link publishes from 0.2, a tapped tempo gives way from 0.3 of periodicity) hears as before.
CALIBRATION = ((0.0, 0.0), (0.25, 0.25), (0.40, 0.5), (0.55, 0.8), (0.70, 0.95), (1.0, 1.0))
# ...but periodicity cannot tell octaves apart: an LMMS song at 140 was read at 70 for its whole length
# at a periodicity of 0.6-0.7, its double holding as much evidence (share 1). Where the double or the half
# holds at least this share of the tempo's evidence, the octave is open and the confidence stays below 0.8
# (right in 84 % of the samples at >= 0.8 without this rule, all but 6 of 12,439 with it; 10 more LMMS
# songs traced afterwards: 2,711 samples at >= 0.8, all right).
OPEN_OCTAVE_SHARE = 0.95
OPEN_OCTAVE_CONFIDENCE = 0.7


@dataclass(frozen=True)
class TempoSettings:
    min_bpm: float = 60.0
    max_bpm: float = 200.0
    prior_bpm: float = 120.0  # centre of the prior over tempo (a log-normal, broad)
    prior_octaves: float = 1.0  # its width: one standard deviation, in octaves
    window: float = 8.0  # seconds of onset strength the tempogram looks at...
    recency: float = 3.0  # ...weighted by exp(-age / recency) when > 0, so a new tempo takes over sooner
    update: float = 0.1  # seconds between tempogram updates (at 0.2 s, a seventh less of the chain's cost:
    # generated Acc1 0.839 -> 0.871 and beat F 0.875 -> 0.893, shared as before, but Frets on Fire downbeat F
    # 0.551 -> 0.453, beat F 0.722 -> 0.699 and a confidence >= 0.8 right only 90 % of the time)
    memory: float = 3.0  # the accumulated tempogram forgets over ~this many seconds
    switch: float = 0.15  # another tempo must be this much stronger to take over...
    octave_switch: float = 0.6  # ...and this much when it is ×2, ×½, ×3, ×⅓ or a METRIC_RATIOS of the current
    follow: float = 0.04  # drift within ±4 % is followed without any switch
    harmonics: int = 4  # comb: the period and its multiples up to this
    subdivision: float = 0.25  # weight of the half-period in the comb (metrical evidence for the beat level)
    triple: float = 0.5  # between two levels related by 3:2, a level whose third is more periodic than its
    # half groups the beat in threes (a dotted rhythm, a 3-3-2 riff): it counts this much less. It also reads
    # shuffles (a beat divided in three) at 3/2. Final tempo Acc1 with the tracker alone on cached onset
    # strength (0.5 / 0.3 / 0.25 / 0.2 / 0.15 / 0): generated 23 / 25 / 25 / 25 / 26 / 27 of 31, shared
    # 36 / 36 / 36 / 36 / 35 / 32 of 39, LMMS 23 of 25 and Frets on Fire 5 of 8 at each; but below 0.5 a
    # dotted-eighth riff over a soft beat (test_tempo) is taken for the beat, so it stays at 0.5
    backbeat: float = 2.0  # the backbeat: a kick on one beat and the snare on the next (and back), not two
    # beats on, marks a tempo as the beat (the snare on two and four, the kick on one and three): neither its
    # double, its half, nor a level 3:2 or 4:3 away has that alternation at one period. The evidence is
    # weighed by 1 + this times the alternation (accumulated beside the tempogram, so the periodicity and the
    # confidence stay as they were). Final tempo Acc1 with the tracker alone on cached inputs, 0 / 2 / 3:
    # generated 23 / 26 / 25 of 31, Frets on Fire 5 / 6 / 6 of 8, LMMS 23 / 22 / 22 of 25 (a reggaeton at 180
    # is heard at 90), shared 36 of 39 at each; added (not weighed) it cost the shared set two files
    reference: float = 10.0  # once the window is full, new evidence counts in proportion to its periodicity
    # against the track's own recent peak (forgotten over ~this many seconds): a breakdown does not move it
    loudness: float = 30.0  # ...and to its onset energy and its sound level against the track's recent peaks
    # (forgotten over ~this many seconds): the sparse hits, ringing chords and noise tail of an outro count
    # little
    settle: float = 3.0  # seconds after the start or a tempo change before the switch margins are full
    sustain: float = 8.0  # a level 3:2 or 4:3 from the tempo that has had more evidence (the metric score)
    # for this many seconds in a row (a window's worth) takes over, however small its lead (0: only by
    # octave_switch): the first seconds held boom-bap at 4:3 and 6/8 at the quarter for whole songs. The
    # traces of the shared set and of Frets on Fire are as without it; an LMMS song's differ for 10 s
    compound: float = 0.1  # a level divided in three whose kick and snare alternate (the backbeat measure)
    # this much, while the kick does not pulse this much at the level 3:2 faster, is a compound beat (6/8's
    # dotted quarter, two beats of three eighths), not a dotted riff over a faster beat: its grouping in
    # threes counts less against it in proportion, not at all from this up (0: off, and so is a sustained move
    # to a slower level).
    # Generated Acc1 with sustain 8 s (0 / 0.05 / 0.1 / 0.15 / 0.2): 26 / 28 / 29 / 29 / 28 of 31, shared 36
    start: float = 0.5  # seconds of music before the first estimate


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float  # 0 until there is a first estimate
    confidence: float  # 0..1, calibrated (CALIBRATION): at 0.8 and above the tempo is right >= 95 % of times
    runner_up: float = 0.0  # the metrical level (×2, ×½, ×3, ×⅓, ×1.5, ×⅔) with the most evidence after it
    runner_up_share: float = 0.0  # its evidence over the tempo's (0..1; near 1 the evidence is split)
    periodicity: float = 0.0  # 0..1: how periodic the onset strength is at that tempo (a metronome ~0.7)


_KNOTS, _VALUES = (np.array(column) for column in zip(*CALIBRATION, strict=True))


def calibrated(periodicity: float) -> float:
    """The confidence a periodicity is worth (CALIBRATION)."""
    return float(np.interp(periodicity, _KNOTS, _VALUES))


class TempoTracker:
    """Fed one onset-strength value per hop; `estimate` is the current tempo (updated every ~0.1 s)."""

    def __init__(self, hop_seconds: float, settings: TempoSettings | None = None):
        s = settings or TempoSettings()
        self.settings = s
        self.dt = hop_seconds
        self._size = round(s.window / hop_seconds)
        # the onset strength, the kick's and the snare's (rows), each written twice, so the last `size`
        # values of all three are one slice
        self._rings = np.zeros((3, 2 * self._size))
        self._ring, self._kick, self._snare = self._rings
        self._count = 0
        self._update_hops = max(1, round(s.update / hop_seconds))
        self._make_grid()
        # a linear correlation at the lags the comb reads (_lags) needs no more than the window plus those
        self._fft = _fast_size(self._size + self._lags(self._size))
        smooth = max(1, round(0.05 / hop_seconds)) | 1  # local-mean window, odd
        self._local = np.ones(smooth) / smooth
        self._keep = float(np.exp(-s.update / s.memory))
        self._acc = np.zeros(len(self.bpm_grid))
        self._triple = np.zeros(len(self.bpm_grid))  # accumulated like _acc: evidence of a grouping in 3
        self._triple_now = np.zeros(len(self.bpm_grid))
        self._backbeat = np.zeros(len(self.bpm_grid))  # accumulated like _acc: kick and snare alternating
        self._backbeat_now = np.zeros(len(self.bpm_grid))
        self._pulse = np.zeros(len(self.bpm_grid))  # accumulated like _backbeat: the kick's own pulse
        self._pulse_now = np.zeros(len(self.bpm_grid))
        self._weight = 0.0
        self._reference = 0.0  # recent peak periodicity of this track (decays over settings.reference)
        self._energy = 0.0  # onset energy of the current window
        self._energy_reference = 0.0  # its recent peak (decays over settings.loudness)
        self._level = 0.0  # sound level (RMS), smoothed over settings.recency
        self._level_reference = 0.0  # its recent peak (decays over settings.loudness)
        self._level_k = 1.0 - float(np.exp(-hop_seconds / max(s.recency, hop_seconds)))
        self._current: int | None = None
        self._moved_at = 0  # hop count when the tempo last moved to an unrelated one (or started)
        self._challenger: tuple[int, int] | None = None  # (grid index, since hop count): a related level
        # with more evidence than the tempo, in a row
        self._plan: _CombPlan | None = None  # where the comb reads the autocorrelation (per window length)
        self._weights: tuple[np.ndarray, float, np.ndarray] | None = None  # its weighting (per length)
        self.estimate = TempoEstimate(0.0, 0.0)

    def step(self, onset_strength: float, level: float = 1.0, snare: float = 0.0, kick: float = 0.0) -> bool:
        """Add one hop's onset strength, sound level (RMS), and the strength of a snare and of a kick in it
        (0 where nobody says: no backbeat evidence); True when the estimate was updated."""
        self._level += self._level_k * (level - self._level)
        i = self._count % self._size
        self._ring[i] = self._ring[i + self._size] = onset_strength
        self._snare[i] = self._snare[i + self._size] = snare
        self._kick[i] = self._kick[i + self._size] = kick
        self._count += 1
        if self._count % self._update_hops or self._count * self.dt < self.settings.start:
            return False
        self._update()
        return True

    def _make_grid(self) -> None:
        """Candidate tempi 1 % apart over the range, their periods and the prior over them."""
        s = self.settings
        steps = max(3, int(np.log(s.max_bpm / s.min_bpm) / np.log(1.01)))
        self.bpm_grid = np.geomspace(s.min_bpm, s.max_bpm, steps)
        self._grid_step = float(self.bpm_grid[1] / self.bpm_grid[0])
        self._periods = 60.0 / self.bpm_grid / self.dt  # in hops
        self._prior = self._range_prior()
        self._plan = None
        # each tempo's level 3:2 faster (a dotted quarter's quarter), -1 beyond the range
        faster = np.round(np.log(1.5) / np.log(self._grid_step)).astype(int) + np.arange(len(self.bpm_grid))
        self._faster = np.where(faster < len(self.bpm_grid), faster, -1)

    def _prior_at(self, bpm: float) -> np.ndarray:
        return np.exp(-0.5 * (np.log2(self.bpm_grid / bpm) / self.settings.prior_octaves) ** 2)

    def set_range(self, min_bpm: float, max_bpm: float) -> None:
        """Move the BPM range (a new song's preset) without starting again: the evidence heard so far is
        kept where it lies inside the new range, and the tempo is folded into it by octaves at once."""
        if (min_bpm, max_bpm) == (self.settings.min_bpm, self.settings.max_bpm):
            return
        old = np.log(self.bpm_grid)
        self.settings = replace(self.settings, min_bpm=min_bpm, max_bpm=max_bpm)
        self._make_grid()
        new = np.log(self.bpm_grid)
        self._acc = np.interp(new, old, self._acc, left=0.0, right=0.0)
        self._triple = np.interp(new, old, self._triple, left=0.0, right=0.0)
        self._backbeat = np.interp(new, old, self._backbeat, left=0.0, right=0.0)
        self._pulse = np.interp(new, old, self._pulse, left=0.0, right=0.0)
        self._pulse_now = np.zeros(len(self.bpm_grid))
        self._triple_now = np.zeros(len(self.bpm_grid))
        self._backbeat_now = np.zeros(len(self.bpm_grid))
        self._current = None
        if self.estimate.bpm > 0:
            bpm = fold_octaves(self.estimate.bpm, min_bpm, max_bpm)
            self._current = self._index(bpm)
            self.estimate = replace(self.estimate, bpm=bpm, runner_up=0.0, runner_up_share=0.0)

    def recenter(self, bpm: float) -> None:
        """Start again from `bpm` (the operator tapped it): the evidence so far is forgotten and the prior
        moves to that tempo, so the tracker stays in the octave the operator chose."""
        self._prior = self._prior_at(bpm)
        self._acc[:] = 0.0
        self._triple[:] = 0.0
        self._backbeat[:] = 0.0
        self._pulse[:] = 0.0
        self._weight = 0.0
        self._reference = 0.0
        self._energy_reference = 0.0
        self._level_reference = 0.0
        self._current = self._index(bpm)
        self.estimate = replace(self.estimate, bpm=bpm, runner_up=0.0, runner_up_share=0.0)

    def forget_recenter(self) -> None:
        """Back to following the music after a tapped tempo gave way: the prior is the range's again and the
        next update chooses from what was heard, not from the octave the taps chose."""
        self._prior = self._range_prior()
        self._current = None

    def _range_prior(self) -> np.ndarray:
        s = self.settings
        inside = s.min_bpm <= s.prior_bpm <= s.max_bpm
        return self._prior_at(s.prior_bpm if inside else float(np.sqrt(s.min_bpm * s.max_bpm)))

    def _recent(self, ring: np.ndarray | None = None) -> np.ndarray:
        n = min(self._count, self._size)
        end = self._count % self._size + self._size
        return (self._ring if ring is None else ring)[end - n : end]

    def _lags(self, n: int) -> int:
        """How many lags of a window of `n` hops the comb, the backbeat and the refinement read: up to half
        the window (the multiples counted) or half the longest period (the half and the third read at every
        tempo), whichever is more, and the neighbours interpolated beside them."""
        longest = float(60.0 / self.settings.min_bpm / self.dt)
        return min(n, math.ceil(0.5 * max(n, longest)) + 3)

    def _salience(self) -> np.ndarray:
        """Comb-filtered autocorrelation per candidate tempo, normalised so 1 is a perfect pulse train."""
        n = min(self._count, self._size)
        correlations = self._correlations(n)
        acf = self._autocorrelation(correlations.onsets, n)
        self._acf, self._acf_window = acf, n
        if acf[0] <= 0:
            self._triple_now = self._backbeat_now = np.zeros(len(self.bpm_grid))
            return np.zeros(len(self.bpm_grid))
        wide = _widened(acf)  # later multiples drift (the ends, which wrap, are never read)
        comb = self._comb_plan(n)
        at = comb.read(np.concatenate((acf, wide)))  # every lag the comb reads, in one gather
        h = self.settings.harmonics
        total = (at[:h] * comb.valid).sum(axis=0)
        salience = np.where(comb.usable, total / comb.terms, 0.0)
        sub = self.settings.subdivision
        if sub:
            salience = (salience + sub * at[h]) / (1.0 + sub)
        half, third = at[h + 1], at[h + 2]
        self._triple_now = np.maximum(third - np.maximum(half, 0.0), 0.0)
        if correlations.backbeat is not None:  # counted from full windows only (_update)
            self._backbeat_now = self._backbeat_at(comb, correlations)
            self._pulse_now = self._pulse_at(comb, correlations)
        return salience

    def _correlations(self, n: int) -> _Correlations:
        """The circular autocorrelation of the window's onset peaks and, once the window is full (where the
        backbeat counts), the cross-correlation of its kick's and snare's, recency-weighted: the series side
        by side, one FFT call each way (an update's numpy calls cost as much as their arithmetic)."""
        weight = self._weighting(n)[0]
        backbeat = self._count >= self._size and self.settings.backbeat > 0
        end = self._count % self._size + self._size
        peaks = _peaks(self._rings[: 3 if backbeat else 1, end - n : end], self._local)
        peaks *= weight
        spectra = np.fft.rfft(peaks, self._fft, axis=1)
        onsets = spectra[0]
        power = onsets.real**2 + onsets.imag**2
        if not backbeat:
            return _Correlations(np.fft.irfft(power, self._fft))
        kick, snare = peaks[1], peaks[2]
        # [onsets with onsets, kick with snare, kick with kick]: [L] of the second is a snare L hops after
        # a kick
        spectrum = spectra[1]
        cross = np.conj(spectrum) * spectra[2]
        kicks = spectrum.real**2 + spectrum.imag**2
        all_ = np.fft.irfft(np.stack((power, cross, kicks)), self._fft, axis=1)
        energy = float(kick @ kick)
        return _Correlations(all_[0], all_[1], math.sqrt(energy * float(snare @ snare)), all_[2], energy)

    def _pulse_at(self, comb: _CombPlan, correlations: _Correlations) -> np.ndarray:
        """Per tempo, the kick's own correlation one period apart (1: a kick on every beat, four on the
        floor): where the kick pulses at a level, the kick and snare alternating at the level 3:2 slower is a
        syncopated riff over it, not a compound beat."""
        if correlations.kicks is None or correlations.kick_energy <= 1e-12:
            return np.zeros(len(self.bpm_grid))
        return comb.read_backbeat(correlations.kicks, 1.0 / correlations.kick_energy)[0, 0]

    def _backbeat_at(self, comb: _CombPlan, correlations: _Correlations) -> np.ndarray:
        """Per tempo, how much the kick and the snare alternate at its period: their correlation a period
        apart (a snare a beat after a kick, a kick a beat after a snare) less two periods apart. In a backbeat
        that is high at the beat, near 0 at its double (half a beat apart there is neither) and its half (two
        beats apart a kick meets a kick), and at levels 3:2 or 4:3 away. 0 without a kick and a snare."""
        if correlations.backbeat is None or correlations.backbeat_scale <= 1e-12:
            return np.zeros(len(self.bpm_grid))
        # [after, before] x [one, two periods]: a snare L hops after a kick, and before it (lag -L)
        read = comb.read_backbeat(correlations.backbeat, 1.0 / correlations.backbeat_scale)
        alternation = read[0, 0] + read[1, 0] - read[0, 1] - read[1, 1]
        return np.maximum(alternation, 0.0) * comb.backbeat_usable

    def _comb_plan(self, n: int) -> _CombPlan:
        """Where the comb reads an autocorrelation of `n` lags (the same for every update once the window is
        full): the period's multiples in the autocorrelation (the first) or its widened copy (the rest,
        which drift), the half period (subdivision), and the half and third in the widened copy."""
        if self._plan is None or self._plan.n != n:
            p, h = self._periods, self.settings.harmonics
            m = self._lags(n)  # the autocorrelation's length
            lags = np.stack([k * p for k in range(1, h + 1)])
            usable = 0.5 * n
            valid = lags <= usable
            rows = [(lags[0], 0), *((lags[k], m) for k in range(1, h))]
            rows += [(0.5 * p, 0), (0.5 * p, m), (p / 3.0, m)]  # subdivision, half, third
            # the backbeat reads the circular cross-correlation at +L and -L, each lag unbiased as the
            # autocorrelation is
            below, fraction = _interpolation(np.stack([p, 2 * p]), np.zeros((2, 1), int), m)
            at = np.stack([below, below + 1])  # [below, above] x [one, two periods] x tempo
            unbias = self._weighting(n)[2]
            self._plan = _CombPlan(
                n,
                *_interpolation(np.stack([x for x, _ in rows]), np.array([o for _, o in rows])[:, None], m),
                valid,
                np.maximum(valid.sum(axis=0), 1),
                p <= usable,
                np.stack([at, (-at) % self._fft]),
                fraction,
                unbias[at],
                (2 * p <= usable).astype(float),
            )
        return self._plan

    def _autocorrelation(self, circular: np.ndarray, n: int) -> np.ndarray:
        """Unbiased autocorrelation (1 at lag 0) of the recent onset peaks, recent seconds weighted more, at
        the lags that are read (_lags), from their circular one (_correlations)."""
        _, overlap0, unbias = self._weighting(n)
        m = self._lags(n)
        acf = circular[:m]
        self._energy = float(acf[0] / max(overlap0, 1e-12))
        if acf[0] <= 1e-12:
            return np.zeros(m)
        return acf * (unbias[:m] / acf[0])

    def _weighting(self, n: int) -> tuple[np.ndarray, float, np.ndarray]:
        """For a window of `n` hops: the recency weight, its overlap at lag 0, and the factor that unbiases
        the autocorrelation (overlap[0] / overlap per lag). The same for every update once the window is
        full, so it is kept."""
        if self._weights is None or len(self._weights[0]) != n:
            recency = self.settings.recency
            lags = np.arange(n)
            if recency > 0:  # weights r**age: their overlap at lag L is a geometric series
                r = math.exp(-self.dt / recency)
                weight = r ** lags[::-1]
                overlap = r**lags * (1.0 - r ** (2 * (n - lags))) / (1.0 - r * r)
            else:
                weight, overlap = np.ones(n), (n - lags).astype(float)
            self._weights = (weight, float(overlap[0]), overlap[0] / np.maximum(overlap, 1e-9 * overlap[0]))
        return self._weights

    def _update(self) -> None:
        sal = np.maximum(self._salience(), 0.0)
        trust = (1.0 - self._keep) * min(1.0, self._count / self._size)  # short windows count less
        keep = self._keep
        if self.settings.reference > 0 and self._count >= self._size:
            # the track's references are read from full windows only: a short window holding the first
            # hit is not diluted, and would set a peak that the music after it cannot reach for a while
            peak = float(sal.max())
            fall = math.exp(-self.settings.update / self.settings.reference)
            self._reference = max(peak, self._reference * fall)
            fade = math.exp(-self.settings.update / self.settings.loudness)
            self._energy_reference = max(self._energy, self._energy_reference * fade)
            self._level_reference = max(self._level, self._level_reference * fade)
            if self._reference > 0 and self._energy_reference > 0:
                # weakly periodic, weak or quiet stretches (breakdowns, outros) count less, and the
                # tempogram forgets less in them
                share = peak / self._reference * min(1.0, self._energy / self._energy_reference)
                share *= min(1.0, self._level / max(self._level_reference, 1e-12))
                trust *= share
                keep = 1.0 - (1.0 - keep) * share
        self._acc = keep * self._acc + trust * sal
        self._triple = keep * self._triple + trust * self._triple_now
        if self._count >= self._size:  # from full windows only: the first seconds choose as they did
            self._backbeat = keep * self._backbeat + trust * self._backbeat_now
            self._pulse = keep * self._pulse + trust * self._pulse_now
        self._weight = keep * self._weight + trust
        evidence = self._acc * (1.0 + self.settings.backbeat * self._backbeat / max(self._weight, 1e-9))
        score = evidence * self._prior
        if not score.any():
            return
        triple = self.settings.triple * self._triple
        if self.settings.compound > 0:
            triple = triple * self._riff_share()
        metric = np.maximum(evidence - triple, 0.0) * self._prior
        inner = _inner(score)
        if inner.any():  # else no peak inside the range at all: take the score as it is
            score, metric = inner, np.where(inner > 0, metric, 0.0)
        self._current = self._choose(score, metric)
        i = self._current
        bpm = float(self.bpm_grid[i] * self._grid_step ** _parabolic_offset(score, i))
        bpm = self._refine(bpm)
        periodicity = min(max(float(self._acc[i]) / max(self._weight, 1e-9), 0.0), 1.0)
        runner_up, share = self._runner_up(score, i, bpm)
        confidence = calibrated(periodicity)
        if share >= OPEN_OCTAVE_SHARE and runner_up > 0 and _related(runner_up / bpm, (2.0, 0.5)):
            confidence = min(confidence, OPEN_OCTAVE_CONFIDENCE)  # a dancer may tap either
        self.estimate = TempoEstimate(bpm, confidence, runner_up, share, periodicity)

    def _riff_share(self) -> np.ndarray:
        """Per tempo, how much of its grouping in threes counts against it (1: all, a dotted riff; 0: none, a
        compound beat): less where its kick and snare alternate, none from `compound` up, but only where the
        kick does not pulse at the level 3:2 faster (6/8's dotted quarter: kick on one, snare on four, no
        kick on every quarter); all where it does (a dotted clap pattern over four on the floor)."""
        w = max(self._weight, 1e-9)
        compound = self.settings.compound
        faster = np.where(self._faster >= 0, self._pulse[self._faster] / w, 0.0)
        lifted = np.minimum(self._backbeat / (w * compound), 1.0)
        return np.where(faster < compound, 1.0 - lifted, 1.0)

    def _runner_up(self, score: np.ndarray, i: int, bpm: float) -> tuple[float, float]:
        """The other metrical level with the most evidence (BPM) and its share of the tempo's evidence: a
        preset can choose between the two when the evidence is split (a dancer may tap either)."""
        span = max(1, int(np.ceil(np.log1p(self.settings.follow) / np.log(self._grid_step))))
        best, best_bpm = 0.0, 0.0
        for ratio in OCTAVE_RATIOS:
            j = self._near(score, bpm * ratio, span)
            if j is not None and score[j] > best and abs(j - i) > span:
                best, best_bpm = float(score[j]), float(self.bpm_grid[j])
        if best <= 0 or score[i] <= 0:
            return 0.0, 0.0
        return best_bpm, min(1.0, best / float(score[i]))

    def _near(self, score: np.ndarray, bpm: float, span: int) -> int | None:
        """The grid index of the highest score within ±span steps of `bpm` (None: outside the range)."""
        if not self.bpm_grid[0] <= bpm <= self.bpm_grid[-1]:
            return None
        c = self._index(bpm)
        lo, hi = max(0, c - span), min(len(score), c + span + 1)
        return lo + int(score[lo:hi].argmax())

    def _index(self, bpm: float) -> int:
        """The grid index nearest to `bpm` (the grid is geometric: its log steps are even)."""
        c = round(math.log(bpm / self.bpm_grid[0]) / math.log(self._grid_step))
        return min(max(c, 0), len(self.bpm_grid) - 1)

    def _refine(self, bpm: float) -> float:
        """The tempo from the autocorrelation peak at the longest usable multiple of the period: the
        tempogram's 1 % grid and whole-hop lags would leave up to ~1 % error; the 4th multiple quarters it."""
        acf = self._acf
        period = 60.0 / bpm / self.dt
        for h in range(self.settings.harmonics, 0, -1):
            lag = h * period
            if lag > 0.5 * self._acf_window - 2:
                continue
            j = round(lag)
            j = j - 1 + int(acf[j - 1 : j + 2].argmax())
            peak = j + _parabolic_offset(acf, j)
            if abs(peak / lag - 1.0) < 0.02:
                return 60.0 / (peak / h) / self.dt
            return bpm
        return bpm

    def _choose(self, score: np.ndarray, metric: np.ndarray) -> int:
        """The tempo peak to report. `metric` is the score less the evidence of grouping in threes: it
        decides between two levels related by 3:2 or 4:3, the raw score everything else."""
        span = max(1, int(np.ceil(np.log1p(self.settings.follow) / np.log(self._grid_step))))
        best = self._metrical(score, metric, int(score.argmax()), span)
        cur = self._current
        if cur is None:
            return best
        lo, hi = max(0, cur - span), min(len(score), cur + span + 1)
        here = lo + int(score[lo:hi].argmax())
        ratio = self.bpm_grid[best] / self.bpm_grid[here]
        octave = _related(ratio, (2.0, 0.5, 3.0, 1 / 3, *METRIC_RATIOS))
        margin = self.settings.octave_switch if octave else self.settings.switch
        margin *= min(1.0, (self._count - self._moved_at) * self.dt / self.settings.settle)
        judge = metric if _related(ratio, METRIC_RATIOS) else score
        if judge[best] <= (1.0 + margin) * judge[here] and not self._sustained(best, judge, here):
            return here
        self._challenger = None
        if not octave:
            self._moved_at = self._count  # a new tempo: its octave is open again for a few seconds
        return best

    def _sustained(self, best: int, judge: np.ndarray, here: int) -> bool:
        """Whether the level `best`, 3:2 or 4:3 from the tempo (`here`), has had more evidence than it for
        `sustain` seconds in a row: then it is the music's, however small its lead, so the first seconds'
        choice is not held against a whole song's evidence."""
        s = self.settings
        # not an octave away: there the score leans on the prior (a fast song's half is nearer 120), and
        # neither it nor the backbeat tells the two apart (four-on-the-floor loops, fast rolls, brushes and
        # waltzes fell to their half; with more than twice the backbeat asked for as well, metal songs of
        # Frets on Fire moved to their double or half for 1.5-2.5 minutes)
        related = _related(self.bpm_grid[best] / self.bpm_grid[here], METRIC_RATIOS)
        # nor to a slower level while the kick pulses on the tempo: four on the floor is the beat, whatever
        # pattern the claps play over it
        floor = best < here and self._pulse[here] >= s.compound * max(self._weight, 1e-9)
        if not s.sustain or not related or floor or judge[best] <= judge[here]:
            self._challenger = None
            return False
        span = max(1, int(np.ceil(np.log1p(self.settings.follow) / np.log(self._grid_step))))
        if self._challenger is None or abs(self._challenger[0] - best) > span:
            self._challenger = (best, self._count)
            return False
        return (self._count - self._challenger[1]) * self.dt >= s.sustain

    def _metrical(self, score: np.ndarray, metric: np.ndarray, best: int, span: int) -> int:
        """Of the peak `best` and the levels a grouping in threes relates it to, the one the metre
        prefers (a dotted riff's period is not the beat)."""
        related = (self._near(score, self.bpm_grid[best] * r, span) for r in METRIC_RATIOS)
        return max((best, *(j for j in related if j is not None)), key=lambda j: metric[j])


def fold_octaves(bpm: float, min_bpm: float, max_bpm: float) -> float:
    """`bpm` doubled or halved into [min_bpm, max_bpm] (the nearest end when no octave of it fits)."""
    while bpm > max_bpm and bpm / 2.0 >= min_bpm:
        bpm /= 2.0
    while bpm < min_bpm and bpm * 2.0 <= max_bpm:
        bpm *= 2.0
    return float(min(max(bpm, min_bpm), max_bpm))


def _related(ratio: float, ratios: tuple[float, ...]) -> bool:
    """Whether two tempi whose ratio is `ratio` are one of `ratios` apart (within 4 %)."""
    return any(abs(math.log(ratio / r)) < 0.04 for r in ratios)


def _peaks(x: np.ndarray, local: np.ndarray) -> np.ndarray:
    """The onsets of strength series (rows): their peaks above the local mean (`local`: the averaging
    kernel), less their mean."""
    mean = np.stack([np.convolve(row, local, mode="same") for row in x])
    x = np.maximum(x - mean, 0.0)
    return x - (np.add.reduce(x, axis=1) / x.shape[1])[:, None]


def _fast_size(n: int) -> int:
    """The smallest FFT length >= n with no prime factor above 5 (pocketfft is fastest there)."""
    best = 1 << max(0, n - 1).bit_length()
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < n:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best


def _widened(acf: np.ndarray) -> np.ndarray:
    """Each lag's maximum with its two neighbours (the ends wrap around, as np.roll does)."""
    wide = acf.copy()
    np.maximum(wide[1:], acf[:-1], out=wide[1:])
    np.maximum(wide[:-1], acf[1:], out=wide[:-1])
    wide[0] = max(wide[0], acf[-1])
    wide[-1] = max(wide[-1], acf[0])
    return wide


def _inner(score: np.ndarray) -> np.ndarray:
    """The score without the slopes that rise to either end of the range: their peak lies outside it, so
    the range's edge is not a tempo the music has (a peak just above the range is read at its half)."""
    d = score[1:] - score[:-1]
    falling, rising = np.flatnonzero(d < 0), np.flatnonzero(d > 0)
    if not len(falling) or not len(rising):
        return np.zeros_like(score)
    out = score.copy()
    out[falling[-1] + 2 :] = 0.0  # the rise to the top edge begins after the last fall
    out[: rising[0]] = 0.0  # the fall from the bottom edge ends at the first rise
    return out


def _parabolic_offset(score: np.ndarray, i: int) -> float:
    """Sub-grid position of the peak at i, in grid steps (-0.5..0.5)."""
    if i <= 0 or i >= len(score) - 1:
        return 0.0
    a, b, c = score[i - 1 : i + 2].tolist()
    den = a - 2 * b + c
    return 0.0 if den >= 0 else min(max(0.5 * (a - c) / den, -0.5), 0.5)


@dataclass(frozen=True)
class _CombPlan:
    """Linear interpolation at fixed lags, as index and fraction arrays (rows: what the comb reads), into the
    autocorrelation and its widened copy laid end to end; `valid` marks the multiples within half the
    window, `terms` counts them per tempo, `usable` marks the tempi whose period is within it."""

    n: int
    index: np.ndarray
    fraction: np.ndarray
    valid: np.ndarray
    terms: np.ndarray
    usable: np.ndarray
    backbeat_index: np.ndarray  # [after, before] x [below, above] x [one, two periods] x tempo: where the
    # backbeat reads the circular cross-correlation (lag +L, and -L from the end)
    backbeat_fraction: np.ndarray  # [one, two periods] x tempo
    backbeat_unbias: np.ndarray  # [below, above] x [one, two periods] x tempo: the unbiasing at those lags
    backbeat_usable: np.ndarray  # 1 where two periods are within half the window

    def read(self, series: np.ndarray) -> np.ndarray:
        below = series[self.index]
        return below + self.fraction * (series[self.index + 1] - below)

    def read_backbeat(self, xcorr: np.ndarray, scale: float) -> np.ndarray:
        """[after, before] x [one, two periods] x tempo: the cross-correlation times `scale`, unbiased and
        interpolated at one and two periods on either side."""
        at = (xcorr[self.backbeat_index] * scale) * self.backbeat_unbias
        below, above = at[:, 0], at[:, 1]
        return below + self.backbeat_fraction * (above - below)


@dataclass(frozen=True)
class _Correlations:
    """One update's circular correlations: the onset peaks' autocorrelation, and where the backbeat counts
    (else None) the kick's and the snare's cross-correlation with the product of their norms."""

    onsets: np.ndarray
    backbeat: np.ndarray | None = None
    backbeat_scale: float = 0.0
    kicks: np.ndarray | None = None  # the kick's circular autocorrelation (with the backbeat's)
    kick_energy: float = 0.0  # its value at lag 0


def _interpolation(lags: np.ndarray, offset: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and fraction that read a series of `n` values at `lags` as np.interp does (clamped to its ends),
    the series starting at `offset` in a longer array."""
    at = np.clip(lags, 0.0, n - 1.0)
    below = np.minimum(np.floor(at), max(0, n - 2)).astype(int)
    return below + offset, at - below
