"""Reading a source video with PyAV, as both of `prepare`'s passes do: FFmpeg decodes on its own threads;
a file that breaks off part-way gives the frames before the break, the same ones each time it is read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av

from engine.errors import MediaError

DEFAULT_FPS = 24.0


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    size: tuple[int, int]  # the source's picture size
    expected: int  # frames the header announces (0: it does not say)
    alpha: bool  # the pixel format carries alpha


def has_alpha_format(name: str | None) -> bool:
    """Whether a pixel format carries alpha (rgba, yuva420p, ya8, pal8 with a transparent entry…)."""
    if not name:
        return False
    try:
        return any(c.is_alpha for c in av.VideoFormat(name).components) or name == "pal8"
    except (ValueError, AttributeError):
        return False


@contextmanager
def open_video(path: Path) -> Iterator[tuple[VideoInfo, Iterator[av.VideoFrame]]]:
    """(what the header says, the decoded frames in order); MediaError for a file that is not a video."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot open as video ({exc.strerror or exc})", path=path) from exc
    with container:
        if not container.streams.video:
            raise MediaError("has no video stream", path=path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = (stream.codec_context.width, stream.codec_context.height)
        if not all(size):
            raise MediaError("video stream has no picture size (unsupported codec?)", path=path)
        fps = float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)
        info = VideoInfo(fps, size, stream.frames, has_alpha_format(stream.codec_context.pix_fmt))
        yield info, _frames(container, stream, path)


def _frames(container, stream, path: Path) -> Iterator[av.VideoFrame]:
    decoded = 0
    try:
        for frame in container.decode(stream):
            decoded += 1
            yield frame
    except av.error.FFmpegError as exc:
        if not decoded:
            raise MediaError(f"cannot decode video ({exc.strerror or exc})", path=path) from exc
