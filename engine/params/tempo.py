"""The operator's tempo parameters (tap, resync, nudge, ×2, ÷2, manual BPM, lock, back to automatic, the
song's BPM range and bar length) as commands for the musical clock, which lives on the analysis thread."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from engine.analysis.beatclock import ClockSetup, TempoCommand
from engine.params.store import ParamValue

log = logging.getLogger(__name__)

_EVENTS = {
    "tempo.tap": "tap",
    "tempo.resync": "resync",
    "tempo.double": "double",
    "tempo.half": "half",
    "tempo.auto": "auto",
}


# What the song is: a preset's [tempo] table sets them, and a recall brings the new preset's values.
SONG_PARAMS = ("tempo.min", "tempo.max", "tempo.beats_per_bar")


def tempo_commands(
    before: Mapping[str, ParamValue], after: Mapping[str, ParamValue], time: float
) -> list[TempoCommand | ClockSetup]:
    """Commands for what changed between two frames' base values (events fire once, at the frame time)."""
    commands = [TempoCommand(kind, at=time) for name, kind in _EVENTS.items() if after.get(name)]
    for name, kind in (("tempo.bpm", "bpm"), ("tempo.lock", "lock")):
        if name in after and after[name] != before.get(name):
            commands.append(TempoCommand(kind, value=float(after[name])))
    nudge = float(after.get("tempo.nudge", 0.0))
    if nudge:  # a nudge moves the phase once by its value (the live loop sets it back to 0)
        commands.append(TempoCommand("nudge", value=nudge))
    setup = song_setup(before, after)
    return [*commands, setup] if setup else commands


def tempo_resets(values: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
    """Parameters the live loop sets back once their command went out: a nudge moves the phase once, and
    back-to-automatic clears the manual BPM and the lock, so the desk's faders show it and setting the
    same BPM again is a change the clock hears."""
    resets: dict[str, ParamValue] = {}
    if values.get("tempo.nudge"):
        resets["tempo.nudge"] = 0.0
    if values.get("tempo.auto"):
        resets.update({name: value for name, value in _AUTO.items() if values.get(name, value) != value})
    return resets


_AUTO: dict[str, ParamValue] = {"tempo.bpm": 0.0, "tempo.lock": False}


def song_setup(before: Mapping[str, ParamValue], after: Mapping[str, ParamValue]) -> ClockSetup | None:
    """The clock setup the song parameters now ask for, when one of them changed. A range whose slowest
    end is not below its fastest is refused with a warning: the clock keeps the range it has (a desk
    moving both ends one at a time passes through such ranges)."""
    if all(after.get(name) == before.get(name) for name in SONG_PARAMS):
        return None
    try:
        return setup_of(after)
    except ValueError as error:
        log.warning("tempo range refused: %s; the clock keeps its range", error)
        return None


def setup_of(values: Mapping[str, ParamValue]) -> ClockSetup | None:
    """The song parameters as a clock setup (None: the show has none); ValueError when they are no valid
    setup."""
    lo, hi, bar = (values.get(name) for name in SONG_PARAMS)
    if not all(isinstance(v, int | float) for v in (lo, hi, bar)):
        return None
    return ClockSetup(float(lo), float(hi), int(bar))  # type: ignore[arg-type]
