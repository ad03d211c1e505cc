"""The stage options shared by `perform`, `rehearse` and `render`: --stage FILE and --flash-limit."""

from __future__ import annotations

import logging
from pathlib import Path

from engine.output.flash import NOTICE
from engine.output.stage import FLASH_LIMITS, Stage, default_stage, load_stage

log = logging.getLogger("halation")


def add_stage_arguments(p) -> None:
    p.add_argument(
        "--stage",
        type=Path,
        metavar="FILE",
        help="stage .toml: the venue's outputs (size, fit, region, keystone, mesh, blend, masks)",
    )
    p.add_argument(
        "--flash-limit",
        choices=FLASH_LIMITS,
        help="flash-safety limiter: standard (3 flashes/s over 25 %% of the frame; the default), "
        "strict (20 %%), or off; overrides the stage file's [safety] flash_limit",
    )


def resolve_stage(args, size: tuple[int, int]) -> tuple[Stage, str]:
    """The stage (the file, or one plain output at the render size) and the flash limit in force; a limit
    other than standard is logged with who set it, since it changes what the audience is protected from."""
    path = getattr(args, "stage", None)
    monitor = getattr(args, "monitor", None)  # without a stage file: the one output goes on --monitor
    stage = load_stage(path) if path is not None else default_stage(size, monitor)
    flag = getattr(args, "flash_limit", None)
    limit = flag or stage.flash_limit
    if limit != "standard":
        source = "--flash-limit" if flag else f"{stage.path} [safety] flash_limit"
        log.warning("%s (set by %s)", NOTICE[limit], source)
    return stage, limit
