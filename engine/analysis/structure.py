"""The song's form as it is heard, causally: phrase boundaries, build-ups, drops and breakdowns.

Why beat by beat: a section of dance music starts on a beat (nearly always a downbeat), and what changes
there is the drums and the low end: the kick and bass come in at a drop and go at a breakdown, while a
build-up keeps its snare roll and riser over a missing kick. So at every beat the tracker measures the first
half of the beat (loudness, bass, highs, in dB) and compares it with the section so far (the median of its
last beats). A clear change is a section boundary at that beat, known half a beat after it: soon enough for
the visuals to change within a beat of the music. Phrases (16 bars by default) are counted from the last
boundary on the beat grid, so they are known ahead of time like the beats are.

Every value here is causal: the same hop-by-hop code runs live and offline (see analyzer.py).

Values for shaders and presets (Features.values, as hl_<name> uniforms):
    section        0 steady, 1 build-up, 2 drop, 3 breakdown (the section heard now)
    section_time   seconds since the section began
    drop           1 at a drop, decaying over ~2 s (DROP_DECAY)
    buildup        0..1 how far a build-up has risen (0 outside one)
    breakdown      1 in a breakdown, else 0
    phrase         a spike at each phrase boundary (and each section boundary), decaying like `downbeat`
    phrase_bar     bars into the phrase (0..phrase_bars-1)
    phrase_phase   0..1 through the phrase
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # features.py holds a StructureState in each snapshot
    from engine.analysis.features import BeatGrid

SECTIONS = ("steady", "buildup", "drop", "breakdown")  # hl_section is the index
KINDS = ("phrase", "section", "buildup", "drop", "breakdown")  # event kinds
DROP_DECAY = 2.0  # seconds for hl_drop to fall to 1/e
PHRASE_DECAY = 0.1  # seconds, like the downbeat spike
MAX_EVENTS = 256
BUILD_START = 4  # a section's first beats: what a build-up's rise is measured from
# beats of the section heard now that are kept: its first and the latest (the references look back 4 bars);
# steady music for an hour must neither grow the list nor make each beat's look through it slower
MAX_SECTION_PROBES = 128
SETTLE_BARS = 2  # bars after a new tempo before its beats are measured (its phase is still moving)
STRUCTURE_NAMES = ("section", "section_time", "drop", "buildup", "breakdown", "phrase", "phrase_bar")
STRUCTURE_NAMES += ("phrase_phase",)


@dataclass(frozen=True)
class StructureSettings:
    phrase_bars: int = 16  # a phrase: counted from the last section boundary
    rise_bass_db: float = 5.0  # the low end rising this much over the section: the kick and bass came in
    drop_db: float = 3.0  # ...and the whole mix this much louder: a drop (else a new steady section)
    fall_bass_db: float = 8.0  # the low end falling this much: the kick went
    fall_db: float = 5.0  # or the whole mix this much quieter
    hold_highs_db: float = 4.0  # a fall whose highs hold within this (snare roll, riser) is a build-up
    highs_rise_db: float = 10.0  # the highs jumping this much in a breakdown: a build-up begins
    kick_share_db: float = -3.0  # the low end within this of the whole mix (dB): the kick carries the music
    build_db: float = 8.0  # a build-up's full rise (dB over its first beats): hl_buildup reaches 1
    min_beats: int = 4  # beats of a section heard before another boundary is looked for
    reference_bars: int = 4  # the reference: the same beat of the section's last this many bars (median)
    floor_db: float = -80.0  # quieter than this is silence (no boundary from silence to silence)


@dataclass(frozen=True)
class StructureEvent:
    """A boundary or phrase: `time` is the beat it falls on (audio s), `known_at` when it was heard;
    `boundary` is False for a section relabelled mid-way (a breakdown that turned into a build-up)."""

    kind: str
    time: float
    known_at: float
    bar: int
    strength: float = 1.0
    boundary: bool = True

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "time": round(self.time, 4),
            "known_at": round(self.known_at, 4),
            "bar": self.bar,
            "strength": round(self.strength, 3),
            "boundary": self.boundary,
        }


@dataclass(frozen=True)
class StructureState:
    """The section heard now and where the phrase count starts: immutable, part of each Features snapshot."""

    section: str = "steady"
    since: float = 0.0  # audio time the section began
    anchor_bar: int = 0  # the grid's bar number the phrase count starts from
    last_drop: float = -math.inf
    build: float = 0.0  # 0..1 in a build-up
    phrase_bars: int = 16

    def phrase_position(self, grid: BeatGrid, at: float) -> tuple[int, float, float]:
        """(bars into the phrase, 0..1 through the phrase, seconds since the phrase began) at `at`."""
        if grid.bpm <= 0:
            return 0, 0.0, math.inf
        count, phase = grid.beat_position(at)
        n = grid.beats_per_bar
        beats_in = (count - grid.downbeat) - self.anchor_bar * n  # beats since the anchor bar began
        in_phrase = beats_in % (n * self.phrase_bars) + phase
        return int(in_phrase // n), in_phrase / (n * self.phrase_bars), in_phrase * grid.period

    def values(self, grid: BeatGrid, at: float) -> dict[str, float]:
        bar, phrase_phase, since_phrase = self.phrase_position(grid, at)
        since_section = max(0.0, at - self.since)
        return {
            "section": float(SECTIONS.index(self.section)),
            "section_time": since_section,
            "drop": math.exp(-(at - self.last_drop) / DROP_DECAY) if at >= self.last_drop else 0.0,
            "buildup": self.build if self.section == "buildup" else 0.0,
            "breakdown": float(self.section == "breakdown"),
            "phrase": math.exp(-min(since_phrase, since_section) / PHRASE_DECAY),
            "phrase_bar": float(bar),
            "phrase_phase": phrase_phase,
        }


@dataclass(frozen=True)
class _Probe:
    """The first half of one beat, in dB: the whole mix, the low end and the highs."""

    time: float
    loud: float
    bass: float
    high: float
    slot: int = 0  # the beat of the bar it starts (a bar's beats differ: the kick on 1 and 3, a snare on 2)


def _db(power: float) -> float:
    return 10.0 * math.log10(max(power, 1e-12))


class StructureTracker:
    """Fed once a hop by the analyzer with that hop's powers and the beat grid; keeps `state` and events."""

    def __init__(self, settings: StructureSettings | None = None):
        self.settings = settings or StructureSettings()
        self.state = StructureState(phrase_bars=self.settings.phrase_bars)
        self._events: deque[StructureEvent] = deque(maxlen=MAX_EVENTS)
        self._section: list[_Probe] = []  # the probes of the section heard now
        self._beat: int | None = None
        self._beat_time = 0.0
        self._probed = True
        self._sums = np.zeros(3)
        self._hops = 0
        self._start: float | None = None  # when the music began
        self._bpm = 0.0  # the tempo the section's beats were measured at
        self._settled = 0.0  # beats are measured from then on (the beat's phase has settled)

    def drain(self) -> list[StructureEvent]:
        events = list(self._events)
        self._events.clear()
        return events

    def step(self, time: float, loud: float, bass: float, high: float, grid: BeatGrid) -> None:
        """One hop ending at `time`: the mean square of the mix (`loud`), of the bass and high bands."""
        if self._start is None and loud > 10.0 ** (self.settings.floor_db / 10.0):
            self._start = time  # the music began: phrases count from its first bar
        if grid.bpm <= 0 or self._start is None:
            return
        if self._beat is None:
            self.state = replace(self.state, anchor_bar=self._bar_at(grid, self._start))
        if abs(grid.bpm - self._bpm) > 0.08 * grid.bpm:  # a new tempo (an octave found): beats measured
            self._bpm, self._section = grid.bpm, []  # on the old one say nothing of this one's sections
            self._settled = time + SETTLE_BARS * grid.beats_per_bar * grid.period  # nor while it settles
        count, phase = grid.beat_position(time)
        if count != self._beat:
            self._beat, self._beat_time = count, time - phase * grid.period
            self._probed, self._hops = False, 0
            self._sums[:] = 0.0
            self._phrase(count, grid, time)
        if self._probed or time < self._settled:
            return
        self._sums += (loud, bass, high)
        self._hops += 1
        if phase >= 0.5:
            self._probed = True
            mean = self._sums / max(1, self._hops)
            slot = (count - grid.downbeat) % grid.beats_per_bar
            probe = _Probe(self._beat_time, _db(mean[0]), _db(mean[1]), _db(mean[2]), slot)
            self._decide(probe, count, grid, time)

    # --- phrases ----------------------------------------------------------------------------------

    def _bar_of(self, count: int, grid: BeatGrid) -> tuple[int, int]:
        n = grid.beats_per_bar
        return (count - grid.downbeat) // n, (count - grid.downbeat) % n

    def _bar_at(self, grid: BeatGrid, time: float) -> int:
        """The grid's bar whose line is nearest to `time`."""
        count, phase = grid.beat_position(time)
        bar, in_bar = self._bar_of(count, grid)
        return bar + (1 if in_bar + phase >= grid.beats_per_bar / 2 else 0)

    def _phrase(self, count: int, grid: BeatGrid, time: float) -> None:
        bar, in_bar = self._bar_of(count, grid)
        bars = bar - self.state.anchor_bar
        if in_bar == 0 and bars > 0 and bars % self.state.phrase_bars == 0:
            self._events.append(StructureEvent("phrase", self._beat_time, time, bar))

    # --- sections ---------------------------------------------------------------------------------

    def _decide(self, probe: _Probe, count: int, grid: BeatGrid, now: float) -> None:
        s = self.settings
        section = self._section
        kind = None
        same_beat = [p for p in section if p.slot == probe.slot][-s.reference_bars :]
        if len(section) >= s.min_beats and probe.loud > s.floor_db:
            if len(same_beat) >= 3:  # against the same beat of the section's last bars
                kind, strength = self._change(probe, same_beat)
            elif self.state.section in ("buildup", "breakdown"):  # a short build: only the kick coming back
                kind, strength = self._change(probe, section[-2 * s.min_beats :])  # against all its beats
                kind = kind if kind == "drop" else None
        if kind is None:
            section.append(probe)
            if len(section) > MAX_SECTION_PROBES:  # an hour of one section: its first beats and its last
                del section[BUILD_START]
            self._follow_build(probe)
            return
        bar, _ = self._bar_of(count, grid)
        anchor = self._bar_at(grid, probe.time)  # phrases count from the boundary's bar line
        self._events.append(StructureEvent(kind, probe.time, now, bar, strength))
        self.state = StructureState(
            section={"section": "steady"}.get(kind, kind),
            since=probe.time,
            anchor_bar=anchor,
            last_drop=probe.time if kind == "drop" else self.state.last_drop,
            phrase_bars=self.state.phrase_bars,
        )
        self._section = [probe]

    def _change(self, probe: _Probe, recent: list[_Probe]) -> tuple[str | None, float]:
        """What this beat's probe says against the section's recent beats: a boundary's kind, or None.
        The low end's share of the mix tells whether the kick carries the music (drop, groove) or not
        (build-up, breakdown): that share changing is what a DJ hears as the section changing."""
        s = self.settings
        ref = _Probe(
            0.0, *(float(np.median([getattr(p, k) for p in recent])) for k in ("loud", "bass", "high"))
        )
        d_loud, d_bass, d_high = probe.loud - ref.loud, probe.bass - ref.bass, probe.high - ref.high
        kick_now, kick_before = (
            probe.bass - probe.loud >= s.kick_share_db,
            ref.bass - ref.loud >= s.kick_share_db,
        )
        strength = min(1.0, max(abs(d_bass) / 12.0, abs(d_loud) / 6.0, abs(d_high) / 24.0))
        section = self.state.section
        if kick_now and d_loud > 0.0 and d_bass >= s.rise_bass_db:
            quiet_before = section in ("buildup", "breakdown") or not kick_before
            kind = "drop" if quiet_before or d_loud >= s.drop_db else "section"
            return (None, 0.0) if kind == section else (kind, strength)  # a drop within a drop is its bar
        falls = (kick_before and not kick_now and d_bass <= -s.fall_bass_db) or (
            section in ("steady", "drop") and d_loud <= -s.fall_db
        )
        if falls:
            return ("buildup" if d_high >= -s.hold_highs_db else "breakdown"), strength
        if section == "breakdown" and not kick_now and d_high >= s.highs_rise_db:
            return "buildup", strength  # a snare roll or riser starts over the breakdown
        return None, 0.0

    def _follow_build(self, probe: _Probe) -> None:
        """How far a build-up has risen: its loudness now against its first beats."""
        section = self._section
        if self.state.section != "buildup" or len(section) < BUILD_START:
            return
        start = float(np.median([p.loud for p in section[:BUILD_START]]))
        rise = float(np.median([p.loud for p in section[-4:]])) - start
        self.state = replace(self.state, build=min(1.0, max(0.0, rise / self.settings.build_db)))
