"""Find the line where a TOML key path is written, so preset errors can name it (tomllib keeps none)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from engine.errors import PresetError

_ARRAY = re.compile(r"^\[\[\s*([\w.\-]+)\s*\]\]")
_TABLE = re.compile(r"^\[\s*([\w.\-]+)\s*\]")
_KEY = re.compile(r"^([\w\-]+(?:\s*\.\s*[\w\-]+)*)\s*=")

Key = str | int


def _split(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in dotted.split("."))


def locate(text: str, keys: tuple[Key, ...]) -> int | None:
    """1-based line of `keys` (e.g. ("modulate", 1, "source")), else of its nearest enclosing table/key."""
    arrays: dict[tuple[str, ...], int] = {}
    header: tuple[Key, ...] = ()
    best: tuple[int, int] | None = None  # (matched depth, line)

    def consider(path: tuple[Key, ...], line: int) -> None:
        nonlocal best
        if path and path == keys[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), line)

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _ARRAY.match(line):
            name = _split(m[1])
            arrays[name] = arrays.get(name, -1) + 1
            header = (*name, arrays[name])
            consider(header, number)
        elif m := _TABLE.match(line):
            header = _split(m[1])
            consider(header, number)
        elif m := _KEY.match(line):
            consider((*header, *_split(m[1])), number)
    return best[1] if best else None


def read_toml(path: str | Path, what: str = "preset") -> tuple[Path, str, dict[str, Any]]:
    """(path, text, data) of a show file; a missing file or bad TOML is a PresetError naming its line."""
    path = Path(path)
    if not path.is_file():
        raise PresetError(f"{what} not found: check the path", path=path)
    text = path.read_text(encoding="utf-8")
    try:
        return path, text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts the position only in the message: "... (at line 2, column 8)"
        found = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        message = str(exc)[: found.start()].strip() if found else str(exc)
        raise PresetError(
            f"not valid TOML: {message}", path=path, line=int(found[1]) if found else None
        ) from exc
