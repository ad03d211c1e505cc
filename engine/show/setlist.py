"""A setlist: the show's cues in order, each recalling a preset. Operators (or the lighting desk) step
through it with go / back / go to cue by number or name.

    [[cue]]
    name = "Intro"
    preset = "presets/demo/demo.toml"   # relative to the setlist
    [[cue]]
    name = "Drop"
    preset = "drop.toml"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import HalationError, PresetError
from engine.show.morph import parse_morph, transition_file
from engine.show.tomlpos import locate, read_toml, unknown_key_error

SETLIST_KEYS = ("name", "description", "cue")
CUE_KEYS = ("name", "preset", "morph", "quantize", "notes")


@dataclass(frozen=True)
class Cue:
    number: int  # 1-based, as desks count
    name: str
    preset: Path
    morph: str | None = None  # e.g. "4 bars", "2 beats", "3 s": how the look comes in (None: a cut)
    quantize: str | None = None  # when it starts: "now", "beat", "bar", "phrase"
    notes: str = ""


@dataclass
class Setlist:
    cues: tuple[Cue, ...]
    current: int = -1  # index of the cue running now (-1: none yet)
    path: Path | None = None  # the setlist file; its folder is the show folder

    @property
    def running(self) -> Cue | None:
        return self.cues[self.current] if 0 <= self.current < len(self.cues) else None

    @property
    def next(self) -> Cue | None:
        return self.cues[self.current + 1] if self.current + 1 < len(self.cues) else None

    def go(self) -> Cue | None:
        if self.current + 1 < len(self.cues):
            self.current += 1
            return self.cues[self.current]
        return None

    def back(self) -> Cue | None:
        if self.current > 0:
            self.current -= 1
            return self.cues[self.current]
        return None

    def find(self, ref: str | float) -> Cue | None:
        """A cue by 1-based number (3, 3.0, "3") or by name (case-insensitive)."""
        text = str(ref).strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        for i, cue in enumerate(self.cues):
            if (number is not None and cue.number == number) or cue.name.lower() == text.lower():
                self.current = i
                return cue
        return None


def _checked(error: PresetError | None) -> None:
    if error is not None:
        raise error


def _text(raw: dict, key: str, path: Path, text: str, where: tuple) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise PresetError(
            f"'{key}' must be a string, not {value!r}", path=path, line=locate(text, (*where, key))
        )
    return value


def load_setlist(path: str | Path) -> Setlist:
    path, text, data = read_toml(path, "setlist")
    _checked(unknown_key_error(path, text, data, SETLIST_KEYS, (), "the setlist"))
    raw_cues = data.get("cue", [])
    if not isinstance(raw_cues, list):
        raise PresetError("cues are [[cue]] tables", path=path, line=locate(text, ("cue",)))
    cues = []
    for i, raw in enumerate(raw_cues):
        where = ("cue", i)
        if not isinstance(raw, dict) or not isinstance(raw.get("preset"), str):
            raise PresetError('each [[cue]] needs preset = "file.toml"', path=path, line=locate(text, where))
        _checked(unknown_key_error(path, text, raw, CUE_KEYS, where, f"[[cue]] {i + 1}"))
        preset = (path.parent / raw["preset"]).resolve()
        if not preset.is_file():
            raise PresetError(
                f"preset '{raw['preset']}' not found", path=path, line=locate(text, (*where, "preset"))
            )
        name = _text(raw, "name", path, text, where) or preset.stem
        morph = _text(raw, "morph", path, text, where)
        quantize = _text(raw, "quantize", path, text, where)
        if morph is not None or quantize is not None:
            try:
                transition_file(parse_morph(morph or "0 s", quantize).transition)  # "4 bars zoom_blur"
            except HalationError as exc:
                key = "quantize" if exc.message.startswith("quantize") else "morph"
                raise PresetError(exc.message, path=path, line=locate(text, (*where, key))) from None
        notes = _text(raw, "notes", path, text, where) or ""
        cues.append(Cue(i + 1, name, preset, morph, quantize, notes))
    if not cues:
        raise PresetError("no [[cue]] entries", path=path)
    return Setlist(tuple(cues), path=path)
