"""Audio → parameter modulation: base value + amount × curve(source mapped from its range), smoothed."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.params.store import ParamStore, ParamValue

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "smooth": lambda x: x * x * (3.0 - 2.0 * x),
    "exp": lambda x: x * x,  # holds back small values, punches the peaks
    "log": math.sqrt,  # lifts small values
    "step": lambda x: 1.0 if x >= 0.5 else 0.0,
}


@dataclass(frozen=True)
class Modulation:
    target: str  # a parameter name, e.g. "shader.pulse"
    source: str  # a Features value name, e.g. "bass.hits"
    amount: float = 1.0  # share of the target's range added at full source
    range: tuple[float, float] = (0.0, 1.0)  # source values mapped to 0..1
    curve: str = "linear"
    smooth: float = 0.0  # seconds (one-pole); 0 = follow instantly

    def shape(self, source_value: float) -> float:
        lo, hi = self.range
        x = (source_value - lo) / (hi - lo) if hi != lo else float(source_value >= hi)
        return CURVES[self.curve](min(max(x, 0.0), 1.0))


class Modulator:
    """Applies a list of modulations each frame; keeps the smoothing state per modulation."""

    def __init__(self, store: ParamStore, modulations: tuple[Modulation, ...] = ()):
        self.store = store
        self.modulations = modulations
        self._smoothed = [0.0] * len(modulations)

    def evaluate(self, sources: Mapping[str, float], dt: float) -> dict[str, ParamValue]:
        """Parameter values for this frame: the store's base values with the music added."""
        values = self.store.base()
        for i, mod in enumerate(self.modulations):
            target = self.store[mod.target]
            shaped = mod.shape(sources.get(mod.source, 0.0))
            if mod.smooth > 0 and dt > 0:
                self._smoothed[i] += (shaped - self._smoothed[i]) * (1.0 - math.exp(-dt / mod.smooth))
            else:
                self._smoothed[i] = shaped
            offset = mod.amount * self._smoothed[i]
            current = values[mod.target]
            if target.kind in ("bool", "event"):
                values[mod.target] = bool(current) or offset >= 0.5
            elif target.kind in ("float", "long"):
                values[mod.target] = target.clamp(float(current) + offset * (target.max - target.min))
        return values
