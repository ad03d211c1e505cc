"""Audio held in memory: what file and synthesizer sources hand to the analyzer and the speakers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 48000


@dataclass(frozen=True)
class AudioBuffer:
    """Stereo float32 samples in -1..1, shape (n, 2)."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1, dtype=np.float32)

    def until(self, seconds: float) -> AudioBuffer:
        """The first `seconds` of the buffer (for renders shorter than the track)."""
        return AudioBuffer(self.samples[: round(seconds * self.sample_rate)], self.sample_rate)
