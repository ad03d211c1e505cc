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
        return self.section(0.0, seconds)

    def section(self, start: float, stop: float | None = None) -> AudioBuffer:
        """The part from `start` to `stop` seconds (the end when None): the drop a rehearsal loops on."""
        end = None if stop is None else round(stop * self.sample_rate)
        return AudioBuffer(self.samples[round(start * self.sample_rate) : end], self.sample_rate)


def fill(out: np.ndarray, samples: np.ndarray, start: int, loop: bool = False) -> None:
    """Copy `samples` from index `start` into `out`: round again from the beginning when `loop`, silence past
    the end otherwise. Slices only, so an audio callback can call it."""
    n = len(samples)
    done = 0
    while done < len(out):
        at = start + done
        if loop and n:
            at %= n
        chunk = samples[at : at + len(out) - done]
        if not len(chunk):
            out[done:] = 0.0
            return
        out[done : done + len(chunk)] = chunk
        done += len(chunk)
