"""Where live analysis gets its samples: one interface for a file/synth buffer played in real time and for
a sound card's capture (engine/audio/capture.py).
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from engine.audio.buffer import AudioBuffer, fill
from engine.audio.playback import Playback


class AudioFeed(Protocol):
    sample_rate: int
    blocksize: int  # samples that arrive at a time (0: any amount, as a clock runs): how often to look

    def start(self) -> None: ...

    def read(self) -> np.ndarray:
        """Mono float32 samples that arrived since the last read (possibly none). Analysis thread only."""
        ...

    def position(self) -> float | None:
        """Audio time (s) being heard now, for the show clock; None when the audio is not running."""
        ...

    def stop(self) -> None: ...


class BufferFeed:
    """A file or the synthesizer, paced in real time: played to the speakers when asked (the playback
    position is then the clock), else paced by the monotonic clock. With `loop` the buffer plays again and
    again while time keeps running (a rehearsal's section: the analysis hears it as one long track)."""

    blocksize = 0  # no blocks: samples are ready as the clock runs

    def __init__(
        self,
        audio: AudioBuffer,
        play: bool = True,
        device: int | str | None = None,
        loop: bool = False,
        mono: np.ndarray | None = None,
    ):
        """`mono`: the buffer's mono mix when the caller has it (a track still to be streamed in is
        silence: mixing twenty minutes of zeros would hold up the first frame by a second)."""
        self.audio = audio
        self.sample_rate = audio.sample_rate
        self.loop = loop
        self._mono = audio.mono() if mono is None else mono
        self._fed = 0
        self._playback = Playback(audio, device=device, loop=loop) if play else None
        self._playing = False
        self._t0: float | None = None

    def start(self) -> None:
        self._playing = bool(self._playback and self._playback.start())
        self._t0 = time.monotonic()

    def position(self) -> float | None:
        if self._playing:
            return self._playback.position()
        if self._t0 is None:
            return None
        return time.monotonic() - self._t0

    def read(self) -> np.ndarray:
        upto = int((self.position() or 0.0) * self.sample_rate)
        if not self.loop:
            upto = min(len(self._mono), upto)
        chunk = np.empty(max(0, upto - self._fed), np.float32)
        fill(chunk, self._mono, self._fed, self.loop)
        self._fed = max(self._fed, upto)
        return chunk

    def write(self, at: int, stereo: np.ndarray) -> None:
        """Fill in samples from `at` that were still being decoded when the show started (a long track
        streams in behind the play position: decoding runs far faster than real time)."""
        n = min(len(stereo), len(self.audio.samples) - at)
        if n > 0:
            self.audio.samples[at : at + n] = stereo[:n]
            self._mono[at : at + n] = stereo[:n].mean(axis=1)

    def stop(self) -> None:
        if self._playback is not None:
            self._playback.stop()
        self._playing = False


def finite(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """The samples with anything not finite (NaN, inf) made silence, and how many were."""
    ok = np.isfinite(samples)
    if ok.all():
        return samples, 0
    return np.where(ok, samples, 0.0).astype(samples.dtype, copy=False), int(ok.size - np.count_nonzero(ok))


class FiniteFeed:
    """A feed whose samples that are not numbers (a broken driver, a plug-in's NaN) are heard as silence by
    everything after it, the analysis and the recording alike: one burst must not poison the tempo for the
    rest of the show, nor stop the recording's audio encoder. `non_finite` counts them (the operator is
    told). Everything else is the feed's own (its clock, its connection)."""

    def __init__(self, feed: AudioFeed):
        self._feed = feed
        self.non_finite = 0

    def __getattr__(self, name):
        return getattr(self._feed, name)

    def read(self) -> np.ndarray:
        samples, bad = finite(self._feed.read())
        self.non_finite += bad
        return samples
