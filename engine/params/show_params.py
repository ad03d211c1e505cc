"""The show-level parameters every show has, whatever its preset: master, clips, tempo and cue controls.

Control surfaces (OSC, MIDI, sACN, keys) address these by name; events fire once when set.
"""

from __future__ import annotations

from engine.params.store import Param


def show_params(crossfade: float = 0.0, master: float = 1.0) -> list[Param]:
    return [
        Param("master.level", "float", master, 0.0, 1.0, "Master brightness"),
        Param("master.blackout", "bool", False, description="Output black while on (the operator asked)"),
        Param("master.freeze", "bool", False, description="Hold the current frame while on"),
        Param("clips.crossfade", "float", crossfade, 0.0, 1.0, "A/B clip crossfader (0 = A, 1 = B)"),
        Param("tempo.bpm", "float", 0.0, 0.0, 300.0, "Manual BPM (0 = follow the music)"),
        Param("tempo.tap", "event", description="Tap tempo"),
        Param("tempo.resync", "event", description="This is beat 1 of the bar"),
        Param("tempo.nudge", "float", 0.0, -1.0, 1.0, "Nudge the beat phase (fraction of a beat)"),
        Param("tempo.double", "event", description="Double the BPM"),
        Param("tempo.half", "event", description="Halve the BPM"),
        Param("tempo.lock", "bool", False, description="Hold the current BPM"),
    ]
