"""The performance log: a JSONL record of what was on screen and when, for the credits sheet.

Every `perform`, `rehearse` and `render` appends one session to a log. Festivals and labels ask which AI
material was shown; the answer has to come from what the show actually put on the projector, not from the
setlist, so the log follows the frames: the look (cue, preset, each shader with its ISF CREDIT) and the clips
visible in the crossfade (with their provenance from clips.json or the clip's sidecar). A record is written
only when that changes, plus a heartbeat, so a crashed show still accounts for its time.

The render thread only compares small tuples and hands changes to a writer thread, which resolves clip
provenance (manifest lookups, hashing an unprepared clip) and writes: the log never blocks a frame.

Records (one JSON object a line, `t` in show seconds, `frame` the frame index):

    {"event": "start", "kind": "perform", "at": "2026-12-01T11:00:00Z", "preset": ..., "setlist": ...}
    {"event": "look", "t", "frame", "cue", "preset": {"name", "path"}, "shaders": [{"layer", "file", ...}]}
    {"event": "screen", "t", "frame", "dark": false, "clips": [{"deck", "file", "name", "provenance", ...}]}
    {"event": "tick", "t", "frame"}
    {"event": "end", "t", "frame"}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.clips.manifest import load_manifest, read_provenance
from engine.errors import HalationError, MediaError
from engine.show.folder import show_folder, user_folder

log = logging.getLogger(__name__)

HEARTBEAT = 5.0  # seconds of show time between tick records
VISIBLE = 1e-3  # a clip mixed in at less than this is not on screen


@dataclass(frozen=True)
class ShaderShown:
    layer: str  # "shader", an effect's name, or "transition"
    file: Path
    credit: str
    description: str = ""


@dataclass(frozen=True)
class Look:
    """The look on air: compared every frame, so it is a small frozen value."""

    cue: str
    preset_name: str
    preset_path: Path
    shaders: tuple[ShaderShown, ...]


@dataclass(frozen=True)
class Screen:
    """What the audience sees of the clips: the clip files mixed in, or nothing when the output is dark."""

    dark: bool
    clips: tuple[tuple[str, Path], ...]  # (deck, clip file), in deck order


def _on_air(show) -> list:
    """The pipelines drawing now: the look's, and during a morph the old look's too (it is still seen)."""
    morph = getattr(show, "morph", None)
    if morph is None:
        return [show.pipeline]
    return [
        p
        for p, seen in ((show.pipeline, morph.progress_now > 0.0), (morph.old, morph.progress_now < 1.0))
        if seen
    ]


def look_of(show, cue: str = "") -> Look:
    """The look the show draws now: its preset and the programs of every layer (and the clip transition),
    with the old look's during a morph."""
    shaders: list[ShaderShown] = []
    for pipeline in _on_air(show):
        docs = [(layer.name, layer.program.doc) for layer in pipeline.layers]
        if pipeline.transition is not None and _clips_of(pipeline):
            docs.append(("transition", pipeline.transition.doc))
        for name, doc in docs:
            shown = ShaderShown(name, doc.path, doc.credit, doc.description)
            if shown not in shaders:
                shaders.append(shown)
    return Look(cue, show.preset.name, show.preset.path, tuple(shaders))


def _clips_of(pipeline) -> list[tuple[str, Path]]:
    """The clips a pipeline's clip stage mixed into its last frame: (deck, file), visible ones only."""
    stage = pipeline.clips
    mix = getattr(stage, "last_mix", None)
    if mix is None or pipeline.transition is None:
        return []
    decks = stage.director.decks if stage.director is not None else stage.decks
    files = {deck.name: deck.clip for deck in decks}
    shown = []
    for deck, weight, frame in ((mix.a_deck, 1.0 - mix.progress, mix.a), (mix.b_deck, mix.progress, mix.b)):
        path = files.get(deck)
        if frame is not None and path is not None and weight > VISIBLE and (deck, path) not in shown:
            shown.append((deck, path))
    return shown


def screen_of(show, values: Mapping[str, Any]) -> Screen:
    """The clips visible in the frame just drawn (both looks' during a morph), or dark when blacked out."""
    dark = bool(values.get("master.blackout", False)) or float(values.get("master.level", 1.0)) <= 0.0
    shown: list[tuple[str, Path]] = []
    for pipeline in _on_air(show):
        shown += [clip for clip in _clips_of(pipeline) if clip not in shown]
    return Screen(dark, tuple(shown))


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_log_path(kind: str, setlist: Path | None, preset: Path | None) -> Path:
    """`logs/<date>-<time>-<kind>.jsonl` in the show folder (engine.show.folder: the setlist's folder, else
    the preset's; for a shipped preset the user's data folder, never the installed package)."""
    stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    if setlist is None and preset is None:
        return user_folder() / "logs" / f"{stamp}-{kind}.jsonl"
    return show_folder(setlist, preset or setlist) / "logs" / f"{stamp}-{kind}.jsonl"


class ClipCredits:
    """Provenance of a clip file: its entry in the folder's clips.json when it was prepared, else its
    sidecar (clip.mp4.json / clip.json / clip.txt) and the hash of the file. Cached per file."""

    def __init__(self):
        self._cache: dict[Path, dict[str, Any]] = {}

    def describe(self, path: Path) -> dict[str, Any]:
        if path not in self._cache:
            self._cache[path] = self._lookup(path)
        return self._cache[path]

    def _lookup(self, path: Path) -> dict[str, Any]:
        entry = None
        try:
            entry = next((e for e in load_manifest(path.parent).clips.values() if e.file == path.name), None)
        except MediaError as exc:
            log.warning("performance log: %s", exc)
        if entry is not None:
            provenance, source, name = dict(entry.provenance), dict(entry.source), entry.name
            if not provenance and source.get("path"):  # prepared before provenance was read: try the source
                provenance = read_provenance(Path(source["path"]))
        else:
            provenance, source, name = (
                read_provenance(path),
                {"path": str(path), "sha256": _sha256(path)},
                path.stem,
            )
        return {"name": name, "provenance": provenance, "source": source}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


class PerfLog:
    """Appends one session to a JSONL performance log. `observe()` runs on the render thread once a frame
    and costs two comparisons unless the look or the clips on screen changed."""

    def __init__(self, path: Path, kind: str, **meta: Any):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise HalationError(
                f"cannot write the performance log: {exc.strerror or exc}", path=path
            ) from None
        self._credits = ClipCredits()
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._look: Look | None = None
        self._screen: Screen | None = None
        self._last = (0.0, -1)
        self._step = 0.0  # the last frame's duration: the end record is when the last frame's time ran out
        self._beat = -HEARTBEAT
        self._writer = threading.Thread(target=self._write_all, name="halation-perflog", daemon=True)
        self._writer.start()
        self._queue.put({"event": "start", "kind": kind, "at": _now_iso(), **_plain(meta)})

    def observe(self, time: float, frame: int, look: Look, screen: Screen) -> None:
        """Note what the frame at `time` showed; records go out only when something changed."""
        self._step = time - self._last[0] if frame > self._last[1] else self._step
        self._last = (time, frame)
        if look != self._look:
            self._look = look
            self._queue.put({"event": "look", "t": time, "frame": frame, "look": look})
            self._screen = None  # a new look: say what is on screen with it, even if the clips stayed
        if screen != self._screen:
            self._screen = screen
            self._queue.put({"event": "screen", "t": time, "frame": frame, "screen": screen})
        elif time - self._beat >= HEARTBEAT:
            self._queue.put({"event": "tick", "t": time, "frame": frame})
        if time - self._beat >= HEARTBEAT:
            self._beat = time

    def observe_show(self, show, time: float, frame: int, values: Mapping[str, Any], cue: str = "") -> None:
        self.observe(time, frame, look_of(show, cue), screen_of(show, values))

    def close(self) -> None:
        """Write the end record (when the last frame's time ran out) and wait for the writer."""
        if self._writer.is_alive():
            t, frame = self._last
            self._queue.put({"event": "end", "t": t + self._step, "frame": frame})
            self._queue.put(None)
            self._writer.join(timeout=10.0)
        self._file.close()

    # --- the writer thread --------------------------------------------------------------------------

    def _write_all(self) -> None:
        while (record := self._queue.get()) is not None:
            try:
                self._file.write(json.dumps(self._expand(record), ensure_ascii=False) + "\n")
                if record["event"] in ("start", "tick", "end", "look"):
                    self._file.flush()
            except (OSError, ValueError, TypeError) as exc:  # a full disk must not end the show
                log.error("performance log %s: %s (the show goes on)", self.path, exc)

    def _expand(self, record: dict[str, Any]) -> dict[str, Any]:
        if "look" in record:
            look: Look = record.pop("look")
            record.update(
                cue=look.cue,
                preset={"name": look.preset_name, "path": str(look.preset_path)},
                shaders=[
                    {"layer": s.layer, "file": str(s.file), "credit": s.credit, "description": s.description}
                    for s in look.shaders
                ],
            )
        if "screen" in record:
            screen: Screen = record.pop("screen")
            record["dark"] = screen.dark
            record["clips"] = [
                {"deck": deck, "file": str(path), **self._credits.describe(path)}
                for deck, path in screen.clips
            ]
        return record


def _plain(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in meta.items() if v is not None}


class PerfLogSink:
    """The performance log as one of the loop's sinks: it reads the show's look, never the pixels."""

    name = "perflog"

    def __init__(self, perflog: PerfLog, show, cue=lambda: ""):
        self.log = perflog
        self.show = show
        self._cue = cue

    def present(self, frame, info) -> None:
        self.log.observe_show(self.show, info.time, info.index, info.values, self._cue())

    def release(self) -> None:
        self.log.close()


class PerfLogHook:
    """The performance log of an offline render (engine.offline's frame hooks)."""

    def __init__(self, perflog: PerfLog, cue=lambda: ""):
        self.log = perflog
        self._cue = cue

    def before_frame(self, show, ft) -> None:
        pass

    def after_frame(self, show, ft, values) -> None:
        self.log.observe_show(show, ft.time, ft.index, values, self._cue())

    def close(self) -> None:
        self.log.close()


def open_perflog(
    log_arg: Path | None, kind: str, *, preset: Path | None, setlist: Path | None, **meta
) -> PerfLog:
    """The show's performance log: `--log FILE`, else a new file in the show folder's logs/; its path is
    printed as the show starts, so the operator knows where the credits sheet will come from."""
    path = log_arg or default_log_path(kind, setlist, preset)
    perflog = PerfLog(path, kind, preset=preset, setlist=setlist, **meta)
    log.info("performance log: %s", path)
    return perflog
