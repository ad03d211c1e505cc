"""MIDI map: which CC or note drives which target, and how (level, momentary, toggle, trigger).

Stored as TOML so it can be written by hand or by MIDI learn:

    [[map]]
    control = "cc"          # cc or note
    number = 7              # 0–127
    channel = 1             # 1–16; leave out for any channel
    target = "master.level" # a parameter or an action (cue.go, cue.goto…)
    mode = "level"          # level | momentary | toggle | trigger
    args = [3]              # fixed action arguments (e.g. cue.goto 3)
    on = 127                # the LED's velocity while on (feedback; an APC40's pad colours: 1 green, 3 red…)
    off = 0                 # …and while off
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from engine.errors import HalationError
from engine.show.tomlpos import unknown_key_error

MODES = ("level", "momentary", "toggle", "trigger")
ENTRY_KEYS = ("control", "number", "channel", "target", "mode", "args", "on", "off")


@dataclass(frozen=True)
class Binding:
    control: str  # "cc" or "note"
    number: int
    target: str
    channel: int | None = None  # 1–16, None = any
    mode: str = ""  # "" = the usual for the control and target (see default_mode)
    args: tuple[str | float, ...] = ()
    on: int = 127  # feedback: the note's velocity (an LED's colour) while its bool or cue is on
    off: int = 0

    def describe(self) -> str:
        where = f"channel {self.channel}" if self.channel else "any channel"
        return f"{self.control.upper()} {self.number} on {where} → {self.target} ({self.mode or 'default'})"


def default_mode(control: str, kind: str) -> str:
    """CCs ride levels and hold bools; notes toggle bools; whatever fires (events, actions) triggers."""
    if kind in ("event", "action"):
        return "trigger"
    if kind == "bool":
        return "toggle" if control == "note" else "level"
    return "momentary" if control == "note" else "level"


def _binding(entry: dict, path: Path, index: int) -> Binding:
    where = f"map entry {index + 1}"
    try:
        control = str(entry["control"]).lower()
        number = int(entry["number"])
        target = str(entry["target"])
    except (KeyError, ValueError, TypeError):
        raise HalationError(f"{where}: needs control, number and target", path=path) from None
    channel = entry.get("channel")
    mode = str(entry.get("mode", ""))
    if control not in ("cc", "note") or not 0 <= number <= 127:
        raise HalationError(f"{where}: control must be cc or note, number 0–127", path=path)
    if channel is not None and not (isinstance(channel, int) and 1 <= channel <= 16):
        raise HalationError(f"{where}: channel must be 1–16", path=path)
    if mode and mode not in MODES:
        raise HalationError(f"{where}: mode must be one of {', '.join(MODES)}", path=path)
    args = tuple(entry.get("args", ()))
    lamp = {key: entry.get(key, default) for key, default in (("on", 127), ("off", 0))}
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 127 for v in lamp.values()):
        raise HalationError(f"{where}: on and off (LED velocities) must be 0–127", path=path)
    return Binding(control, number, target, channel, mode, args, lamp["on"], lamp["off"])


class MidiMap:
    def __init__(self, bindings: list[Binding] | None = None, path: Path | None = None):
        self.path = path
        self.bindings: list[Binding] = list(bindings or [])

    @classmethod
    def load(cls, path: Path) -> MidiMap:
        """The map in `path`; an empty one if the file does not exist yet (learn will create it)."""
        if not path.exists():
            return cls([], path)
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise HalationError(f"cannot read the MIDI map: {exc}", path=path) from None
        errors = [unknown_key_error(path, text, data, ("map",), (), "the MIDI map")]
        errors += [
            unknown_key_error(path, text, entry, ENTRY_KEYS, ("map", i), f"[[map]] {i + 1}")
            for i, entry in enumerate(data.get("map", []))
            if isinstance(entry, dict)
        ]
        for error in errors:
            if error is not None:
                raise error
        return cls([_binding(e, path, i) for i, e in enumerate(data.get("map", []))], path)

    def find(self, control: str, channel: int, number: int) -> Binding | None:
        exact = None
        for b in self.bindings:
            if b.control == control and b.number == number:
                if b.channel == channel:
                    return b
                if b.channel is None:
                    exact = exact or b
        return exact

    def bind(self, binding: Binding) -> None:
        """Add a binding, replacing whatever the same control did before."""
        self.bindings = [
            b
            for b in self.bindings
            if not (
                b.control == binding.control and b.number == binding.number and b.channel == binding.channel
            )
        ]
        self.bindings.append(binding)

    def save(self) -> None:
        if self.path is None:
            return
        import tomli_w

        entries = []
        for b in self.bindings:
            entry: dict = {"control": b.control, "number": b.number, "target": b.target}
            if b.mode:
                entry["mode"] = b.mode
            if b.channel is not None:
                entry["channel"] = b.channel
            if b.args:
                entry["args"] = list(b.args)
            if (b.on, b.off) != (127, 0):
                entry.update(on=b.on, off=b.off)
            entries.append(entry)
        self.path.write_text(
            "# Halation MIDI map (written by MIDI learn; edit freely)\n" + tomli_w.dumps({"map": entries})
        )
