"""`halation bench NAME`: the project's benchmarks, one script per NAME in bench/.

Each bench/NAME.py has a docstring (its help), add_arguments(parser) and run(args) -> exit code. Figures are
medians and side-by-side ratios measured in one run, because these machines are shared and noisy.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from engine.errors import HalationError
from engine.paths import ROOT

HELP = "run a benchmark (see `halation bench --help` for the list)"
BENCH_DIR = ROOT / "bench"


def benches() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BENCH_DIR.glob("*.py")) if not p.stem.startswith("_")}


def load(path: Path):
    name = f"halation_bench_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses in a bench look their module up while it loads
    spec.loader.exec_module(module)
    return module


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="bench", metavar="NAME", required=True)
    for name, path in benches().items():
        module = load(path)
        doc = (module.__doc__ or name).strip().splitlines()[0]
        sp = sub.add_parser(name, help=doc, description=module.__doc__)
        module.add_arguments(sp)
        sp.set_defaults(bench_run=module.run)


def run(args) -> int:
    if not hasattr(args, "bench_run"):
        raise HalationError(f"no benchmark given; available: {', '.join(benches()) or 'none'}")
    return args.bench_run(args)
