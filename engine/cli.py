"""The `halation` command: one entry point, one subcommand per job (engine/commands/).

Errors the user can fix are one line naming the file or option (exit 1); usage errors exit 2; a traceback
only with --debug.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from engine import __version__
from engine.commands import COMMANDS
from engine.errors import HalationError
from engine.runtime.resources import runs_a_show, tune_allocator


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given `argv`, only the chosen subcommand's options are built (the others
    keep their one-line help), so a show starts without importing every benchmark."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    chosen = words[0] if words and words[0] in COMMANDS else None
    p = argparse.ArgumentParser(
        prog="halation",
        description="Halation: real-time audio-reactive visuals — shaders and AI clips driven by the music.",
    )
    p.add_argument("--version", action="version", version=f"halation {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"engine.commands.{name}")
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if chosen in (None, name):
            module.add_arguments(sp)
        sp.set_defaults(func=module.run)
    return p


def main(argv: list[str] | None = None) -> int:
    # before anything is allocated: a heap grown under glibc's defaults stays fragmented
    tune_allocator(show=runs_a_show(sys.argv[1:] if argv is None else argv))
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="halation: %(message)s", stream=sys.stderr
    )
    try:
        return args.func(args)
    except HalationError as exc:
        if args.debug:
            raise
        print(f"halation: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"halation: internal error: {type(exc).__name__}: {exc} (run with --debug)", file=sys.stderr)
        return 1
