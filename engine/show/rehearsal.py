"""Rehearsal loops that keep the beat: the section a VJ asks for, snapped to whole bars of the track's own
beat as the analysis hears it, so the loop point falls on a downbeat and the beat runs on across it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.listen import Listening


@dataclass(frozen=True)
class Section:
    start: float
    stop: float
    bars: int  # whole bars in the section; 0 when it was left as asked (no beat heard there)
    bpm: float


def bar_loop(heard: Listening, start: float, stop: float, beats_per_bar: int, duration: float) -> Section:
    """`start` moved to the nearest downbeat and `stop` to the beat a whole number of bars later (the
    nearest to the `stop` asked for, within the track's `duration`). Left as asked when no downbeat lies
    within half a bar of `start`."""
    downbeats = np.array(heard.downbeats)
    beats = np.array([b.time for b in heard.beats])
    if heard.tempo <= 0 or not len(downbeats):
        return Section(start, stop, 0, heard.tempo)
    bar = beats_per_bar * 60.0 / heard.tempo
    first = float(downbeats[np.argmin(np.abs(downbeats - start))])
    if abs(first - start) > bar / 2:
        return Section(start, stop, 0, heard.tempo)
    at = int(np.argmin(np.abs(beats - first)))

    def end_after(bars: int) -> float:
        i = at + bars * beats_per_bar
        return float(beats[i]) if i < len(beats) else first + bars * bar  # past the beats heard: the tempo's

    bars = max(1, round((stop - first) / bar))
    while bars > 1 and end_after(bars) > duration:
        bars -= 1
    return Section(first, min(end_after(bars), duration), bars, heard.tempo)
