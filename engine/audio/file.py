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


def audio_duration(path: str | Path) -> float:
    """The track's length in seconds from its container, without decoding it (MediaError if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise MediaError("audio file not found: check the path", path=path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError("has no audio stream", path=path)
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"cannot read audio ({exc.strerror or exc}): is it a sound file?", path=path
        ) from exc
    return load_audio(path).duration  # no length in the header: decode it to know


def stream_audio(path: str | Path, start: float = 0.0, sample_rate: int = SAMPLE_RATE):
    """Stereo float32 chunks (n, 2) of the track from `start` seconds on, decoded as they are asked for:
    a show can start on the first seconds of a long track while the rest is still being read."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if start > 0 and stream.time_base is not None:
                container.seek(int(start / stream.time_base), stream=stream)  # the keyframe at or before it
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=sample_rate)
            skip = None  # samples before `start` in the first decoded frame
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1, 2)
                    if skip is None:
                        at = float(frame.time) if frame.time is not None else 0.0
                        skip = max(0, round((start - at) * sample_rate))
                    if skip:
                        chunk, skip = chunk[skip:], max(0, skip - len(chunk))
                    if len(chunk):
                        yield chunk
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, 2)
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"cannot decode audio ({exc.strerror or exc}): is it a sound file?", path=path
        ) from exc
