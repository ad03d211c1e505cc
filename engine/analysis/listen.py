"""Run the live analysis chain over a whole recording, causally, and keep everything it heard.

This is what `halation analyze` prints and plots and what `halation bench analysis` scores: the very same
Analyzer the live engine runs, fed block by block, so every beat and onset carries the time the live
engine would have known it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.analyzer import Analyzer
from engine.analysis.beatclock import ClockSettings
from engine.analysis.beats import Beat
from engine.analysis.features import Onset
from engine.analysis.structure import SECTIONS, StructureEvent

BLOCK = 4096  # samples per feed call: any size gives the same result


@dataclass(frozen=True)
class Listening:
    """What the engine heard in a recording. Times in seconds of audio; `trace_*` are sampled per block."""

    duration: float
    tempo: float  # BPM at the end
    tempo_confidence: float
    beats_per_bar: int  # the bar length at the end (heard, or as the clock settings fixed it)
    beats: list[Beat]
    downbeats: list[float]
    onsets: list[Onset]
    trace_time: np.ndarray
    trace_bpm: np.ndarray
    trace_confidence: np.ndarray  # tempo confidence per trace step
    trace_levels: dict[str, np.ndarray]  # band name → level per trace step
    structure: tuple[StructureEvent, ...] = ()  # phrases, build-ups, drops, breakdowns (structure.py)
    trace_energy: np.ndarray | None = None  # `energy` per trace step
    trace_section: np.ndarray | None = None  # the section heard (structure.SECTIONS index) per trace step

    def as_json(self) -> dict:
        """The `halation analyze --json` object."""
        return {
            "tempo": round(self.tempo, 2),
            "tempo_confidence": round(self.tempo_confidence, 3),
            "beats_per_bar": self.beats_per_bar,
            "beats": [{"time": round(b.time, 4), "known_at": round(b.known_at, 4)} for b in self.beats],
            "downbeats": [round(t, 4) for t in self.downbeats],
            "onsets": [
                {
                    "time": round(o.time, 4),
                    "known_at": round(o.known_at, 4),
                    "strength": round(o.strength, 3),
                    "band": o.band,
                    "attack": o.attack,
                }
                for o in self.onsets
            ],
            "structure": [e.as_json() for e in self.structure],
        }


def listen(
    mono: np.ndarray, sample_rate: int, clock: ClockSettings | None = None, block: int = BLOCK
) -> Listening:
    """Feed `mono` through a fresh Analyzer block by block and collect beats, downbeats and onsets."""
    analyzer = Analyzer(sample_rate, clock=clock)
    beats: list[Beat] = []
    onsets: list[Onset] = []
    downbeats: list[float] = []
    times, bpms, energy, sections = [], [], [], []
    structure: list[StructureEvent] = []
    confidences: list[float] = []
    levels: dict[str, list[float]] = {name: [] for name in analyzer.band_names}
    for start in range(0, len(mono), block):
        analyzer.feed(mono[start : start + block])
        onsets.extend(analyzer.drain_onsets())
        new_beats = analyzer.drain_beats()
        beats.extend(new_beats)
        structure.extend(analyzer.drain_structure())
        features = analyzer.snapshot()
        grid = features.grid
        downbeats.extend(b.time for b in new_beats if (b.count - grid.downbeat) % grid.beats_per_bar == 0)
        times.append(features.time)
        bpms.append(grid.bpm)
        confidences.append(grid.confidence)
        energy.append(features.energy)
        sections.append(SECTIONS.index(features.structure.section))
        for name, band in features.bands.items():
            levels[name].append(band.level)
    grid = analyzer.clock.grid
    return Listening(
        duration=len(mono) / sample_rate,
        tempo=grid.bpm,
        tempo_confidence=grid.confidence,
        beats_per_bar=grid.beats_per_bar,
        beats=beats,
        downbeats=downbeats,
        onsets=sorted(onsets, key=lambda o: o.time),
        trace_time=np.array(times),
        trace_bpm=np.array(bpms),
        trace_confidence=np.array(confidences),
        trace_levels={k: np.array(v) for k, v in levels.items()},
        structure=tuple(structure),
        trace_energy=np.array(energy),
        trace_section=np.array(sections),
    )
