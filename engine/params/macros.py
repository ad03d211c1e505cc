"""Macros: eight show-level faders (`macro.1` … `macro.8`) that mean the same on every cue.

A desk programs `/hl/macro/1` once; each look says what that fader drives (`[macros]` in its preset). When
the operator moves a macro, its targets' base values follow; when a cue brings in another look, a macro the
operator has moved is applied to the new look's targets at once, so the fader's position keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.params.modulation import CURVES
from engine.params.store import Param, ParamValue

SLOTS = 8
MACRO_KINDS = ("float", "long", "bool", "event")  # what a single fader can drive


@dataclass(frozen=True)
class Macro:
    slot: int  # 1..8
    name: str
    targets: tuple[str, ...]
    range: tuple[float, float] | None = None  # target values at 0 and at full; None: each target's range
    curve: str = "linear"

    def target_value(self, param: Param, level: float) -> ParamValue:
        """What `param` takes with the fader at `level` (0..1)."""
        shaped = CURVES[self.curve](min(max(float(level), 0.0), 1.0))
        if param.kind in ("bool", "event"):
            return shaped >= 0.5
        lo, hi = self.range or (param.min, param.max)
        return param.clamp(lo + (hi - lo) * shaped)


def macro_name(slot: int) -> str:
    return f"macro.{slot}"


UNMAPPED = "not mapped in this look"


def describe(slot: int, macro: Macro | None) -> str:
    """The fader's DESCRIPTION on OSCQuery: what it drives in this look, or that it drives nothing."""
    if macro is None:
        return f"Macro {slot}: {UNMAPPED}"
    return f"Macro {slot}: {macro.name} → {', '.join(macro.targets)}"


def unmapped_macros(params: Mapping[str, Param]) -> frozenset[str]:
    """The macro faders this look leaves free (read from their descriptions, which say so)."""
    return frozenset(
        n for n, p in params.items() if n.startswith("macro.") and p.description.endswith(UNMAPPED)
    )


def macro_labels(params: Mapping[str, Param]) -> dict[str, str]:
    """Feedback for a desk's scribble strips: `status/macro/N` → the macro's name, or 'not mapped'."""
    out = {}
    for slot in range(1, SLOTS + 1):
        param = params.get(macro_name(slot))
        if param is not None:
            label = param.description.split(": ", 1)[-1].split(" → ")[0]
            out[f"macro/{slot}"] = "not mapped" if label == UNMAPPED else label
    return out


def macro_params(macros: tuple[Macro, ...]) -> list[Param]:
    by_slot = {m.slot: m for m in macros}
    return [
        Param(macro_name(slot), "float", 0.0, 0.0, 1.0, describe(slot, by_slot.get(slot)))
        for slot in range(1, SLOTS + 1)
    ]
