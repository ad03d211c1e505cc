"""The operator's tempo parameters (tap, resync, nudge, ×2, ÷2, manual BPM, lock) as commands for the
musical clock, which lives on the analysis thread."""

from __future__ import annotations

from collections.abc import Mapping

from engine.analysis.beatclock import TempoCommand
from engine.params.store import ParamValue

_EVENTS = {"tempo.tap": "tap", "tempo.resync": "resync", "tempo.double": "double", "tempo.half": "half"}


def tempo_commands(
    before: Mapping[str, ParamValue], after: Mapping[str, ParamValue], time: float
) -> list[TempoCommand]:
    """Commands for what changed between two frames' base values (events fire once, at the frame time)."""
    commands = [TempoCommand(kind, at=time) for name, kind in _EVENTS.items() if after.get(name)]
    for name, kind in (("tempo.bpm", "bpm"), ("tempo.lock", "lock")):
        if name in after and after[name] != before.get(name):
            commands.append(TempoCommand(kind, value=float(after[name])))
    nudge = float(after.get("tempo.nudge", 0.0))
    if nudge:  # a nudge moves the phase once by its value (the live loop sets it back to 0)
        commands.append(TempoCommand("nudge", value=nudge))
    return commands
