"""`halation check`: everything a run would touch, checked before doors open.

Shaders are compiled and rendered; presets are loaded with the shaders they use and the clips they play
(opened and one frame decoded); setlists check every cue's preset; stage, alias, fixture and MIDI map
files are read with the loaders the show uses. A folder is a show folder: every file in it is checked.
One line per failure (file:line: message), each reported once however many cues share the file.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from engine.errors import HalationError

KINDS = (".fs", ".toml")


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.suffix in KINDS and p.is_file() and not _generated(p.relative_to(path))
            )
        else:
            yield path


def _generated(relative: Path) -> bool:
    """Backups, logs and snapshots a show writes are not part of what it runs."""
    return relative.name.endswith(".bak") or relative.parts[0] in ("logs", ".halation")


def file_kind(path: Path) -> str:
    """What a .toml of a show folder is, from what it holds (a bad file is read as a preset, whose loader
    names the problem). Remembered while the file is unchanged: a live show asks at every look change
    (the names OSCQuery lists), and parsing every preset there stalled a busy machine's frame by a second."""
    try:
        st = path.stat()
    except OSError:
        return "preset"
    return _kind_of(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4096)
def _kind_of(path: Path, _mtime_ns: int, _size: int) -> str:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "preset"
    if "cue" in data:
        return "setlist"
    if isinstance(data.get("output"), list):
        return "stage"
    for key, kind in (("alias", "alias"), ("channel", "fixture"), ("map", "midi")):
        if key in data and "shader" not in data:
            return kind
    return "preset"


def _message(exc: Exception, path: Path) -> str:
    if isinstance(exc, HalationError):
        return str(exc) if exc.path else f"{path}: {exc}"
    return f"{path}: {type(exc).__name__}: {exc}"


class Checker:
    """Holds the GL context and what was already checked, so a shader or preset used by ten cues is
    rendered once and its failure listed once."""

    def __init__(self, thumbs: Path | None = None):
        self.thumbs = thumbs
        self.failures: list[str] = []
        self._ctx = None
        self._shaders: dict[Path, str | None] = {}
        self._done: set[Path] = set()
        self._clips: dict[Path, str | None] = {}

    def fail(self, line: str) -> None:
        if line not in self.failures:
            self.failures.append(line)

    def release(self) -> None:
        if self._ctx is not None:
            self._ctx.release()

    def check(self, path: Path) -> None:
        if not path.exists():
            self.fail(f"{path}: not found")
            return
        if path.suffix == ".fs":
            self.shader(path, thumb=self.thumbs / f"{path.stem}.png" if self.thumbs else None)
        elif path.suffix == ".toml":
            kind = file_kind(path)
            self.once(path, getattr(self, kind))
        else:
            self.fail(f"{path}: not a shader (.fs) or show file (.toml)")

    def once(self, path: Path, check: Callable[[Path], None]) -> None:
        key = path.resolve()
        if key in self._done:
            return
        self._done.add(key)
        try:
            check(path)
        except Exception as exc:  # one line per file; a checker bug must not hide the other files
            self.fail(_message(exc, path))

    # --- kinds ---------------------------------------------------------------------------------------------

    def shader(self, shader: Path, thumb: Path | None = None, used_by: Path | None = None) -> None:
        from engine.render.check import check_shader
        from engine.render.context import headless_context

        key = shader.resolve()
        if key not in self._shaders or thumb is not None:
            self._ctx = self._ctx or headless_context()
            if thumb is not None:
                thumb.parent.mkdir(parents=True, exist_ok=True)
            error = check_shader(self._ctx, shader, thumb=thumb)
            self._shaders[key] = (
                None if error is None else (str(error) if error.path else f"{shader}: {error}")
            )
        failure = self._shaders[key]
        if failure is not None:
            self.fail(f"{failure} (used by {used_by})" if used_by else failure)

    def preset(self, path: Path) -> None:
        from engine.show.preset import load_preset

        preset = load_preset(path)
        shaders = [layer.shader.path for layer in preset.layers]
        if preset.transition is not None:
            shaders.append(preset.transition.path)
        for shader in dict.fromkeys(shaders):
            self.shader(shader, used_by=path)
        from engine.render.ndi_in import ndi_source

        for clip in preset.clips:
            if ndi_source(clip) is None:  # an NDI feed ("ndi:NAME") is live: nothing on disk to check
                self.clip(clip, path)
        bank = preset.clip_settings.bank
        if bank is not None:
            self.bank(bank, path)

    def setlist(self, path: Path) -> None:
        from engine.show.setlist import load_setlist

        for cue in load_setlist(path).cues:
            before = len(self.failures)
            self.once(cue.preset, self.preset)
            for i in range(before, len(self.failures)):
                self.failures[i] += f" (cue {cue.number} '{cue.name}' of {path})"

    def stage(self, path: Path) -> None:
        from engine.output.stage import load_stage

        load_stage(path)

    def alias(self, path: Path) -> None:
        from engine.control.aliases import load_aliases

        load_aliases(path)

    def fixture(self, path: Path) -> None:
        from engine.control.fixture import load_fixture

        load_fixture(path)

    def midi(self, path: Path) -> None:
        from engine.control.midi_map import MidiMap

        MidiMap.load(path)

    # --- clips ---------------------------------------------------------------------------------------------

    def clip(self, clip: Path, used_by: Path) -> None:
        """A clip is present and one frame of it decodes."""
        key = clip.resolve()
        if key not in self._clips:
            self._clips[key] = _clip_failure(clip)
        if self._clips[key] is not None:
            self.fail(f"{self._clips[key]} (used by {used_by})")

    def bank(self, folder: Path, used_by: Path) -> None:
        from engine.clips.manifest import load_manifest

        manifest = load_manifest(folder)
        if not manifest.clips:
            self.fail(
                f"{folder}: no clips in the bank: run `halation prepare SRC --out {folder}` ({used_by})"
            )
        for entry in manifest.clips.values():
            self.clip(folder / entry.file, used_by)


def _clip_failure(clip: Path) -> str | None:
    from engine.clips.sources import open_source

    try:
        source = open_source(clip)
        try:
            source.read(0)
        finally:
            source.close()
    except Exception as exc:  # whatever a damaged file raises, the show would skip it: say so now
        return _message(exc, clip) if isinstance(exc, HalationError) else f"{clip}: unreadable clip ({exc})"
    return None


def check_paths(paths: Iterable[Path], thumbs: Path | None = None) -> tuple[list[str], int]:
    """(failure lines "file:line: message", number of files checked)."""
    checker = Checker(thumbs)
    total = 0
    try:
        for path in expand(paths):
            total += 1
            checker.check(path)
    finally:
        checker.release()
    return checker.failures, total
