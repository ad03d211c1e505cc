"""Play a buffer to the speakers; its position is the live show's master clock."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from engine.audio.buffer import AudioBuffer, fill

log = logging.getLogger(__name__)


class Playback:
    """Plays an AudioBuffer on an output device through PortAudio.

    `position()` is the audio time being heard now, or None when no device plays it (the show clock then
    free-runs). The callback only copies samples: no allocation, no locks held for long.
    """

    def __init__(
        self, buffer: AudioBuffer, device: int | str | None = None, blocksize: int = 512, loop: bool = False
    ):
        self.buffer = buffer
        self.loop = loop  # play the buffer again and again (a rehearsal's section); positions keep rising
        self.device = device
        self.blocksize = blocksize
        self._frames = 0
        self._stamp = (0, 0.0)  # (frames handed to the device, monotonic time of that callback)
        self._stream = None
        self._latency = 0.0
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Open the device and start; False (and a log line) when there is no usable output device."""
        try:
            import sounddevice as sd

            self._stream = sd.OutputStream(
                samplerate=self.buffer.sample_rate,
                channels=2,
                dtype="float32",
                blocksize=self.blocksize,
                device=self.device,
                callback=self._callback,
            )
            self._latency = float(self._stream.latency)
            self._stream.start()
        except Exception as exc:  # PortAudio missing, no device, device busy: visuals go on without sound
            log.warning("no audio output (%s): visuals run on the free-running clock", exc)
            self._stream = None
            return False
        return True

    def _callback(self, outdata: np.ndarray, frames: int, _time, _status) -> None:
        start = self._frames
        fill(outdata, self.buffer.samples, start, self.loop)
        self._frames = start + frames
        with self._lock:
            self._stamp = (start + frames, time.monotonic())

    def position(self) -> float | None:
        if self._stream is None:
            return None
        with self._lock:
            frames, stamp = self._stamp
        if frames == 0:
            return 0.0
        return max(0.0, frames / self.buffer.sample_rate - self._latency + (time.monotonic() - stamp))

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
