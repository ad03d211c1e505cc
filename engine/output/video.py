"""H.264 MP4 with the show's audio track, so a rehearsal render can be watched with sound."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.audio.buffer import AudioBuffer
from engine.errors import MediaError

AUDIO_CHUNK = 1024  # AAC frame size


class VideoWriter:
    """Video frames and the matching audio, interleaved as the frames arrive."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float, audio: AudioBuffer | None = None):
        if size[0] % 2 or size[1] % 2:
            raise MediaError(f"video size {size[0]}x{size[1]} must be even for H.264", path=path)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = Fraction(fps).limit_denominator(1001)
        try:
            self._container = av.open(str(self.path), "w")
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot write video ({exc})", path=path) from exc
        self._video = self._container.add_stream("libx264", rate=self.fps)
        self._video.width, self._video.height = size
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"crf": "18", "preset": "veryfast"}
        self._audio = audio
        self._audio_stream = None
        self._audio_done = 0
        self._frames = 0
        if audio is not None:
            self._audio_stream = self._container.add_stream("aac", rate=audio.sample_rate)
            self._audio_stream.layout = "stereo"

    def write(self, rgba: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
        frame.pts = self._frames
        frame.time_base = 1 / self.fps
        self._container.mux(self._video.encode(frame))
        self._frames += 1
        self._write_audio_until(self._frames / self.fps)

    def _write_audio_until(self, seconds: float) -> None:
        if self._audio is None:
            return
        end = min(int(seconds * self._audio.sample_rate), len(self._audio.samples))
        while end - self._audio_done >= AUDIO_CHUNK or (
            end == len(self._audio.samples) and end > self._audio_done
        ):
            n = min(AUDIO_CHUNK, end - self._audio_done)
            chunk = self._audio.samples[self._audio_done : self._audio_done + n]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp", layout="stereo")
            frame.sample_rate = self._audio.sample_rate
            frame.pts = self._audio_done
            self._container.mux(self._audio_stream.encode(frame))
            self._audio_done += n

    def close(self) -> None:
        self._container.mux(self._video.encode(None))
        if self._audio_stream is not None:
            self._container.mux(self._audio_stream.encode(None))
        self._container.close()
