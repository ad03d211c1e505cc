"""Argument types and loaders shared by subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from engine.audio.buffer import AudioBuffer

DEFAULT_SIZE = (1280, 720)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if w < 2 or h < 2 or w > 8192 or h > 8192 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"'{text}': width and height must be even, 2..8192")
    return w, h


def positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"'{text}' must be positive")
        return value

    return parse


def load_music(path: str | None) -> AudioBuffer:
    """The audio file given, or the built-in demo song when none is."""
    if path:
        from engine.audio.file import load_audio

        return load_audio(path)
    from engine.audio.synth import demo_track

    track = demo_track()
    return AudioBuffer(track.samples, track.sample_rate)


def output_settings(args, preset) -> tuple[tuple[int, int], float]:
    size = getattr(args, "size", None) or preset.size or DEFAULT_SIZE
    fps = getattr(args, "fps", None) or preset.fps or 30.0
    return tuple(size), float(fps)
