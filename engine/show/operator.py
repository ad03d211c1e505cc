"""The operator's actions on a running show: go / back / go to a cue, recall a preset, save a snapshot,
load a clip on a deck, fire a crossfade. Control surfaces queue them; the render thread applies them
between frames. A failed action is logged and the show goes on as it was."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from engine.errors import HalationError
from engine.params.tempo import setup_of
from engine.paths import PRESETS_DIR
from engine.show.preset import load_preset
from engine.show.setlist import Setlist

log = logging.getLogger(__name__)


class Operator:
    def __init__(self, show, setlist: Setlist | None = None, snapshots: Path | None = None):
        self.show = show
        self.setlist = setlist
        self.snapshots = snapshots or show.preset.path.parent / "snapshots"
        self.cue_name = ""

    def apply(self, action: str, args: tuple = ()) -> bool:
        """Do one action; False (and a log line) when it could not be done."""
        handler = getattr(self, "_" + action.replace(".", "_"), None)
        if handler is None:
            log.warning("unknown action '%s'", action)
            return False
        try:
            return bool(handler(*args))
        except HalationError as exc:
            log.error("%s: %s (the show goes on unchanged)", action, exc)
            return False

    # --- cues and presets ------------------------------------------------------------------------

    def _run_cue(self, cue) -> bool:
        if cue is None:
            return False
        self.show.recall(load_preset(cue.preset))
        self.cue_name = f"{cue.number} {cue.name}"
        log.info("cue %s", self.cue_name)
        return True

    def _need_setlist(self) -> Setlist:
        if self.setlist is None:
            raise HalationError("no setlist loaded (perform --setlist FILE)")
        return self.setlist

    def _cue_go(self) -> bool:
        return self._run_cue(self._need_setlist().go())

    def _cue_back(self) -> bool:
        return self._run_cue(self._need_setlist().back())

    def _cue_goto(self, ref) -> bool:
        return self._run_cue(self._need_setlist().find(ref))

    def find_preset(self, ref: str | float) -> Path | None:
        """A preset by setlist number, file stem or `name`, next to the current preset, in the snapshots
        or among the shipped presets."""
        text = str(ref).strip()
        if self.setlist is not None and text.replace(".", "", 1).isdigit():
            cue = self.setlist.find(text)
            if cue is not None:
                return cue.preset
        folders = [self.show.preset.path.parent, self.snapshots, PRESETS_DIR]
        candidates = [p for f in folders if f.is_dir() for p in sorted(f.rglob("*.toml"))]
        for path in candidates:
            if path.stem.lower() == text.lower():
                return path
        for path in candidates:
            try:
                if str(tomllib.loads(path.read_text()).get("name", "")).lower() == text.lower():
                    return path
            except (tomllib.TOMLDecodeError, OSError):
                continue
        return None

    def _preset_recall(self, ref) -> bool:
        path = self.find_preset(ref)
        if path is None:
            raise HalationError(f"no preset named '{ref}'")
        self.show.recall(load_preset(path))
        log.info("preset %s", path)
        return True

    def _snapshot_save(self, name=None) -> bool:
        path = save_snapshot(self.show, self.snapshots, str(name) if name else None)
        log.info("snapshot saved: %s", path)
        return True

    # --- clips ------------------------------------------------------------------------------------

    def _deck_select(self, deck, ref) -> bool:
        if not self.show.pipeline.clips.select(str(deck), ref):
            raise HalationError(f"no clip '{ref}' for deck {deck}")
        return True

    def _transition_fire(self) -> bool:
        self.show.pipeline.clips.fire()
        return True

    def _transition_duration(self, seconds) -> bool:
        self.show.pipeline.clips.set_duration(float(seconds))
        return True


def _absolute(base: Path, value: Any) -> Any:
    """A file named in a preset, made absolute so the snapshot works from its own folder."""
    if isinstance(value, str) and (base / value).exists():
        return str((base / value).resolve())
    return value


def save_snapshot(show, folder: Path, name: str | None = None) -> Path:
    """The current look as a preset file: the preset with its inputs, crossfader, master and the song's
    tempo range and bar length set to the values the operator has dialled in now (before the music's
    modulation)."""
    preset = show.preset
    data = tomllib.loads(preset.path.read_text())
    base = show.params.base()
    base_dir = preset.path.parent
    folder.mkdir(parents=True, exist_ok=True)
    existing = {p.stem for p in folder.glob("*.toml")}
    if name is None:
        n = 1
        while f"snapshot-{n}" in existing:
            n += 1
        name = f"snapshot-{n}"
    data["name"] = name

    def inputs_of(layer: str, table: dict) -> dict:
        values = dict(table.get("inputs", {}))
        for key, value in base.items():
            if key.startswith(layer + ".") and key.count(".") == 1 and not key.endswith(".mix"):
                values[key.split(".", 1)[1]] = list(value) if isinstance(value, tuple) else value
        return values

    shader = data.setdefault("shader", {})
    shader["file"] = str(preset.shader.path)
    shader["inputs"] = inputs_of("shader", shader)
    for effect, layer in zip(data.get("effects", []), preset.effects, strict=False):
        effect["file"] = str(layer.shader.path)
        effect["inputs"] = inputs_of(layer.name, effect)
        if f"{layer.name}.mix" in base:
            effect["mix"] = base[f"{layer.name}.mix"]
    clips = data.setdefault("clips", {})
    for key in ("a", "b", "bank"):
        if key in clips:
            clips[key] = _absolute(base_dir, clips[key])
    if preset.transition is not None:
        clips["transition"] = str(preset.transition.path)
    clips["crossfade"] = base.get("clips.crossfade", 0.0)
    data.setdefault("master", {})["level"] = base.get("master.level", 1.0)
    try:
        setup = setup_of(base)  # the range and bar length the desk set
    except ValueError:
        setup = None  # not a valid setup (the clock refused it too): the preset's table stays
    if setup is not None:
        data["tempo"] = {"range": [setup.min_bpm, setup.max_bpm], "beats_per_bar": setup.beats_per_bar}
    path = folder / f"{name}.toml"
    path.write_text(f"# Snapshot of '{preset.name}' ({preset.path})\n" + tomli_w.dumps(data))
    return path
