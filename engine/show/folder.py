"""Where a show's files live: the show folder (setlist, presets, clip banks, stage and alias files side by
side) is what a user copies to the gig laptop. Snapshots and logs are written inside it, never into the
installed package, and always atomically, so a full disk or a pulled plug never leaves half a preset.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from engine.errors import HalationError
from engine.paths import ROOT

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}")


def user_folder() -> Path:
    """For a show started from a shipped preset: the user's own data folder, not the package."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "halation"


def show_folder(setlist_path: Path | None, preset_path: Path) -> Path:
    """The setlist's folder, else the preset's, unless that is inside the installed package."""
    folder = (setlist_path or preset_path).resolve().parent
    return user_folder() if folder.is_relative_to(ROOT) else folder


def safe_name(name: str) -> str:
    """A file name a desk may choose: letters, digits, space, _ - . ; no folders, no '..'."""
    text = str(name).strip()
    if text.endswith(".toml"):
        text = text[: -len(".toml")]
    if not _SAFE_NAME.fullmatch(text) or ".." in text:
        raise HalationError(
            f"'{name}' is not a usable name: use letters, digits, spaces, '-', '_' (no folders), up to 64"
        )
    return text


def write_atomically(path: Path, text: str) -> Path | None:
    """Write `path` whole or not at all (temp file + fsync + rename); an existing file is kept as
    `<name>.bak`. Returns the backup's path, if any. Any failure leaves what was there untouched."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise HalationError(f"cannot write in {folder}: {exc.strerror}; nothing was changed") from None
    backup = None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            shutil.copy2(path, backup)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HalationError(f"cannot write {path}: {exc.strerror}; nothing was changed") from None
    return backup
