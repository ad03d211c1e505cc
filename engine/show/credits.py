"""The AI-use disclosure sheet: performance logs (engine/show/perflog.py) turned into what a festival or a
label asks for. Each AI clip with its provenance, its total time on screen and when it was first and last
shown; then the shaders and their credits; then a plain statement of what was AI-generated and what was not.

A clip whose provenance is not known is listed as "provenance unknown", never dropped: a disclosure that
leaves out what it cannot explain is worse than none.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import HalationError

AI_KEYS = ("generator", "model")  # provenance naming one of these: the clip was made by a generative model
UNKNOWN = "provenance unknown"


@dataclass
class Shown:
    """One thing that was on screen: its total seconds, and when it was first and last shown, as seconds
    into the show (`first`, `last`) and as wall-clock times when the log knows when the show started."""

    key: str
    name: str
    seconds: float = 0.0
    first: float | None = None
    last: float | None = None
    first_at: str = ""
    last_at: str = ""
    sessions: set[int] = field(default_factory=set)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, start: float, end: float, session: _Session) -> None:
        if end <= start:
            return
        self.seconds += end - start
        if self.first is None:  # sessions are read in order, so the first interval is the first showing
            self.first, self.first_at = start, session.wall(start)
        self.last, self.last_at = end, session.wall(end)
        self.sessions.add(session.index)


@dataclass
class Sheet:
    clips: dict[str, Shown] = field(default_factory=dict)
    shaders: dict[str, Shown] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # total show time covered by the logs

    def ai_clips(self) -> list[Shown]:
        return [c for c in self._by_time(self.clips) if clip_status(c.info) == "ai"]

    def other_clips(self) -> list[Shown]:
        return [c for c in self._by_time(self.clips) if clip_status(c.info) != "ai"]

    def shader_list(self) -> list[Shown]:
        return self._by_time(self.shaders)

    @staticmethod
    def _by_time(items: dict[str, Shown]) -> list[Shown]:
        return sorted(items.values(), key=lambda s: (min(s.sessions, default=0), s.first or 0.0, s.name))


def clip_status(info: dict[str, Any]) -> str:
    """ "ai" (a generator or model is named), "unknown" (no provenance at all) or "not-ai"."""
    provenance = info.get("provenance") or {}
    if not provenance:
        return "unknown"
    return "ai" if any(provenance.get(k) for k in AI_KEYS) else "not-ai"


class _Session:
    """Replays one session's records: each clip and shader accrues time until the next change."""

    def __init__(self, sheet: Sheet, index: int, start: dict[str, Any]):
        self.sheet = sheet
        self.index = index
        self.start = start
        self.started = None  # wall clock of the first record: a live show runs in real time, a render not
        if start.get("kind") != "render":
            with contextlib.suppress(ValueError):
                self.started = _dt.datetime.fromisoformat(str(start.get("at", "")).replace("Z", "+00:00"))
        self.t0: float | None = None
        self.t = 0.0
        self.shaders: list[dict[str, Any]] = []
        self.clips: list[dict[str, Any]] = []
        self.dark = False

    def wall(self, t: float) -> str:
        """The wall-clock time of show time `t` (the first record's time is when the session started)."""
        if self.started is None:
            return ""
        moment = self.started + _dt.timedelta(seconds=t - (self.t0 or 0.0))
        return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def advance(self, t: float) -> None:
        if self.t0 is None:
            self.t0 = t
        if t > self.t and not self.dark:
            for s in self.shaders:
                key = f"{s.get('file')}"
                shown = self.sheet.shaders.setdefault(key, Shown(key, Path(key).stem, info=s))
                shown.add(self.t, t, self)
            for c in self.clips:
                key = (c.get("source") or {}).get("sha256") or c.get("file", "")
                shown = self.sheet.clips.setdefault(
                    key, Shown(key, c.get("name") or Path(c["file"]).stem, info=c)
                )
                shown.add(self.t, t, self)
        self.t = max(self.t, t)

    def record(self, r: dict[str, Any]) -> None:
        self.advance(float(r.get("t", self.t)))
        if r["event"] == "look":
            self.shaders = list(r.get("shaders", []))
        elif r["event"] == "screen":
            self.dark = bool(r.get("dark", False))
            self.clips = list(r.get("clips", []))

    def finish(self) -> None:
        self.sheet.seconds += self.t - (self.t0 or 0.0)
        self.sheet.sessions.append({**self.start, "seconds": round(self.t - (self.t0 or 0.0), 3)})


def read_logs(paths: Iterable[Path]) -> Sheet:
    """Every session of every log, in order. A damaged line is refused with its file and line."""
    sheet = Sheet()
    for path in paths:
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise HalationError(f"cannot read the log: {exc.strerror or exc}", path=path) from None
        session: _Session | None = None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                event = record["event"]
            except (json.JSONDecodeError, KeyError, TypeError):
                if number == len(lines):  # the last line of a show that was cut off mid-write
                    break
                raise HalationError(
                    "not a performance log record (is this a log written by perform/rehearse/render?)",
                    path=path,
                    line=number,
                ) from None
            if event == "start":
                if session is not None:
                    session.finish()
                session = _Session(sheet, len(sheet.sessions), record)
            elif session is not None:
                session.record(record)
        if session is not None:
            session.finish()
    return sheet


# --- output formats ----------------------------------------------------------------------------------


def _provenance_text(info: dict[str, Any]) -> str:
    provenance = info.get("provenance") or {}
    if not provenance:
        return UNKNOWN
    return "; ".join(f"{k}: {v}" for k, v in provenance.items())


def _sha(info: dict[str, Any]) -> str:
    return (info.get("source") or {}).get("sha256", "")


def _clip_row(c: Shown) -> dict[str, Any]:
    provenance = c.info.get("provenance") or {}
    return {
        "name": c.name,
        "ai": clip_status(c.info),
        "seconds_on_screen": round(c.seconds, 2),
        "first_shown": round(c.first or 0.0, 2),
        "last_shown": round(c.last or 0.0, 2),
        "first_shown_at": c.first_at,
        "last_shown_at": c.last_at,
        "generator": provenance.get("generator", ""),
        "model": provenance.get("model", ""),
        "prompt": provenance.get("prompt", ""),
        "seed": provenance.get("seed", ""),
        "author": provenance.get("author", ""),
        "licence": provenance.get("licence", ""),
        "source_sha256": _sha(c.info),
        "file": c.info.get("file", ""),
        "provenance": provenance if provenance else UNKNOWN,
    }


def _shader_row(s: Shown) -> dict[str, Any]:
    return {
        "name": s.name,
        "layer": s.info.get("layer", ""),
        "credit": s.info.get("credit", "") or "no credit in the file",
        "seconds_on_screen": round(s.seconds, 2),
        "file": s.info.get("file", ""),
    }


def statement(sheet: Sheet) -> str:
    """The plain-language disclosure: what was AI-generated and what was not."""
    ai, others = sheet.ai_clips(), sheet.other_clips()
    unknown = [c for c in others if clip_status(c.info) == "unknown"]
    made = [c for c in others if clip_status(c.info) == "not-ai"]
    ai_seconds = sum(c.seconds for c in ai)
    parts = []
    if ai:
        models = sorted(
            {str(c.info["provenance"].get("model") or c.info["provenance"].get("generator")) for c in ai}
        )
        parts.append(
            f"AI-generated: {len(ai)} video clip{'s' if len(ai) != 1 else ''} ({', '.join(models)}), "
            f"on screen {ai_seconds:.1f} s of {sheet.seconds:.1f} s of show."
        )
    else:
        parts.append("No AI-generated video clip with known provenance was shown.")
    if unknown:
        parts.append(
            f"Provenance unknown: {len(unknown)} clip{'s' if len(unknown) != 1 else ''} "
            f"({', '.join(c.name for c in unknown)}), which may or may not be AI-generated."
        )
    if made:
        parts.append(f"Not AI-generated by their provenance: {', '.join(c.name for c in made)}.")
    parts.append(
        f"Not AI-generated: the {len(sheet.shaders)} shader{'s' if len(sheet.shaders) != 1 else ''} "
        "(GLSL programs written by the people credited above, driven live by the music) "
        "and the audio analysis that drives them."
    )
    return " ".join(parts)


def as_json(sheet: Sheet) -> str:
    return json.dumps(
        {
            "sessions": sheet.sessions,
            "show_seconds": round(sheet.seconds, 2),
            "ai_clips": [_clip_row(c) for c in sheet.ai_clips()],
            "other_clips": [_clip_row(c) for c in sheet.other_clips()],
            "shaders": [_shader_row(s) for s in sheet.shader_list()],
            "statement": statement(sheet),
        },
        indent=2,
        ensure_ascii=False,
    )


def as_csv(sheet: Sheet) -> str:
    """One row per item on screen (clips, then shaders), for a spreadsheet or a festival's form."""
    out = io.StringIO()
    columns = ["kind", "name", "ai", "seconds_on_screen", "first_shown", "last_shown", "generator"]
    columns += ["model", "prompt", "seed", "author", "licence", "credit", "source_sha256", "file"]
    columns += ["first_shown_at", "last_shown_at"]
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for c in [*sheet.ai_clips(), *sheet.other_clips()]:
        writer.writerow({"kind": "clip", **_clip_row(c)})
    for s in sheet.shader_list():
        writer.writerow({"kind": "shader", "ai": "not-ai", **_shader_row(s)})
    return out.getvalue()


def _when(c: Shown) -> str:
    """First – last shown: wall-clock times when the log has them, else seconds into the show."""
    if c.first_at and c.last_at:
        return f"{c.first_at} – {c.last_at}"
    return f"{c.first or 0.0:.1f} – {c.last or 0.0:.1f} s"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ") if value not in (None, "") else "—"


def as_markdown(sheet: Sheet) -> str:
    lines = ["# AI-use disclosure", ""]
    for s in sheet.sessions:
        what = s.get("setlist") or s.get("preset") or ""
        lines.append(f"- {s.get('kind', 'show')} {s.get('at', '')}: {s['seconds']:.1f} s {_cell(what)}")
    lines += ["", "## AI-generated clips", ""]
    ai = sheet.ai_clips()
    if ai:
        lines.append(
            "| clip | on screen | first – last shown | generator / model | prompt | seed | author | licence "
            "| source sha256 |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for c in ai:
            r = _clip_row(c)
            tool = " / ".join(v for v in (r["generator"], r["model"]) if v)
            lines.append(
                f"| {_cell(c.name)} | {c.seconds:.1f} s | {_when(c)} | "
                f"{_cell(tool)} | {_cell(r['prompt'])} | {_cell(r['seed'])} | {_cell(r['author'])} | "
                f"{_cell(r['licence'])} | {_cell(r['source_sha256'][:16])} |"
            )
    else:
        lines.append("None.")
    others = sheet.other_clips()
    if others:
        lines += [
            "",
            "## Other clips",
            "",
            "| clip | on screen | first – last shown | provenance |",
            "|---|---|---|---|",
        ]
        for c in others:
            lines.append(
                f"| {_cell(c.name)} | {c.seconds:.1f} s | {_when(c)} | {_cell(_provenance_text(c.info))} |"
            )
    lines += ["", "## Shaders", "", "| shader | layer | on screen | credit |", "|---|---|---|---|"]
    for s in sheet.shader_list():
        r = _shader_row(s)
        lines.append(f"| {_cell(s.name)} | {_cell(r['layer'])} | {s.seconds:.1f} s | {_cell(r['credit'])} |")
    lines += ["", "## Statement", "", statement(sheet), ""]
    return "\n".join(lines)


FORMATS = {"md": as_markdown, "csv": as_csv, "json": as_json}
