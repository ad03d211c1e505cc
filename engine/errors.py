"""User-facing errors: one clear line that names the file/option and what to do."""

from __future__ import annotations

from pathlib import Path


class HalationError(Exception):
    """An error the operator can act on; the CLI prints it as one line and exits 1."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return f"{where}{self.message}"


class ShaderError(HalationError):
    """A shader that failed to parse or compile; `line` is a line of the .fs file."""


class PresetError(HalationError):
    """A preset that failed to parse or validate; `line` is a line of the preset file."""


class MediaError(HalationError):
    """An audio or video file that could not be opened or decoded."""
