"""Typed parameters and the store that owns their base values.

Control (OSC, MIDI, keys) and presets set base values through messages; modulation adds the music on top
each frame. Only the render thread touches a store: other threads send `ParamMessage`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import HalationError

if TYPE_CHECKING:
    from engine.params.macros import Macro

ParamValue = float | bool | tuple[float, ...]
KINDS = ("float", "bool", "event", "long", "color", "point2D")


@dataclass(frozen=True)
class Param:
    name: str  # e.g. "shader.zoom", "clips.crossfade", "master.level"
    kind: str = "float"
    default: ParamValue = 0.0
    min: float = 0.0
    max: float = 1.0
    description: str = ""

    def clamp(self, value: ParamValue) -> ParamValue:
        if self.kind in ("bool", "event"):
            return bool(value) if not isinstance(value, int | float) else float(value) >= 0.5
        if self.kind in ("color", "point2D"):
            return tuple(float(v) for v in value)  # type: ignore[union-attr]
        v = min(max(float(value), self.min), self.max)  # type: ignore[arg-type]
        return float(round(v)) if self.kind == "long" else v


@dataclass(frozen=True)
class ParamMessage:
    """A request to set a parameter's base value, applied by the render thread at the next frame."""

    name: str
    value: ParamValue


class ParamStore:
    def __init__(self, params: Iterable[Param] = (), macros: Iterable[Macro] = ()):
        self._params: dict[str, Param] = {}
        self._base: dict[str, ParamValue] = {}
        self._macros: dict[str, Macro] = {}
        self.touched: set[str] = set()  # macros the operator has moved: kept across looks
        for p in params:
            self.add(p)
        self.map_macros(macros)

    def map_macros(self, macros: Iterable[Macro]) -> None:
        """What each macro fader drives in this look."""
        self._macros = {f"macro.{m.slot}": m for m in macros}

    @property
    def macros(self) -> Mapping[str, Macro]:
        return self._macros

    def add(self, param: Param) -> None:
        self._params[param.name] = param
        self._base[param.name] = param.clamp(param.default)

    def replace(self, params: Iterable[Param], macros: Iterable[Macro] = ()) -> None:
        """Swap in another preset's parameters, keeping this store (control surfaces hold a view of it)."""
        self._params.clear()
        self._base.clear()
        for p in params:
            self.add(p)
        self.map_macros(macros)

    def __contains__(self, name: str) -> bool:
        return name in self._params

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    @property
    def params(self) -> Mapping[str, Param]:
        return self._params

    def base(self) -> dict[str, ParamValue]:
        return dict(self._base)

    def set(self, name: str, value: ParamValue) -> None:
        if name not in self._params:
            known = ", ".join(sorted(self._params)) or "none"
            raise HalationError(f"unknown parameter '{name}' (known: {known})")
        self._base[name] = self._params[name].clamp(value)
        macro = self._macros.get(name)
        if macro is not None and name in self.touched:
            self._follow(macro, float(self._base[name]))  # type: ignore[arg-type]

    def _follow(self, macro: Macro, level: float) -> None:
        for target in macro.targets:
            param = self._params.get(target)
            if param is not None:
                self._base[target] = macro.target_value(param, level)

    def apply(self, messages: Iterable[ParamMessage]) -> int:
        """Set base values from control messages; a name this show lacks (e.g. an input of the preset
        before a recall) is skipped, never fatal. Returns how many were skipped."""
        skipped = 0
        for m in messages:
            if m.name in self._params:
                if m.name.startswith("macro."):
                    self.touched.add(m.name)
                self.set(m.name, m.value)
            else:
                skipped += 1
        return skipped

    def reset_events(self) -> None:
        """Events fire for one frame: set them back once the frame that saw them is drawn."""
        for name, p in self._params.items():
            if p.kind == "event" and self._base[name]:
                self._base[name] = False
