"""Decode any audio file PyAV (FFmpeg) reads into an AudioBuffer at the show's sample rate."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from engine.audio.buffer import SAMPLE_RATE, AudioBuffer
from engine.errors import MediaError


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> AudioBuffer:
    """Decode, mix to stereo and resample; raises MediaError naming the file when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise MediaError("audio file not found: check the path", path=path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError("has no audio stream", path=path)
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=sample_rate)
            chunks = []
            for frame in container.decode(stream):
                chunks.extend(r.to_ndarray() for r in resampler.resample(frame))
            chunks.extend(r.to_ndarray() for r in resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"cannot decode audio ({exc.strerror or exc}): is it a sound file?", path=path
        ) from exc
    if not chunks:
        raise MediaError("contains no audio samples", path=path)
    samples = np.concatenate([c.reshape(-1, 2) for c in chunks]).astype(np.float32, copy=False)
    return AudioBuffer(np.ascontiguousarray(samples), sample_rate)
