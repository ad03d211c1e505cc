"""Render the moving thumbnails of the shipped presets (docs/thumbs/presets/<name>.webp).

Each is ~3 s of the built-in demo song around its drop (the end of the breakdown's snare roll into the
first bars of the drop), rendered by `halation render` and assembled with Pillow:

    nice -n 10 .venv/bin/python docs/thumbs/presets/render.py [PRESET.toml ...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().parent
SIZE, FPS = "160x90", 10
START, SECONDS = 37.7, 3.0  # the demo song's drop starts at 38.7 s (bar 20 at 124 BPM)
LIMIT = 300_000  # bytes per thumbnail


def thumbnail(preset: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [str(ROOT / ".venv/bin/halation"), "render", "--preset", str(preset), "--size", SIZE, "--fps",
             str(FPS), "--duration", str(START + SECONDS), "--frames", tmp, "--log", f"{tmp}/log.jsonl"],
            check=True, capture_output=True,
        )
        names = sorted(Path(tmp).glob("*.png"))[round(START * FPS):]
        frames = [Image.open(p).convert("RGB") for p in names]
        out = OUT / f"{preset.stem}.webp"
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=1000 // FPS, loop=0,
                       quality=70, method=6)
    if out.stat().st_size > LIMIT:
        raise SystemExit(f"{out}: {out.stat().st_size} bytes, over {LIMIT}")
    return out


def main(args: list[str]) -> None:
    presets = [Path(a) for a in args] or sorted((ROOT / "presets").rglob("*.toml"))
    for preset in presets:
        if "[[cue]]" in preset.read_text():
            continue  # a setlist, not a preset
        out = thumbnail(preset)
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
