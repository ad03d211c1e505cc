"""Harmony: which pitch classes sound (a 12-bin chroma every ~21 ms) and how much that changes across a
moment. Chords and bass notes change on the bar line far more often than anywhere else in the bar, which
makes it the cue for downbeats where the kick is on every beat (on the LMMS and Frets on Fire songs the
bar line is the beat with the largest change on 24 of 33, the one with the strongest bass onset on 16).

Frames are cut at fixed sample positions from a window of its own (4096 samples: the 1024-sample analysis
FFT cannot tell bass notes a semitone apart), so feeding any block size gives the same frames. They are kept
for `memory` seconds, which bounds the stretches `change` can compare (REACH on either side of a moment).
"""

from __future__ import annotations

import numpy as np

REACH = 4.0  # seconds on either side of a moment that `change` can compare with the default memory


class Chroma:
    def __init__(
        self,
        sample_rate: int,
        size: int = 4096,
        step: int = 1024,
        memory: float = 2 * REACH + 1.0,
        band: tuple[float, float] = (50.0, 2000.0),
    ):
        self.sample_rate = sample_rate
        self.size = size
        self.step = step
        freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
        inside = np.flatnonzero((freqs >= band[0]) & (freqs < band[1]))
        self._bins = slice(int(inside[0]), int(inside[-1]) + 1)  # contiguous: a slice, not an index array
        pitch_class = np.round(12.0 * np.log2(freqs[self._bins] / 440.0)).astype(int) % 12
        self._fold = np.zeros((12, len(inside)), np.float32)
        self._fold[pitch_class, np.arange(len(inside))] = 1.0
        self._window = np.hanning(size).astype(np.float32)
        self._buffer = np.zeros(size, np.float32)  # the `size` samples up to the last frame
        self._incoming = np.zeros(step, np.float32)  # the samples since
        self._count = 0  # samples seen
        keep = int(memory * sample_rate / step) + 1
        self._times = np.full(keep, -np.inf)  # centre of each frame's window (audio seconds), a ring
        self._ends = np.full(keep, np.inf)  # when each frame's window ends: when it was known
        self._frames = np.zeros((keep, 12), np.float32)
        self._written = 0  # frames made

    def feed(self, samples: np.ndarray) -> None:
        """Take samples; a frame is made each time `step` of them have come in (the window moves on only
        then, so a hop costs one copy)."""
        done = 0
        while done < len(samples):
            filled = self._count % self.step
            take = min(len(samples) - done, self.step - filled)
            self._incoming[filled : filled + take] = samples[done : done + take]
            self._count += take
            done += take
            if self._count % self.step == 0:
                self._buffer[: -self.step] = self._buffer[self.step :]
                self._buffer[-self.step :] = self._incoming
                self._frame()

    def _frame(self) -> None:
        spectrum = np.fft.rfft(self._buffer * self._window)[self._bins]
        chroma = np.sqrt(self._fold @ (spectrum.real**2 + spectrum.imag**2))
        i = self._written % len(self._times)
        self._frames[i] = chroma / (np.linalg.norm(chroma) + 1e-9)
        self._times[i] = (self._count - self.size / 2) / self.sample_rate
        self._ends[i] = self._count / self.sample_rate
        self._written += 1

    def change(self, at: float, span: float, now: float) -> float | None:
        """How different the harmony of [at, at + span) is from that of [at - span, at): the cosine distance
        of their mean chroma, 0..1, from frames that were complete by `now` (None until there are), so a
        block fed ahead of the beat clock never lends it the future."""
        times = self._times
        known = self._ends <= now
        before = known & (times >= at - span) & (times < at)
        after = known & (times >= at) & (times < at + span)
        if not before.any() or not after.any() or times[known].max(initial=-np.inf) < at + span - 0.05:
            return None
        a, b = self._frames[before].mean(axis=0), self._frames[after].mean(axis=0)
        return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
