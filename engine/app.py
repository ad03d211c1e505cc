"""The Show: one preset's analyzer, parameters and render pipeline behind one small facade.

`render` (offline) and `perform` (live) both drive a Show; only the clock and the threads differ.
"""

from __future__ import annotations

import moderngl

from engine.analysis.analyzer import Analyzer
from engine.analysis.features import Features
from engine.clock import FrameTime
from engine.params.modulation import Modulator
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore, ParamValue
from engine.render.isf import IsfDocument
from engine.render.pipeline import Pipeline
from engine.show.preset import MODULATABLE, Preset

_RANGE_DEFAULTS = {"bool": (0.0, 1.0), "event": (0.0, 1.0)}


def shader_params(doc: IsfDocument, overrides: dict) -> list[Param]:
    """One Param per shader input a preset or a desk can set (images and audio are fed by the engine)."""
    params = []
    for i in doc.inputs:
        if i.type in ("image", "audio", "audioFFT"):
            continue
        lo, hi = _RANGE_DEFAULTS.get(i.type, (0.0, 1.0))
        if i.type in MODULATABLE and i.type not in _RANGE_DEFAULTS:
            if isinstance(i.min, int | float):
                lo = float(i.min)
            if isinstance(i.max, int | float):
                hi = float(i.max)
            if i.type == "long" and i.values:
                lo, hi = float(min(i.values)), float(max(i.values))
        default = overrides.get(i.name, i.default)
        if default is None:
            default = (0.0, 0.0) if i.type == "point2D" else (0.0, 0.0, 0.0, 1.0) if i.type == "color" else lo
        if isinstance(default, list):
            default = tuple(default)
        params.append(Param(f"shader.{i.name}", i.type, default, lo, hi, i.label or i.name))
    return params


def build_params(preset: Preset) -> ParamStore:
    return ParamStore(
        [*shader_params(preset.shader, preset.inputs), *show_params(preset.crossfade, preset.master)]
    )


class Show:
    def __init__(
        self, ctx: moderngl.Context, preset: Preset, size: tuple[int, int], sample_rate: int = 48000
    ):
        self.preset = preset
        self.analyzer = Analyzer(sample_rate)
        self.params = build_params(preset)
        self.modulator = Modulator(self.params, preset.modulations)
        self.pipeline = Pipeline(ctx, preset, size)

    def draw(self, ft: FrameTime, features: Features, target: moderngl.Framebuffer) -> dict[str, ParamValue]:
        """Modulate and render one frame; returns the parameter values it was drawn with."""
        values = self.modulator.evaluate(features.values(), ft.delta)
        self.pipeline.render(ft, values, features, target)
        return values

    def release(self) -> None:
        self.pipeline.release()
