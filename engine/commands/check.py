from __future__ import annotations

import sys
from pathlib import Path

HELP = "validate shaders (.fs) and presets (.toml): exit 0 only if all are valid"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", type=Path, help="files or folders to check")
    p.add_argument("--thumbs", type=Path, help="write a PNG thumbnail per shader into this folder")


def run(args) -> int:
    from engine.show.validate import check_paths

    failures, total = check_paths(args.paths, thumbs=args.thumbs)
    for failure in failures:
        print(failure)
    print(f"{total} checked, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0
