"""Offline rendering: frame n is rendered for time n / fps after the analyzer has heard audio up to then.

Deterministic: the same preset and audio give bit-identical frames. With an output of a stage file, each
frame is what that output shows: warped, blended, masked and through the flash-safety limiter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from engine.app import Show
from engine.audio.buffer import AudioBuffer
from engine.clock import FrameTime, OfflineClock
from engine.output.compose import OutputCompositor, read_pixels
from engine.output.stage import OutputSpec
from engine.render.context import Offscreen, headless_context
from engine.show.preset import Preset


class FrameHook(Protocol):
    """Something that follows a render frame by frame: a replayed take applies its control events before
    each frame is drawn, the performance log notes what it showed after (engine/show/events.py, perflog)."""

    def before_frame(self, show: Show, ft: FrameTime) -> None: ...

    def after_frame(self, show: Show, ft: FrameTime, values: dict) -> None: ...

    def close(self) -> None: ...


def render_frames(
    preset: Preset,
    audio: AudioBuffer,
    size: tuple[int, int],
    fps: float,
    duration: float | None = None,
    hooks: Sequence[FrameHook] = (),
    output: OutputSpec | None = None,
    flash_limit: str = "standard",
) -> Iterator[tuple[FrameTime, np.ndarray]]:
    """Yield (frame time, RGBA pixels top row first) for every frame of the render: the program at `size`,
    or with `output`, what that output shows at its own size (`flash_limit`: standard, strict or off)."""
    duration = audio.duration if duration is None else min(duration, audio.duration)
    n_frames = round(duration * fps)
    ctx = headless_context()
    show = Show(ctx, preset, size, audio.sample_rate)
    target = Offscreen(ctx, size)
    compositor = OutputCompositor(ctx, output, size, flash_limit) if output is not None else None
    mono = audio.mono()
    clock = OfflineClock(fps)
    try:
        for _ in range(n_frames):
            ft = clock.tick()
            upto = min(len(mono), round(ft.time * audio.sample_rate))
            show.analyzer.feed(mono[show.analyzer.samples_fed : upto])
            for hook in hooks:
                hook.before_frame(show, ft)
            values = show.draw(ft, show.analyzer.snapshot(), target.fbo)
            for hook in hooks:
                hook.after_frame(show, ft, values)
            if compositor is None:
                yield ft, target.read()
            else:
                yield ft, read_pixels(ctx, compositor.draw(target.texture, ft.time))
    finally:
        for hook in hooks:
            hook.close()
        if compositor is not None:
            compositor.release()
        target.release()
        show.release()
        ctx.release()
