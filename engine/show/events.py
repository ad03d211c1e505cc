"""Takes you can replay: every control event of a live show, with the show time of the frame it was applied
in, written to a JSONL take; `render --replay` applies the same events to the same frames offline.

Every input (OSC, MIDI, sACN/Art-Net, keys, taps) reaches the show the same way: the loop drains each control
surface once a frame and applies its parameter messages and operator commands before drawing. That is where
the recorder listens, so a take holds exactly what changed the show and when, whatever surface it came from.
The offline render steps frames at n / fps; an event recorded in the live frame drawn for show time t is
applied before the first render frame at or after t, so a cue lands on the frame that shows that moment.
Offline renders are deterministic, so two replays of one take are bit-identical.

    {"event": "take", "version": 1, "at": "...", "preset": ..., "setlist": ..., "av_offset": 0.0}
    {"t": 12.345, "frame": 740, "source": "ControlHub", "param": "master.level", "value": 0.4}
    {"t": 16.002, "frame": 960, "source": "ControlHub", "action": "cue.go", "args": []}
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.control.commands import ControlCommand
from engine.errors import HalationError
from engine.params.store import ParamMessage, ParamValue
from engine.params.tempo import tempo_commands

VERSION = 1
EPSILON = 1e-9  # seconds: an event recorded at t belongs to a frame drawn for t, not the one after


@dataclass(frozen=True)
class TakeEvent:
    """One control event: a parameter set (`param`, `value`) or an operator action (`action`, `args`)."""

    t: float
    frame: int
    source: str
    param: str | None = None
    value: ParamValue | None = None
    action: str | None = None
    args: tuple[str | float, ...] = ()

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"t": round(self.t, 9), "frame": self.frame, "source": self.source}
        if self.param is not None:
            value = list(self.value) if isinstance(self.value, tuple) else self.value
            record.update(param=self.param, value=value)
        else:
            record.update(action=self.action, args=list(self.args))
        return record


@dataclass(frozen=True)
class Adoption:
    """When the live show first showed a look it had built aside, and which preset file it was."""

    t: float
    frame: int
    preset: Path


@dataclass(frozen=True)
class Take:
    path: Path
    header: dict[str, Any]
    events: tuple[TakeEvent, ...]
    adoptions: tuple[Adoption, ...] = ()
    first_look: Path | None = None  # the preset on screen in the take's first frame

    @property
    def av_offset(self) -> float:
        return float(self.header.get("av_offset", 0.0))


class EventRecorder:
    """Writes a take as the show runs. Called on the render thread: a line per event into a buffered file
    (flushed once a second of show time), so recording costs the loop nothing it would notice."""

    def __init__(self, path: Path, **meta: Any):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            raise HalationError(f"cannot write the take: {exc.strerror or exc}", path=path) from None
        self.count = 0
        self._shown = False  # the first frame's look is written
        self._flushed = 0.0
        at = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        header = {"event": "take", "version": VERSION, "at": at}
        header.update({k: str(v) if isinstance(v, Path) else v for k, v in meta.items() if v is not None})
        self._write(header)

    def record(self, ft, source: str, messages: Iterable[ParamMessage], commands: Iterable[ControlCommand]):
        """What one control surface handed the loop for the frame `ft` (a FrameTime), in the order applied."""
        self.params(ft.time, ft.index, source, messages)
        self.commands(ft.time, ft.index, source, commands)

    def params(self, time: float, frame: int, source: str, messages: Iterable[ParamMessage]) -> None:
        for m in messages:
            self.event(TakeEvent(time, frame, source, param=m.name, value=m.value))

    def commands(self, time: float, frame: int, source: str, commands: Iterable[ControlCommand]) -> None:
        for c in commands:
            self.event(TakeEvent(time, frame, source, action=c.action, args=tuple(c.args)))

    def look(self, ft, preset: Path, adopted: bool) -> None:
        """Called every frame: the look of the first frame, and each frame that first showed a look built
        aside (a cue's, a recall's, a saved preset's), so a replay brings each in on the same frame."""
        if not self._shown:
            self._shown = True
            self._write({"t": round(ft.time, 9), "frame": ft.index, "shown": str(preset)})
        elif adopted:
            self._write({"t": round(ft.time, 9), "frame": ft.index, "adopted": str(preset)})

    def event(self, event: TakeEvent) -> None:
        self._write(event.as_record())
        self.count += 1
        if event.t - self._flushed >= 1.0:
            self._file.flush()
            self._flushed = event.t

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self._file.write(json.dumps(record) + "\n")
        except (OSError, ValueError) as exc:  # a full disk must not end the show
            raise HalationError(f"cannot write the take: {exc}", path=self.path) from None

    def close(self) -> None:
        self._file.close()


def _value(raw: Any) -> ParamValue:
    if isinstance(raw, list):
        return tuple(float(v) for v in raw)
    if isinstance(raw, bool | int | float):
        return raw
    raise ValueError(f"not a parameter value: {raw!r}")


def load_take(path: Path) -> Take:
    """A recorded take; a damaged line is refused with its line number (a take cut off mid-line at the end
    of a crashed show keeps every event before it)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise HalationError(f"cannot read the take: {exc.strerror or exc}", path=path) from None
    header: dict[str, Any] | None = None
    events: list[TakeEvent] = []
    adoptions: list[Adoption] = []
    first_look = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if header is None:
                if record.get("event") != "take":
                    raise ValueError("no take header")
                header = record
                continue
            t, frame, source = float(record["t"]), int(record["frame"]), str(record.get("source", ""))
            if "shown" in record:
                first_look = Path(record["shown"])
            elif "adopted" in record:
                adoptions.append(Adoption(t, frame, Path(record["adopted"])))
            elif "param" in record:
                events.append(
                    TakeEvent(t, frame, source, param=str(record["param"]), value=_value(record["value"]))
                )
            else:
                args = tuple(a if isinstance(a, int | float) else str(a) for a in record.get("args", []))
                events.append(TakeEvent(t, frame, source, action=str(record["action"]), args=args))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            if number == len(lines) and header is not None:
                break
            raise HalationError(
                f"not a take recorded by --record-events ({exc})", path=path, line=number
            ) from None
    if header is None:
        raise HalationError("empty take: record one with perform --record-events", path=path)
    ordered = tuple(sorted(events, key=lambda e: e.t))  # stable: the order within a frame is kept
    return Take(path, header, ordered, tuple(sorted(adoptions, key=lambda a: a.t)), first_look)


class Replay:
    """Hands out a take's events frame by frame: those recorded at or before the frame's show time."""

    def __init__(self, take: Take):
        self.take = take
        self._next = 0

    def due(self, time: float) -> Sequence[TakeEvent]:
        start = self._next
        events = self.take.events
        while self._next < len(events) and events[self._next].t <= time + EPSILON:
            self._next += 1
        return events[start : self._next]

    @property
    def done(self) -> bool:
        return self._next >= len(self.take.events)


def apply_events(show, operator, events: Sequence[TakeEvent], time: float, av_offset: float = 0.0) -> None:
    """Apply a frame's events the way the live loop applies what it drained: parameter messages, operator
    actions, then the tempo commands those changes mean (stamped when the operator heard them)."""
    if not events:
        return
    before = show.params.base()
    for event in events:
        if event.param is not None:
            show.params.apply([ParamMessage(event.param, event.value)])
        else:
            operator.apply(event.action, event.args)
    base = show.params.base()
    for command in tempo_commands(before, base, time - av_offset):
        show.analyzer.command(command)
    if base.get("tempo.nudge"):
        show.params.set("tempo.nudge", 0.0)


class ReplayedLooks:
    """Looks for a replayed show, ready when the live show adopted them: live, a cue's look is built aside
    and comes in some frames after the cue (when its shaders are warm); the take says at which frame, and
    the replay brings the requested look in at that same moment. Same interface as LookBuilder."""

    def __init__(self, adoptions: Sequence[Adoption]):
        self.adoptions = adoptions
        self.now = 0.0
        self._next = 0
        self._preset = None

    def request(self, preset, spec_for=None) -> None:
        self._preset = preset  # the newest request wins, as it does live

    @property
    def pending(self) -> bool:
        return self._preset is not None

    def poll(self):
        from engine.runtime.looks import LookReady
        from engine.show.preset import load_preset

        if self._next >= len(self.adoptions) or self.adoptions[self._next].t > self.now + EPSILON:
            return None
        adoption = self.adoptions[self._next]
        self._next += 1
        preset, self._preset = self._preset, None
        if preset is None or Path(preset.path).resolve() != adoption.preset.resolve():
            preset = load_preset(adoption.preset)  # a look no event asked for: a preset saved in rehearsal
        return LookReady(preset)


class ReplayHook:
    """An offline render that plays a take: the setlist's first cue at the first frame, as `perform
    --setlist` does, then each recorded event before the frame that shows its moment, and each look at the
    frame the live show adopted it (engine.offline)."""

    def __init__(self, take: Take | None = None, setlist=None):
        self.replay = Replay(take) if take is not None else None
        self.looks = ReplayedLooks(take.adoptions) if take is not None and take.adoptions else None
        self.setlist = setlist
        # Did the live show bring its first cue in before its first frame (at once), or build it aside?
        first = take.first_look if take is not None else None
        self.first_at_once = first is None or (
            setlist is not None and first.resolve() == setlist.cues[0].preset.resolve()
        )
        self.operator = None

    @property
    def cue_name(self) -> str:
        return self.operator.cue_name if self.operator is not None else ""

    def before_frame(self, show, ft) -> None:
        if self.operator is None:
            from engine.show.operator import Operator

            self.operator = Operator(show, self.setlist)
            if self.setlist is not None and self.first_at_once:
                self.operator.apply("cue.go")  # on screen from the first frame, as the live take had it
            if self.looks is not None:
                show.build_looks_aside(self.looks)
            if self.setlist is not None and not self.first_at_once:
                self.operator.apply("cue.go")  # built aside: it comes in when the take says it did
        if self.looks is not None:  # first the look that is ready, then the frame's events, as live
            self.looks.now = ft.time
            self.operator.settle(show.adopt_look())
        if self.replay is not None:
            apply_events(show, self.operator, self.replay.due(ft.time), ft.time, self.replay.take.av_offset)

    def after_frame(self, show, ft, values) -> None:
        pass

    def close(self) -> None:
        pass
