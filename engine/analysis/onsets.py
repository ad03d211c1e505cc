"""Onset detection: aubio's detector fed one hop at a time, events stamped with happened/known times."""

from __future__ import annotations

import aubio
import numpy as np

from engine.analysis.features import Onset


class OnsetDetector:
    """Wraps aubio.onset; `strength` is the detection function against its recent peak (0..1)."""

    def __init__(self, sample_rate: int, hop: int, fft_size: int, method: str = "hfc"):
        self.hop = hop
        self.sample_rate = sample_rate
        self._onset = aubio.onset(method, fft_size, hop, sample_rate)
        self._onset.set_minioi_s(0.05)
        self._peak = 1e-9

    def step(self, hop_samples: np.ndarray, end_time: float) -> Onset | None:
        """Feed one hop ending at audio time `end_time`; returns the onset it revealed, if any."""
        fired = self._onset(hop_samples)[0]
        descriptor = float(self._onset.get_descriptor())
        self._peak = max(descriptor, self._peak * 0.999)
        if not fired:
            return None
        happened = min(float(self._onset.get_last_s()), end_time)
        return Onset(time=happened, known_at=end_time, strength=min(1.0, descriptor / self._peak))
