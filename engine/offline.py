"""Offline rendering: frame n is rendered for time n / fps after the analyzer has heard audio up to then.

Deterministic: the same preset and audio give bit-identical frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.app import Show
from engine.audio.buffer import AudioBuffer
from engine.clock import FrameTime, OfflineClock
from engine.render.context import Offscreen, headless_context
from engine.show.preset import Preset


def render_frames(
    preset: Preset, audio: AudioBuffer, size: tuple[int, int], fps: float, duration: float | None = None
) -> Iterator[tuple[FrameTime, np.ndarray]]:
    """Yield (frame time, RGBA pixels top row first) for every frame of the render."""
    duration = audio.duration if duration is None else min(duration, audio.duration)
    n_frames = round(duration * fps)
    ctx = headless_context()
    show = Show(ctx, preset, size, audio.sample_rate)
    target = Offscreen(ctx, size)
    mono = audio.mono()
    clock = OfflineClock(fps)
    try:
        for _ in range(n_frames):
            ft = clock.tick()
            upto = min(len(mono), round(ft.time * audio.sample_rate))
            show.analyzer.feed(mono[show.analyzer.samples_fed : upto])
            show.draw(ft, show.analyzer.snapshot(), target.fbo)
            yield ft, target.read()
    finally:
        target.release()
        show.release()
        ctx.release()
