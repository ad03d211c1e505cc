"""The autopilot: changes looks with the song's form, for a show with no setlist (`perform --autopilot`).

projectM switches presets on a timer and cuts on a beat; a VJ changes the look where the music changes:
at phrase boundaries and at the drops, breakdowns and build-ups. The autopilot does that from what the
analysis hears (engine/analysis/structure.py): each frame it reads the section and the phrase position,
and at a boundary it picks the look whose energy suits the section (presets say `energy` and `tags`),
never one of the last few. At a phrase boundary it decides once the section heard there is known (half a
beat in), so a phrase that is also a drop changes once, to a drop's look. Any operator action takes over:
the autopilot holds off for a number of bars, then resumes at the next boundary.

It is plain logic on the render thread's values (no GL, no threads): the same code runs live and in
`halation bench structure`, which measures how many changes fall within a beat of a true boundary.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.analysis.features import Features
from engine.analysis.structure import SECTIONS
from engine.errors import HalationError

log = logging.getLogger(__name__)

# what each section asks of a look (0 calm .. 1 peak); a steady section follows the music's own energy
SECTION_ENERGY = {"buildup": 0.65, "drop": 0.9, "breakdown": 0.2}
FREE_BPM = 120.0  # bars are counted at this tempo until the analysis hears one
PREWARM_AFTER = 2.0  # seconds after a change before the look likely to come next is warmed (past its frames)


@dataclass(frozen=True)
class AutopilotSettings:
    hold_bars: float = 8.0  # an operator action holds the autopilot off this many bars
    memory: int = 3  # never pick one of the last this many looks (fewer if the library is that small)
    min_bars: float = 4.0  # bars between two changes at least (a section boundary may correct a phrase's)
    settle_beats: float = 0.6  # at a phrase boundary, wait this long to hear the section that starts there
    tags: tuple[str, ...] = ()  # only looks with all of these tags (e.g. "techno")
    morph: str = "1 beats"  # each change morphs in over this, from the moment the look is ready ("" cuts)


@dataclass(frozen=True)
class LookCard:
    """A preset the autopilot may pick, as its file says (read without building it)."""

    path: Path
    name: str
    energy: float
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    time: float  # show time the change was made
    boundary: float  # the boundary it answers (the downbeat)
    reason: str  # "start", "phrase", or the section: "drop", "breakdown", "buildup", "steady"
    look: LookCard


def load_library(sources: list[Path], tags: tuple[str, ...] = ()) -> list[LookCard]:
    """The presets in these files and folders (recursively) with all of `tags`. A preset without `energy`
    is taken as 0.5; one that is not a preset (a setlist, a stage file) is skipped."""
    files: list[Path] = []
    for source in sources:
        files += sorted(source.rglob("*.toml")) if source.is_dir() else [source]
    cards = []
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            log.warning("autopilot: skipping %s (%s)", path, exc)
            continue
        if "shader" not in data:
            continue
        card_tags = tuple(str(t) for t in data.get("tags", ()))
        if set(tags) <= set(card_tags):
            energy = data.get("energy", 0.5)
            cards.append(LookCard(path, str(data.get("name", path.stem)), float(energy), card_tags))
    if len(cards) < 2:
        wanted = f" tagged {', '.join(tags)}" if tags else ""
        raise HalationError(f"the autopilot needs at least two presets{wanted} ({len(cards)} found)")
    return cards


def _jitter(*key: object) -> float:
    """A fixed pseudo-random 0..1 per key: varied picks, the same on every run (renders are repeatable)."""
    h = 2166136261
    for byte in repr(key).encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h / 0xFFFFFFFF


@dataclass
class _Pending:
    boundary: float
    reason: str
    due: float


@dataclass
class Autopilot:
    library: list[LookCard]
    settings: AutopilotSettings = field(default_factory=AutopilotSettings)
    seed: int = 0
    changes: list[Change] = field(default_factory=list)
    _recent: list[Path] = field(default_factory=list)
    _hold_until: float = -math.inf
    _since: float | None = None  # the section boundary last seen
    _phrase_start: float | None = None
    _pending: _Pending | None = None
    _section: str = "steady"

    def touched(self, time: float, bpm: float = 0.0) -> None:
        """The operator did something: hold off for `hold_bars` bars from now."""
        self._hold_until = time + self.settings.hold_bars * self._bar(bpm)
        self._pending = None

    @property
    def holding(self) -> bool:
        return bool(self.changes) and self._hold_until > self.changes[-1].time

    def update(self, time: float, features: Features) -> Change | None:
        """Once a frame: the change to make now, if any."""
        grid, state = features.grid, features.structure
        beat = 60.0 / (grid.bpm or FREE_BPM)
        if not self.changes:
            self._since = state.since
            return self._change(time, time, "start", state.section)
        if state.since != self._since:  # a section boundary was heard (half a beat after it)
            self._since, self._section = state.since, state.section
            self._pending = _Pending(state.since, state.section, time)
        _, _, since_phrase = state.phrase_position(grid, time)
        if math.isfinite(since_phrase):
            start = time - since_phrase
            new_phrase = self._phrase_start is not None and start > self._phrase_start + beat
            if new_phrase and (self._pending is None or self._pending.boundary < start - beat):
                self._pending = _Pending(start, "phrase", start + self.settings.settle_beats * beat)
            self._phrase_start = start
        pending = self._pending
        if pending is None or time < pending.due:
            return None
        self._pending = None
        if time < self._hold_until:
            return None  # the operator has the show
        if pending.boundary - self.changes[-1].boundary < (self.settings.min_bars * 4 - 0.5) * beat:
            corrects = pending.reason != "phrase" and time - self.changes[-1].time <= beat
            if not (corrects and abs(self.changes[-1].look.energy - self._target(pending.reason)) > 0.25):
                return None
        return self._change(time, pending.boundary, pending.reason, state.section)

    def _bar(self, bpm: float) -> float:
        return 4 * 60.0 / (bpm or FREE_BPM)

    def _target(self, section: str) -> float:
        return SECTION_ENERGY.get(section, 0.55)

    def _change(self, time: float, boundary: float, reason: str, section: str) -> Change:
        look = self.pick(section if reason == "phrase" else reason if reason in SECTIONS else section)
        change = Change(time, boundary, reason, look)
        self.changes.append(change)
        self._recent = [*self._recent, look.path][-self.settings.memory :]
        return change

    def pick(self, section: str) -> LookCard:
        """The look nearest the section's energy, never one of the last few (varied by a fixed jitter)."""
        target = self._target(section)
        memory = min(self.settings.memory, len(self.library) - 1)
        recent = set(self._recent[-memory:]) if memory > 0 else set()
        fresh = [c for c in self.library if c.path not in recent] or self.library
        n = len(self.changes)
        return min(fresh, key=lambda c: abs(c.energy - target) + 0.15 * _jitter(self.seed, n, c.path.name))


class AutopilotDriver:
    """The autopilot inside a running show: each frame it asks for a change and has the show build the
    look aside; the look it will probably want next is warmed meanwhile."""

    def __init__(self, autopilot: Autopilot, show):
        self.autopilot = autopilot
        self.show = show
        self._prewarm_at: float | None = None  # show time to warm the likely next look at

    def _prewarm_next(self, time: float, features: Features) -> None:
        """Once the last change has played (PREWARM_AFTER, its look on, no morph running): warm the
        look the autopilot would pick at the next phrase boundary of the section heard now, its likeliest
        next change, in the warm-up child. Cold, a look's shaders were compiled only when it was asked
        for, and on a busy machine its change came in seconds after the boundary it answers (LOOK_WAIT)."""
        from engine.show.preset import load_preset

        if self._prewarm_at is None or time < self._prewarm_at or self.show.morph is not None:
            return
        if self.show.building:  # the change's look is still on its way
            return
        self._prewarm_at = None
        card = self.autopilot.pick(features.structure.section)
        if card.path != self.show.preset.path:
            with contextlib.suppress(HalationError):  # said when (if) it is picked
                self.show.prewarm(load_preset(card.path))

    def frame(self, time: float, features: Features, touched: bool) -> Change | None:
        from engine.show.morph import parse_morph
        from engine.show.preset import load_preset

        if touched:
            self.autopilot.touched(time, features.grid.bpm)
            return None
        change = self.autopilot.update(time, features)
        if change is None:
            self._prewarm_next(time, features)
            return None
        try:
            morph = self.autopilot.settings.morph
            first = len(self.autopilot.changes) == 1  # the show's first look comes in at once
            self.show.morph_plan = parse_morph(morph, "now") if morph and not first else None
            self.show.request(load_preset(change.look.path))
        except HalationError as exc:  # a preset that does not load: skipped, the look stays
            log.error("autopilot: %s (the look stays)", exc)
            return None
        log.info("autopilot: %s at %.2f s (%s)", change.look.name, change.time, change.reason)
        self._prewarm_at = time + PREWARM_AFTER
        return change


def follow_track(autopilot: Autopilot, mono, sample_rate: int, fps: float = 30.0, touches=()) -> list[Change]:
    """Run the autopilot over a whole recording as a show would: the analyzer hears the audio up to each
    frame's time and the autopilot decides on that frame (no GL). `touches`: show times of operator
    actions. Used by `halation bench structure` and the tests."""
    from engine.analysis.analyzer import Analyzer

    analyzer = Analyzer(sample_rate)
    pending = sorted(touches)
    for index in range(int(len(mono) / sample_rate * fps)):
        time = index / fps
        analyzer.feed(mono[analyzer.samples_fed : round(time * sample_rate)])
        features = analyzer.snapshot()
        if pending and pending[0] <= time:
            pending.pop(0)
            autopilot.touched(time, features.grid.bpm)
            continue
        autopilot.update(time, features)
    return autopilot.changes
