"""Audio → parameter modulation: base value + amount × curve(source mapped from its range), smoothed.

Numbers (float, long) move by `amount` × their range; switches (bool, event) turn on above one half.
Colours and points move towards `to` by amount × the shaped source, or without `to` a colour brightens
by (1 + amount × shaped) and a point moves by `amount` ([dx, dy] or one number for both) × shaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.params.store import Param, ParamStore, ParamValue

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "smooth": lambda x: x * x * (3.0 - 2.0 * x),
    "exp": lambda x: x * x,  # holds back small values, punches the peaks
    "log": math.sqrt,  # lifts small values
    "step": lambda x: 1.0 if x >= 0.5 else 0.0,
}


@dataclass(frozen=True)
class Modulation:
    target: str  # a parameter name, e.g. "shader.pulse" or "bloom.amount"
    source: str  # a Features value name, e.g. "bass.hits"
    amount: float | tuple[float, ...] = 1.0  # share of the target's range added at full source
    range: tuple[float, float] = (0.0, 1.0)  # source values mapped to 0..1
    curve: str = "linear"
    smooth: float = 0.0  # seconds (one-pole); 0 = follow instantly
    to: tuple[float, ...] | None = None  # colour/point targets: where full source takes the value

    def shape(self, source_value: float) -> float:
        lo, hi = self.range
        x = (source_value - lo) / (hi - lo) if hi != lo else float(source_value >= hi)
        return CURVES[self.curve](min(max(x, 0.0), 1.0))


def apply(param: Param, mod: Modulation, current: ParamValue, shaped: float) -> ParamValue:
    """`current` moved by one modulation whose source, shaped and smoothed, is `shaped` (0..1)."""
    kind = param.kind
    if kind in ("bool", "event"):
        return bool(current) or _scalar(mod.amount) * shaped >= 0.5
    if kind in ("float", "long"):
        return param.clamp(float(current) + _scalar(mod.amount) * shaped * (param.max - param.min))
    if kind not in ("color", "point2D"):
        return current
    base = tuple(float(v) for v in current)  # type: ignore[union-attr]
    if mod.to is not None:
        f = _scalar(mod.amount) * shaped
        to = mod.to + base[len(mod.to) :]  # a colour `to` without alpha keeps the alpha
        return tuple(b + (t - b) * f for b, t in zip(base, to, strict=False))
    if kind == "color":
        gain = max(0.0, 1.0 + _scalar(mod.amount) * shaped)
        return (*(c * gain for c in base[:3]), *base[3:])
    step = mod.amount if isinstance(mod.amount, tuple) else (mod.amount, mod.amount)
    return tuple(b + d * shaped for b, d in zip(base, step, strict=False))


def _scalar(amount: float | tuple[float, ...]) -> float:
    return amount[0] if isinstance(amount, tuple) else amount


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
            values[mod.target] = apply(target, mod, values[mod.target], self._smoothed[i])
        return values
