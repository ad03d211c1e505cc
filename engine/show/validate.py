"""`halation check`: compile and render every shader, load every preset and render the shaders it uses,
report one line per failure (file:line: message)."""

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
    checked: dict[Path, str | None] = {}  # shader → its failure line, so each is rendered once

    def shader_failure(shader: Path, thumb: Path | None = None) -> str | None:
        nonlocal ctx
        key = shader.resolve()
        if key not in checked or thumb is not None:
            ctx = ctx or headless_context()
            error = check_shader(ctx, shader, thumb=thumb)
            checked[key] = None if error is None else (str(error) if error.path else f"{shader}: {error}")
        return checked[key]

    for path in expand(paths):
        total += 1
        if not path.exists():
            failures.append(f"{path}: not found")
            continue
        try:
            if path.suffix == ".toml":
                preset = load_preset(path)
                shaders = [layer.shader.path for layer in preset.layers]
                if preset.transition is not None:
                    shaders.append(preset.transition.path)
                for failure in filter(None, (shader_failure(s) for s in dict.fromkeys(shaders))):
                    failures.append(f"{failure} (used by {path})")
            elif path.suffix == ".fs":
                thumb = thumbs / f"{path.stem}.png" if thumbs else None
                if thumbs:
                    thumbs.mkdir(parents=True, exist_ok=True)
                failure = shader_failure(path, thumb)
                if failure is not None:
                    failures.append(failure)
            else:
                failures.append(f"{path}: not a shader (.fs) or preset (.toml)")
        except HalationError as exc:
            failures.append(str(exc) if exc.path else f"{path}: {exc}")
    if ctx is not None:
        ctx.release()
    return failures, total
