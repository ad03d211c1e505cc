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

from engine.errors import PresetError
from engine.show.tomlpos import locate, read_toml


@dataclass(frozen=True)
class Cue:
    number: int  # 1-based, as desks count
    name: str
    preset: Path


@dataclass
class Setlist:
    cues: tuple[Cue, ...]
    current: int = -1  # index of the cue running now (-1: none yet)

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


def load_setlist(path: str | Path) -> Setlist:
    path, text, data = read_toml(path, "setlist")
    cues = []
    for i, raw in enumerate(data.get("cue", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("preset"), str):
            raise PresetError(
                'each [[cue]] needs preset = "file.toml"', path=path, line=locate(text, ("cue", i))
            )
        preset = (path.parent / raw["preset"]).resolve()
        if not preset.is_file():
            raise PresetError(
                f"preset '{raw['preset']}' not found", path=path, line=locate(text, ("cue", i, "preset"))
            )
        cues.append(Cue(i + 1, str(raw.get("name", preset.stem)), preset))
    if not cues:
        raise PresetError("no [[cue]] entries", path=path)
    return Setlist(tuple(cues))
