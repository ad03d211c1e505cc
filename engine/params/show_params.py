"""The show-level parameters every show has, whatever its preset: master, clips, tempo and cue controls.

Control surfaces (OSC, MIDI, sACN, keys) address these by name; events fire once when set.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.analysis.beatclock import MAX_BPM, MIN_BPM, ClockSetup
from engine.params.store import Param, ParamValue


def show_params(crossfade: float = 0.0, master: float = 1.0, setup: ClockSetup | None = None) -> list[Param]:
    """`setup` is the song's tempo range and bar length (the preset's [tempo] table) the desk starts from."""
    setup = setup or ClockSetup()
    return [
        Param("master.level", "float", master, 0.0, 1.0, "Master brightness"),
        Param("master.blackout", "bool", False, description="Output black while on (the operator asked)"),
        Param("master.fade", "float", 0.0, 0.0, 10.0, "Blackout fade time in seconds (0: a cut)"),
        Param("master.freeze", "bool", False, description="Hold the current frame while on"),
        Param("master.record_start", "event", description="Start recording the program (perform --record)"),
        Param("master.record_stop", "event", description="Stop recording"),
        Param("clips.crossfade", "float", crossfade, 0.0, 1.0, "A/B clip crossfader (0 = A, 1 = B)"),
        Param("tempo.bpm", "float", 0.0, 0.0, 300.0, "Manual BPM (0 = follow the music)"),
        Param("tempo.tap", "event", description="Tap tempo"),
        Param("tempo.resync", "event", description="This is beat 1 of the bar"),
        Param("tempo.nudge", "float", 0.0, -1.0, 1.0, "Nudge the beat phase (fraction of a beat)"),
        Param("tempo.double", "event", description="Double the BPM"),
        Param("tempo.half", "event", description="Halve the BPM"),
        Param("tempo.lock", "bool", False, description="Hold the current BPM"),
        Param("tempo.auto", "event", description="Back to the tempo the music has (no manual, lock or taps)"),
        Param("tempo.min", "float", setup.min_bpm, MIN_BPM, MAX_BPM, "Slowest tempo heard (BPM)"),
        Param("tempo.max", "float", setup.max_bpm, MIN_BPM, MAX_BPM, "Fastest tempo heard (BPM)"),
        Param("tempo.beats_per_bar", "long", setup.beats_per_bar, 1, 16, "Beats per bar (3 for a waltz)"),
    ]


class BlackoutFade:
    """The master level as drawn: `master.level` times a dark factor that goes to 0 when `master.blackout`
    is set and back to 1 when it is cleared, over `master.fade` seconds of show time (0: a cut). Only the
    blackout fades; a move of the master fader is shown as it is made."""

    def __init__(self):
        self._open = 1.0  # 1: not blacked out
        self._at: float | None = None

    def level(self, values: Mapping[str, ParamValue], now: float) -> float:
        target = 0.0 if values.get("master.blackout", False) else 1.0
        fade = float(values.get("master.fade", 0.0))
        dt = now - self._at if self._at is not None else 0.0
        self._at = now
        if fade <= 0.0 or dt < 0.0:  # a cut, or show time went back (a loop): no fade across it
            self._open = target
        else:
            step = dt / fade
            self._open = (
                min(self._open + step, target) if target > self._open else max(self._open - step, target)
            )
        return float(values.get("master.level", 1.0)) * self._open
