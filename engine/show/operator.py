"""The operator's actions on a running show: go / back / go to a cue, recall a preset, save a snapshot,
load a clip on a deck, fire a crossfade. Control surfaces queue them; the render thread applies them
between frames. A failed action is logged and the show goes on as it was."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import tomli_w

from engine.errors import HalationError
from engine.params.tempo import setup_of
from engine.paths import PRESETS_DIR
from engine.show.folder import safe_name, show_folder, write_atomically
from engine.show.morph import parse_morph
from engine.show.notices import Notices
from engine.show.preset import load_preset
from engine.show.setlist import Setlist
from engine.show.tomlpos import close_to, read_toml
from engine.show.validate import file_kind

log = logging.getLogger(__name__)
PREWARM_DELAY = 0.5  # s after a cue's look is on before the next cue is warmed (not in its change's frames)
LOOK_ACTIONS = ("cue.go", "cue.back", "cue.goto", "preset.recall")  # actions that build a new look


class Operator:
    """Applies operator actions between frames. Every action that fails or does nothing is reported when it
    happens (`notices`: console, preview banner, /hl/status/error); nothing an action raises ends the show."""

    def __init__(
        self,
        show,
        setlist: Setlist | None = None,
        snapshots: Path | None = None,
        notices: Notices | None = None,
    ):
        self.show = show
        self.setlist = setlist
        self.folder = show_folder(setlist.path if setlist else None, show.preset.path)
        self.snapshots = snapshots or self.folder / "snapshots"
        self.notices = notices or Notices()
        self.cue_name = ""  # the cue whose look is on screen
        self._pending: tuple[str, Path] | None = None  # a cue whose look is being built aside
        self._refused = None
        self._checked = None  # the look last compared with the pending cue (see _on_screen)
        self._prewarm_at: float | None = None  # when to warm the next cue (monotonic; see settle)

    def apply(self, action: str, args: tuple = ()) -> bool:
        """Do one action; False (and a notice) when it could not be done."""
        handler = getattr(self, "_" + action.replace(".", "_"), None)
        if handler is None:
            self.notices.error(f"unknown action '{action}'")
            return False
        try:
            return bool(handler(*(_plain(a) for a in args)))
        except HalationError as exc:
            self.notices.error(f"{action}: {exc} (the show goes on unchanged)")
        except Exception as exc:  # a bug or a value nobody foresaw must not end the show
            log.debug("action %s%r failed", action, args, exc_info=True)
            self.notices.error(f"{action}: failed ({type(exc).__name__}: {exc}); the show goes on")
        return False

    def apply_all(self, commands) -> int:
        """A frame's commands in order, with bursts coalesced: of several looks asked for in one frame only
        the last is built (cue go ×3 still moves three cues on), so a hundred recalls cost what one does."""
        looks = [i for i, c in enumerate(commands) if c.action in LOOK_ACTIONS]
        done = 0
        for i, command in enumerate(commands):
            if i in looks[:-1]:
                done += self._navigate_only(command)
            else:
                done += self.apply(command.action, command.args)
        return done

    def _navigate_only(self, command) -> bool:
        """Move the setlist's position as the command would, without building a look nobody will see."""
        if command.action == "preset.recall":  # built only if it is the frame's last; a bad name still said
            found = bool(command.args) and self.find_preset(_plain(command.args[0])) is not None
            if not found:
                self.notices.error(
                    f"preset.recall: no preset named '{_plain(command.args[0]) if command.args else ''}'"
                )
            return found
        setlist = self.setlist
        if setlist is None:
            return False
        moved = {"cue.go": setlist.go, "cue.back": setlist.back}.get(command.action)
        cue = moved() if moved else setlist.find(*command.args[:1]) if command.args else None
        return cue is not None

    def status(self) -> dict[str, str]:
        """What a desk shows about the show: the cue running, the next one and the preset on screen."""
        setlist = self.setlist
        nxt = setlist.next if setlist else None
        return {
            "cue": self.cue_name,
            "cue_next": f"{nxt.number} {nxt.name}" if nxt else "",
            "preset": self.show.preset.name,
        }

    def choices(self) -> dict[str, list[str]]:
        """The names the name-taking actions accept now (OSCQuery lists them as RANGE VALS)."""
        cues = [c.name for c in self.setlist.cues] if self.setlist else []
        presets = sorted({p.stem for p in self._preset_files()})
        clips = self.show.pipeline.clips
        names = clips.names() if hasattr(clips, "names") else []
        decks = {f"deck.{d.name}": names for d in getattr(clips, "decks", ())}
        return {"cue.goto": cues, "preset.recall": presets, **decks}

    # --- cues and presets ------------------------------------------------------------------------

    def _bring_in(self, path: Path) -> None:
        """Load a look and hand it to the show, which builds it aside (live) and adopts it at a frame
        boundary; it stays on the old look if the new one fails."""
        self.show.request(load_preset(path))

    def _run_cue(self, cue, moved: str, morph=None) -> bool:
        if cue is None:
            raise HalationError(moved)
        text = cue.morph if morph in (None, "") else morph  # the desk's time for this GO wins
        self.show.morph_plan = parse_morph(text, cue.quantize) if text not in (None, "") else None
        self._bring_in(cue.preset)
        self._pending = (f"{cue.number} {cue.name}", cue.preset.resolve())
        self._checked = None  # the look on screen may already be this cue's
        self.settle(adopted=False)  # a show that recalls at once has the look already
        return True

    def settle(self, adopted: bool = False) -> None:
        """After the loop tried to adopt a look built aside: the cue is the one on screen once its look
        is, and a look that was refused is reported as the cue's failure (the old look stays)."""
        error = getattr(self.show, "look_error", None)
        if error is not None and error is not self._refused:
            self._refused = error
            if self._pending is not None:
                self.notices.error(
                    f"cue {self._pending[0]}: refused ({error}); still showing {self.cue_name}"
                )
                self._pending = None
        preset = self.show.preset
        if self._pending is not None and preset is not self._checked and self._on_screen(preset):
            self.cue_name = self._pending[0]
            self._pending = None
            log.info("cue %s", self.cue_name)
            # not now: reading and describing the next cue's preset took 2-4 ms of the very frame that
            # first draws this look (bench cues: that frame's render thread 2-3x a frame of the look)
            self._prewarm_at = time.monotonic() + PREWARM_DELAY
        if self._prewarm_at is not None and time.monotonic() >= self._prewarm_at and self._pending is None:
            self._prewarm_at = None
            self._prewarm_next()

    def _on_screen(self, preset) -> bool:
        """Whether the pending cue's look is the one on screen. Asked once per look, not per frame: a
        path's resolve() goes to the file system, and under a busy disk one took 1 s on the render thread
        (a soak's only stall)."""
        self._checked = preset
        return preset.path.resolve() == self._pending[1]

    def _prewarm_next(self) -> None:
        """Warm the next cue's look while this one plays, so GO brings it in at the next frame."""
        upcoming = self.setlist.next if self.setlist else None
        if upcoming is not None and hasattr(self.show, "prewarm"):
            with contextlib.suppress(HalationError):  # a broken next cue is reported when it is fired
                self.show.prewarm(load_preset(upcoming.preset))

    def _need_setlist(self) -> Setlist:
        if self.setlist is None:
            raise HalationError("no setlist loaded (perform --setlist FILE)")
        return self.setlist

    def _cue_go(self, morph=None) -> bool:
        setlist = self._need_setlist()
        last = setlist.running
        return self._run_cue(
            setlist.go(), f"no cue after {last.number} '{last.name}', the last" if last else "", morph
        )

    def _cue_back(self) -> bool:
        return self._run_cue(self._need_setlist().back(), "already at the first cue")

    def _cue_goto(self, ref) -> bool:
        setlist = self._need_setlist()
        cue = setlist.find(ref)
        names = ", ".join(f"{c.number} {c.name}" for c in setlist.cues)
        return self._run_cue(
            cue,
            f"no cue '{ref}' in the setlist{close_to(ref, [c.name for c in setlist.cues])} (cues: {names})",
        )

    def _preset_files(self) -> list[Path]:
        """Where recall by name looks: the setlist's presets, the show folder, the current preset's
        folder, the snapshots, then the shipped presets."""
        cue_files = [c.preset for c in self.setlist.cues] if self.setlist else []
        folders = [self.folder, self.show.preset.path.parent, self.snapshots, PRESETS_DIR]
        found = [*cue_files]
        for folder in dict.fromkeys(f.resolve() for f in folders if f.is_dir()):
            found += sorted(p for p in folder.rglob("*.toml") if file_kind(p) == "preset")
        return list(dict.fromkeys(found))

    def find_preset(self, ref: str | float) -> Path | None:
        """A preset by setlist number, file stem or `name`."""
        text = str(ref).strip()
        if self.setlist is not None and text.replace(".", "", 1).isdigit():
            cue = next((c for c in self.setlist.cues if str(c.number) == text.split(".")[0]), None)
            if cue is not None:
                return cue.preset
        candidates = self._preset_files()
        for path in candidates:
            if path.stem.lower() == text.lower():
                return path
        for path in candidates:
            try:
                if str(read_toml(path)[2].get("name", "")).lower() == text.lower():
                    return path
            except HalationError:
                continue
        return None

    def _preset_recall(self, ref) -> bool:
        path = self.find_preset(ref)
        if path is None:
            hint = close_to(ref, [p.stem for p in self._preset_files()])
            raise HalationError(
                f"no preset named '{ref}'{hint} in the setlist, {self.folder} or the shipped presets"
            )
        self._bring_in(path)
        log.info("preset %s", path)
        return True

    def _snapshot_save(self, name=None) -> bool:
        path = save_snapshot(self.show, self.snapshots, safe_name(name) if name else None)
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
        seconds = float(seconds)
        if not 0.0 <= seconds <= 600.0:
            raise HalationError(f"a crossfade of {seconds} s: give 0..600 seconds")
        self.show.pipeline.clips.set_duration(seconds)
        return True


def _plain(arg: Any) -> Any:
    """A desk's "3" arrives as 3.0: a whole number reads as one ("3", not "3.0"), as the operator typed it."""
    if isinstance(arg, float) and arg.is_integer() and abs(arg) < 1e15:
        return int(arg)
    return arg


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
    data = read_toml(preset.path)[2]  # a preset deleted or broken under the show: one clear error
    base = show.params.base()
    base_dir = preset.path.parent
    existing = {p.stem for p in folder.glob("*.toml")} if folder.is_dir() else set()
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
    write_atomically(path, f"# Snapshot of '{preset.name}' ({preset.path})\n" + tomli_w.dumps(data))
    return path
