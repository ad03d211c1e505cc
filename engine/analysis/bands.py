"""Band analysis: per-hop FFT band energies → auto-gained level, hits, presence and band time.

Each band's level is divided by a peak follower that rises instantly and falls over `agc_release` seconds,
so the same preset reacts in a quiet rehearsal room and in a loud club.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Band edges in Hz; "full" spans everything.
DEFAULT_BANDS: dict[str, tuple[float, float]] = {
    "bass": (20.0, 150.0),
    "lowmid": (150.0, 400.0),
    "mid": (400.0, 2000.0),
    "highmid": (2000.0, 6000.0),
    "high": (6000.0, 20000.0),
    "full": (20.0, 20000.0),
}


def coeff(seconds: float, dt: float) -> float:
    """One-pole smoothing coefficient: the fraction of the gap closed in one step of dt."""
    return 1.0 if seconds <= 0 else 1.0 - float(np.exp(-dt / seconds))


def band_matrix(edges: dict[str, tuple[float, float]], fft_size: int, sample_rate: int) -> np.ndarray:
    """(bands, bins) 0/1 weights that sum a power spectrum into bands."""
    freqs = np.fft.rfftfreq(fft_size, 1.0 / sample_rate)
    rows = [((freqs >= lo) & (freqs < hi)).astype(np.float32) for lo, hi in edges.values()]
    return np.stack(rows)


@dataclass
class BandTimes:
    attack: float = 0.005
    release: float = 0.12
    presence: float = 1.5
    hit_decay: float = 0.15
    hit_baseline: float = 0.25
    agc_release: float = 10.0
    floor: float = 1e-4  # amplitude below which a band counts as silent (≈ -80 dBFS)


class BandTracker:
    """Holds the per-band envelopes; `step` advances them by one hop.

    Plain floats rather than numpy: six bands per hop are cheaper in Python than in numpy calls, and the
    analyzer steps this ~190 times a second live.
    """

    def __init__(self, n_bands: int, dt: float, times: BandTimes | None = None):
        t = times or BandTimes()
        self.times = t
        self.dt = dt
        self.k_attack = coeff(t.attack, dt)
        self.k_release = coeff(t.release, dt)
        self.k_presence = coeff(t.presence, dt)
        self.k_baseline = coeff(t.hit_baseline, dt)
        self.hit_fall = float(np.exp(-dt / t.hit_decay))
        self.agc_fall = float(np.exp(-dt / t.agc_release))
        self.peak = [t.floor] * n_bands
        self.level = [0.0] * n_bands
        self.baseline = [0.0] * n_bands
        self.hits = [0.0] * n_bands
        self.presence = [0.0] * n_bands
        self.time = [0.0] * n_bands

    def step(self, amplitude) -> None:
        """Advance every band by one hop given its amplitude (any sequence of floats)."""
        floor, fall, hit_fall = self.times.floor, self.agc_fall, self.hit_fall
        k_attack, k_release, k_baseline, k_presence = (
            self.k_attack,
            self.k_release,
            self.k_baseline,
            self.k_presence,
        )
        peaks, levels, baselines, hits, presences, times = (
            self.peak,
            self.level,
            self.baseline,
            self.hits,
            self.presence,
            self.time,
        )
        for i, amp in enumerate(amplitude):
            peak = max(amp, peaks[i] * fall, floor)
            peaks[i] = peak
            norm = amp / peak if amp > floor else 0.0
            level = levels[i]
            level += (k_attack if norm > level else k_release) * (norm - level)
            levels[i] = level
            baseline = baselines[i]
            transient = min(1.0, max(0.0, (norm - baseline - 0.1) * 2.5))
            hits[i] = max(hits[i] * hit_fall, transient)
            baselines[i] = baseline + k_baseline * (norm - baseline)
            presences[i] += k_presence * (level - presences[i])
            times[i] += self.dt * level
