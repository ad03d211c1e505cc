from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.commands.common import parse_size, positive

HELP = "prepare AI clips for the show: conform, loop, stretch, deflicker, describe, encode to HAP .mov"


def add_arguments(p) -> None:
    p.add_argument(
        "sources",
        nargs="+",
        type=Path,
        help="clip files and/or folders (a folder of images is one clip); with --convert: clip folders",
    )
    p.add_argument("--out", type=Path, help="clip folder to write (HAP .mov files + clips.json)")
    p.add_argument(
        "--convert",
        action="store_true",
        help="convert the .hlclip files of clip folders made by earlier versions to HAP .mov, in place, "
        "losslessly, keeping clips.json (no --out)",
    )
    p.add_argument("--size", type=parse_size, default=(1280, 720), help="show size WIDTHxHEIGHT (1280x720)")
    p.add_argument("--fps", type=positive(float), default=30.0, help="show frame rate (30)")
    p.add_argument(
        "--policy",
        choices=("fill", "fit", "crop"),
        default="fill",
        help="fill: scale to cover and crop (default); fit: letterbox; crop: no scaling",
    )
    p.add_argument(
        "--deflicker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="even out frame-to-frame brightness pumping; strobes and flashes are kept (default: on)",
    )
    p.add_argument(
        "--codec",
        choices=("hap", "hap-alpha", "hap-q", "auto"),
        default="auto",
        help="HAP (DXT1), HAP Alpha (DXT5), HAP Q (YCoCg DXT5); auto: alpha when the source has it, "
        "HAP Q for high-detail material, else HAP (default)",
    )
    p.add_argument(
        "--encoder",
        choices=("auto", "etcpak", "quicktex", "torch"),
        default="auto",
        help="block compressor: etcpak (fast), quicktex (~3 dB better, ~20x slower), torch (the DXT1 "
        "encoder of earlier versions); auto (default): quicktex for HAP Q, etcpak otherwise",
    )
    p.add_argument(
        "--stretch",
        type=positive(float),
        metavar="BEATS",
        help="each clip spans BEATS beats: add motion-interpolated in-betweens so no frame repeats "
        "(remembered for the folder)",
    )
    p.add_argument("--bpm", type=positive(float), default=120.0, help="tempo the stretch is made for (120)")


def convert(args) -> int:
    from engine.clips.convert import convert_folder

    failed = converted = 0
    for folder in args.sources:
        for result in convert_folder(folder):
            if result.status == "failed":
                failed += 1
                print(f"halation: error: {result.message}", file=sys.stderr)
            else:
                converted += result.status == "converted"
                print(f"{folder / result.path.name}: {result.message}")
    print(f"{converted} converted, {failed} failed; clips.json now names the .mov files")
    return 1 if failed else 0


def run(args) -> int:
    from engine.errors import HalationError

    if args.convert:
        if args.out is not None:
            raise HalationError("--convert works in place: leave out --out")
        return convert(args)
    if args.out is None:
        raise HalationError("prepare needs --out FOLDER (where the HAP .mov files and clips.json go)")
    from tqdm import tqdm

    try:
        import torch  # noqa: F401
    except ImportError:
        raise HalationError("prepare needs torch: pip install 'halation[prepare]'") from None

    from engine.clips.prepare import PrepareSettings, find_sources, prepare

    sources = find_sources(args.sources)
    settings = PrepareSettings(
        tuple(args.size),
        float(args.fps),
        args.policy,
        args.deflicker,
        args.codec,
        args.encoder,
        args.stretch,
        args.bpm,
    )
    with tqdm(total=len(sources), unit="clip", desc="prepare", disable=None, file=sys.stderr) as bar:
        outcomes = prepare(sources, args.out, settings, progress=bar)
    for o in outcomes:
        if o.status == "failed":
            print(f"halation: error: {o.message}", file=sys.stderr)
        elif o.status == "prepared":
            print(o.summary)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("prepared", "skipped", "failed")}
    print(
        f"{counts['prepared']} prepared, {counts['skipped']} unchanged, {counts['failed']} failed → "
        f"{args.out / 'clips.json'}"
    )
    return 1 if counts["failed"] else 0
