"""Onset detection: a causal threshold per band on the spectral flux, tuned for low latency.

Why per band: a kick and a hi-hat struck together are two events (and two reactions a VJ may want), which
a single detector hears as one. Why not aubio: its peak picker waits for a median over future frames and
back-dates by a fixed delay (~22 ms real delay at hop 256). This one decides in the hop where the flux rises
through its threshold: the log-compressed flux jumps as soon as an attack enters the analysis window, so
waiting one more hop to see the peak (as it did before) only cost 5.3 ms (mean delay after the annotated
onsets of the shared set 8.9 → 0.8 ms, onset F 0.829 → 0.828: `halation bench analysis`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.analysis.features import Onset

BAND_NAMES = ("low", "high")
# Onsets closer than this are one attack (onset data sets annotate them as one, as madmom's peak picker
# reports them): a kick with a hat, a strummed chord, a flam's grace note and its stroke.
ATTACK_GAP = 0.03


@dataclass(frozen=True)
class PeakPicking:
    """Decision rule of one band's detector (times in seconds; thresholds relative or in nepers/bin)."""

    delta: float = 0.2  # the flux must rise above the local mean by this fraction of the band's recent peak
    floor: float = 0.0  # ... and above this absolute flux (nepers per bin): ignores slow swells
    mean_window: float = 0.1  # local mean over this much past
    min_gap: float = 0.05  # two onsets of one band are at least this far apart
    peak_memory: float = 10.0  # the band's peak flux forgets over ~this many seconds
    warmup: float = 0.05  # no onset from the first moments of the stream (the start itself is no onset)
    backdate: float = 0.002  # the sound started this long before the end of the hop the flux rose in
    # (matched onsets of the shared set: median 1.3 ms before it)


# The bass band needs a real rise (~2.6 dB across its bins) so that a sustained bass or piano note that
# beats or swells does not fire; the upper band's adaptive threshold is enough. With that floor in place the
# bass band's share of its recent peak can be small (0.1): a kick sets that peak far above the body of a
# snare, so at 0.2 the softer strokes of a roll right after a groove went unheard. Its gap is the attack gap
# (30 ms): 32nd notes at 160-200 BPM fall 37-47 ms apart, and a 50 ms gap heard one stroke in two. The upper
# band keeps 50 ms: on a distorted guitar a shorter gap fires twice on one note (Frets on Fire stems, onset
# F 0.61 -> 0.55 at 30 ms). Generated set (mean of files, attacks): rolls 0.55 -> 0.65, all 0.874 -> 0.889;
# shared set 0.827 -> 0.814 (a diagnostic re-running the detector on cached spectra; docs/listening.md).
# On the onsets' own flux (odf.ONSET_FLUX: compressed from -50 dBFS, against the louder of two frames) the
# flicker of steady noise no longer rises, so the upper band's share can be 6 % (it was 15 %): a soft hat,
# a ride's ping or a brush tap a tenth as loud as the snare is heard. Shares of 5-9 % all keep the shared
# set at or above its old figures and the brushes above aubio + 0.05; the rolls clear aubio + 0.05 at 6 %
# and below (5 %: 0.741, 6 %: 0.725, 7 %: 0.707), and the Frets on Fire guitar charts lose precision as the
# share falls, so 6 % (docs/listening.md, Session 5: the sweep).
DEFAULT_PICKING = (PeakPicking(delta=0.1, floor=0.3, min_gap=ATTACK_GAP), PeakPicking(delta=0.06))


class BandPeakPicker:
    """One band: sees one flux value per hop and says, in the hop its flux rises through the threshold, that
    an onset happened."""

    def __init__(self, hop_seconds: float, rule: PeakPicking):
        self.rule = rule
        self._mean_hops = max(1, round(rule.mean_window / hop_seconds))
        self._recent: deque[float] = deque(maxlen=self._mean_hops)
        self._peak_fall = float(np.exp(-hop_seconds / rule.peak_memory))
        self._peak = 1e-9
        self._last = -1e9

    def step(self, flux: float, end_time: float) -> Onset | None:
        """Feed the flux of the hop ending at `end_time`; returns the onset in it, if any."""
        recent = self._recent
        self._peak = max(flux, self._peak * self._peak_fall)
        onset = None
        rule = self.rule
        if recent and flux > recent[-1] and end_time - self._last >= rule.min_gap and end_time >= rule.warmup:
            threshold = max(sum(recent) / len(recent) + rule.delta * self._peak, rule.floor)
            if flux > threshold:
                self._last = end_time
                strength = min(1.0, flux / self._peak)
                onset = Onset(time=end_time - rule.backdate, known_at=end_time, strength=strength)
        recent.append(flux)
        return onset


class OnsetDetector:
    """The band detectors together: `step` takes one hop's band fluxes and returns the new onsets."""

    def __init__(self, hop_seconds: float, rules: tuple[PeakPicking, ...] = DEFAULT_PICKING):
        self.pickers = tuple(BandPeakPicker(hop_seconds, rule) for rule in rules)
        self._last_time = -1e9  # time of the last onset of any band

    def step(self, band_flux: Sequence[float], end_time: float) -> list[Onset]:
        """The onsets of this hop, each band's own; `attack` marks those that start a new attack."""
        found = []
        for name, picker, flux in zip(BAND_NAMES, self.pickers, band_flux, strict=True):
            onset = picker.step(flux, end_time)
            if onset is not None:
                attack = onset.time - self._last_time >= ATTACK_GAP
                self._last_time = onset.time if attack else self._last_time
                found.append(Onset(onset.time, onset.known_at, onset.strength, name, attack))
        return found
