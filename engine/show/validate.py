"""`halation check`: compile and render every shader, load every preset, report one line per failure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from engine.errors import HalationError

KINDS = (".fs", ".toml")


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in KINDS and p.is_file())
        else:
            yield path


def check_paths(paths: Iterable[Path], thumbs: Path | None = None) -> tuple[list[str], int]:
    """(failure lines "file:line: message", number of files checked)."""
    from engine.render.check import check_shader
    from engine.render.context import headless_context
    from engine.show.preset import load_preset

    failures: list[str] = []
    ctx = None
    total = 0
    for path in expand(paths):
        total += 1
        if not path.exists():
            failures.append(f"{path}: not found")
            continue
        try:
            if path.suffix == ".toml":
                load_preset(path)
            elif path.suffix == ".fs":
                ctx = ctx or headless_context()
                thumb = thumbs / f"{path.stem}.png" if thumbs else None
                if thumbs:
                    thumbs.mkdir(parents=True, exist_ok=True)
                error = check_shader(ctx, path, thumb=thumb)
                if error is not None:
                    raise error
            else:
                failures.append(f"{path}: not a shader (.fs) or preset (.toml)")
        except HalationError as exc:
            failures.append(str(exc) if exc.path else f"{path}: {exc}")
    if ctx is not None:
        ctx.release()
    return failures, total
