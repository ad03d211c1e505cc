"""`halation credits LOG…`: the AI-use disclosure sheet festivals and labels ask for, from the logs."""

from __future__ import annotations

from pathlib import Path

HELP = "AI-use disclosure sheet from performance logs: AI clips, time on screen, shaders and credits"


def add_arguments(p) -> None:
    p.add_argument("logs", nargs="+", type=Path, metavar="LOG", help="performance logs (.jsonl, from logs/)")
    p.add_argument("--format", choices=("md", "csv", "json"), default="md", help="output format (md)")
    p.add_argument("--out", type=Path, help="write the sheet to this file instead of printing it")


def run(args) -> int:
    from engine.show.credits import FORMATS, read_logs

    text = FORMATS[args.format](read_logs(args.logs))
    if args.out is not None:
        args.out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(args.out)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0
