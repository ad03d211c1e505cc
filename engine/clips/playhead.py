"""Which clip frame to show now: loop, ping-pong, one-shot or random, at a speed, forwards or reversed,
or beat-synced so the loop spans N beats at the current tempo and starts on a downbeat.

Pure functions of time and beat position: live and offline pick the same frames for the same music.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MODES = ("loop", "pingpong", "oneshot", "random")


@dataclass(frozen=True)
class Playback:
    mode: str = "loop"
    speed: float = 1.0
    reverse: bool = False
    beats: float | None = None  # beat sync: one pass of the clip lasts this many beats

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")


@dataclass(frozen=True)
class Cue:
    """When a clip started: show time (s) and beat position (beats since the music started)."""

    time: float
    beat: float


def _fold(position: float, count: int, mode: str) -> int:
    """Frame index for a position measured in frames since the start, per play mode."""
    if mode == "oneshot":
        return min(max(math.floor(position), 0), count - 1)
    if mode == "pingpong" and count > 1:
        period = 2 * (count - 1)
        p = math.floor(position) % period
        return p if p < count else period - p
    return math.floor(position) % count


def _random_frame(step: int, count: int, seed: int) -> int:
    """A repeatable 'random' frame for each step (hash, not RNG state: offline renders stay deterministic)."""
    x = (step * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return x % count


def frame_index(
    play: Playback, count: int, fps: float, cue: Cue, time: float, beat: float | None, seed=0
) -> int:
    """The frame of a `count`-frame clip to show at show `time` / beat position `beat`."""
    if play.beats and beat is not None:
        passes = (beat - cue.beat) / play.beats
        span = count - 1 if play.mode == "pingpong" else count
        position = passes * span * play.speed
        if play.mode == "random":
            index = _random_frame(math.floor(beat - cue.beat), count, seed)
            return count - 1 - index if play.reverse else index
    else:
        position = (time - cue.time) * fps * play.speed
        if play.mode == "random":
            step = math.floor(beat) if beat is not None else math.floor((time - cue.time) * 2)
            return _random_frame(step, count, seed)
    index = _fold(position + 1e-6, count, play.mode)
    return count - 1 - index if play.reverse else index


def next_downbeat(beat: float, beats_per_bar: int = 4) -> float:
    """The beat position of the next bar line (or this one, if we are on it)."""
    return math.ceil(beat / beats_per_bar - 1e-9) * beats_per_bar
