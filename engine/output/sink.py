"""One frame loop, many sinks: the loop draws each frame once, into an offscreen texture at the render
size, and hands it to every sink (projector, preview, recorder, network sender, ...).

A sink must never block the loop: one that needs time (an encoder, a sender) copies what it needs and does
the work on its own thread, dropping frames when it falls behind, never the output. The loop calls each
sink inside a guard (engine.runtime.guard): a sink that raises is dropped for the frame, logged once, and
retried later, while the others go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import moderngl

from engine.analysis.features import Features
from engine.params.store import ParamValue
from engine.render.cliptexture import finish_releasing_gil


@dataclass(frozen=True)
class FrameInfo:
    """What the loop hands every sink with each frame."""

    time: float  # show time of the frame (s)
    index: int  # frame number
    features: Features  # the analysis snapshot drawn with
    values: Mapping[str, ParamValue]  # parameter values drawn with
    errors: tuple[str, ...]  # operator-facing messages for the preview banner
    look: str = ""  # the name of the look on screen (window titles follow it)
    drawn_at: float = 0.0  # time.monotonic() when the frame's drawing was handed to the GPU (latency stages)
    status: Mapping[str, Any] = field(default_factory=dict)  # the sync stages' (Link mode, peers; the HUD)


class Sink(Protocol):
    """An output of the show. `present` gets a texture of the loop's GL context, valid for this call
    only (the loop draws the next frame into it): sample or copy it now, and return quickly."""

    name: str

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None: ...

    def release(self) -> None: ...


def finish_gpu(ctx: moderngl.Context) -> None:
    """Wait until the GPU has done everything drawn so far in `ctx` (current on this thread), without
    holding the GIL meanwhile: moderngl's finish() and read() keep it for as long as the GPU works (a
    whole llvmpipe frame), which starves every other thread of the show. The analysis thread then reads
    the capture late, and a desk's messages wait; a frame loop that waits here instead leaves them the
    interpreter. A later read of the frame (the flash limiter's counts, a recorder) then returns at once.
    The call itself is the engine's one GIL-free finish (engine/render/cliptexture.py)."""
    finish_releasing_gil(ctx)
