"""Find the line where a TOML key path is written, so preset errors can name it (tomllib keeps none)."""

from __future__ import annotations

import difflib
import math
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


def _in_element(name: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> tuple[Key, ...]:
    """A table name with the index of the array element it belongs to: ("output", "blend") after the
    second [[output]] is ("output", 1, "blend")."""
    for k in range(len(name) - 1, 0, -1):
        if name[:k] in arrays:
            return (*_in_element(name[:k], arrays), arrays[name[:k]], *name[k:])
    return name


def locate(text: str, keys: tuple[Key, ...]) -> int | None:
    """1-based line of `keys` (e.g. ("modulate", 1, "source")), else of its nearest enclosing table/key."""
    arrays: dict[tuple[str, ...], int] = {}  # each array of tables: the index of its current element
    counts: dict[tuple[Key, ...], int] = {}  # elements seen, per array within its parent element
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
            path = _in_element(name, arrays)  # [[output.mask]]: a mask of the current [[output]]
            counts[path] = counts.get(path, -1) + 1
            arrays[name] = counts[path]
            header = (*path, counts[path])
            consider(header, number)
        elif m := _TABLE.match(line):
            header = _in_element(_split(m[1]), arrays)  # [output.blend]: of the current [[output]]
            consider(header, number)
        elif m := _KEY.match(line):
            consider((*header, *_split(m[1])), number)
    return best[1] if best else None


def read_toml(path: str | Path, what: str = "preset") -> tuple[Path, str, dict[str, Any]]:
    """(path, text, data) of a show file; a missing file or bad TOML is a PresetError naming its line."""
    path = Path(path)
    if not path.is_file():
        raise PresetError(f"{what} not found: check the path", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise PresetError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save the file as UTF-8",
            path=path,
            line=line,
        ) from None
    except OSError as exc:
        raise PresetError(f"cannot read the {what}: {exc.strerror}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts the position only in the message: "... (at line 2, column 8)"
        found = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        message = str(exc)[: found.start()].strip() if found else str(exc)
        raise PresetError(
            f"not valid TOML: {message}", path=path, line=int(found[1]) if found else None
        ) from exc
    bad = first_non_finite(data)
    if bad is not None:
        name = next((k for k in reversed(bad) if isinstance(k, str)), "value")
        raise PresetError(
            f"'{name}' is not a finite number: give a number", path=path, line=locate(text, bad)
        )
    return path, text, data


def close_to(word: str, choices) -> str:
    """' (did you mean 'x'?)' for a near miss among `choices`, else ''."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def unknown_key_error(
    path: Path, text: str, table: dict, allowed, keys: tuple[Key, ...], where: str
) -> PresetError | None:
    """The error for the first key of `table` that is not in `allowed`, at its line, with a hint."""
    unknown = sorted(set(table) - set(allowed))
    if not unknown:
        return None
    key = unknown[0]
    hint = close_to(key, allowed) or f" (expected: {', '.join(sorted(allowed))})"
    return PresetError(f"unknown key '{key}' in {where}{hint}", path=path, line=locate(text, (*keys, key)))


def first_non_finite(value: Any, keys: tuple[Key, ...] = ()) -> tuple[Key, ...] | None:
    """The key path of the first nan/inf number anywhere in parsed TOML (TOML allows them; a show never
    wants them: they render black)."""
    if isinstance(value, float) and not math.isfinite(value):
        return keys
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = first_non_finite(item, (*keys, key))
        if found is not None:
            return found
    return None
