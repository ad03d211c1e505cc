"""A show that streams its analysis moves its beat a moment after it says so, so render nodes move with it.

The beat tracker re-places a beat now and then (a few ms, sometimes ten), and a new tempo moves the whole
grid. A render node learns of it from the next frame bundle, a network hop (2-30 ms on a busy machine)
after the leader drew the moved beat: for those frames the node draws the old beat, off by the whole
correction (`halation bench sync` measured 9.5 ms at worst over 60 s that way). So the leader schedules:
a grid whose beats fall elsewhere is drawn from DELAY seconds on, and every frame bundle until then carries
it with that moment (/hl/frame/next_grid); both switch at the same show-clock moment. A grid that only
moves on by a beat, or by a hair's breadth, is drawn at once.

DELAY is above a loaded machine's hop and stall (a leader starved of CPU at load 8 on 2 cores sent a
frame's bundle 150 ms late: with 50 ms its node drew a 4 ms correction late, 17 ms once), and below what a
viewer notices of a beat correction: the corrected beat is usually hundreds of ms ahead, and one that falls
sooner is drawn where the tracker first placed it, a few ms off.
"""

from __future__ import annotations

from dataclasses import replace

from engine.analysis.features import BeatGrid, Features
from engine.params.store import Param, ParamStore

DELAY = 0.1  # s from noticing a moved beat grid to drawing it
SAME = 0.0001  # s: grids whose bar positions differ less than this at the frame are one timeline


def bar_position(grid: BeatGrid, at: float) -> float:
    """Beats into the bar at show time `at` (0 .. beats_per_bar)."""
    count, phase = grid.beat_position(at)
    return (count - grid.downbeat) % grid.beats_per_bar + phase


def same_timeline(a: BeatGrid, b: BeatGrid, at: float) -> bool:
    """Whether the two grids draw the same beat and bar at `at` (so switching between them shows nothing)."""
    if (a.bpm > 0) != (b.bpm > 0) or a.beats_per_bar != b.beats_per_bar:
        return False
    if a.bpm <= 0:
        return True
    n = a.beats_per_bar
    apart = (bar_position(a, at) - bar_position(b, at) + n / 2.0) % n - n / 2.0
    return abs(apart) * a.period < SAME


class GridSchedule:
    """The last Features stage of a show that streams its analysis (and does not follow another's): the beat
    grid drawn is the one noticed DELAY seconds ago, when its beats fall elsewhere (see the module doc)."""

    name = "grid schedule"

    def __init__(self, delay: float = DELAY):
        self.delay = delay
        self.shown: BeatGrid | None = None
        self._next: BeatGrid | None = None
        self._due = 0.0

    def params(self) -> list[Param]:
        return []

    def status(self) -> dict:
        return {}

    def pending(self) -> tuple[BeatGrid, float] | None:
        """(the grid, the show time it is drawn from) while a change is scheduled."""
        return (self._next, self._due) if self._next is not None else None

    def transform(self, features: Features, at: float, params: ParamStore | None = None) -> Features:
        incoming = features.grid
        if self.shown is None:
            self.shown = incoming
        elif self._next is not None and at >= self._due:
            self.shown, self._next = self._next, None
        if self._next is not None:
            self._next = incoming  # the newest word on the grid, switched to at the moment already said
        elif same_timeline(self.shown, incoming, at):
            self.shown = incoming
        else:
            self._next, self._due = incoming, at + self.delay
        return features if self.shown is incoming else replace(features, grid=self.shown)

    def close(self) -> None:
        pass
