"""Name → what MIDI and sACN drive: a parameter, or an action (a command with optional fixed arguments).

MIDI maps and fixture files name their targets the way the show names them (`master.level`, `cue.go`), so
one vocabulary serves OSC, MIDI and DMX.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.control.commands import ACTIONS, ActionSpec, CommandArg, ControlCommand
from engine.params.store import Param, ParamMessage, ParamValue


@dataclass(frozen=True)
class Resolved:
    """A target name resolved against the live show: exactly one of `param` and `action` is set."""

    name: str
    param: Param | None = None
    action: ActionSpec | None = None

    @property
    def is_trigger(self) -> bool:
        if self.param is not None:
            return self.param.kind == "event"
        return self.action is not None and self.action.is_trigger

    def level(self, share: float) -> ParamMessage | None:
        """A 0–1 share of the parameter's range (bools: on from half)."""
        p = self.param
        if p is None:
            return None
        share = min(max(share, 0.0), 1.0)
        if p.kind in ("bool", "event"):
            return ParamMessage(p.name, share >= 0.5)
        if p.kind in ("float", "long"):
            return ParamMessage(p.name, p.min + share * (p.max - p.min))
        return None

    def set(self, value: ParamValue) -> ParamMessage:
        assert self.param is not None
        return ParamMessage(self.param.name, value)

    def fire(self, *args: CommandArg) -> ParamMessage | ControlCommand:
        if self.param is not None:
            return ParamMessage(self.param.name, True)
        assert self.action is not None
        return ControlCommand(self.action.action, (*self.action.fixed, *args))


def resolve(name: str, params: Mapping[str, Param]) -> Resolved | None:
    """A parameter by name, else an action (`cue.go`, or `deck.a.clip` for a deck's clip selection)."""
    if name in params:
        return Resolved(name, param=params[name])
    for spec in ACTIONS:
        if name in (spec.action, spec.path.replace("/", ".")):
            return Resolved(name, action=spec)
    return None
