"""Rehearsal start: seconds from `halation rehearse` being run to its first frame, on a short and a long
track, side by side in one run.

The issue's target is a first frame within 2 s whatever the track's length. Each run starts the real CLI
headless on a track synthesized here and encoded by Debian's ffmpeg (MP3, as a VJ's tracks are), from a third
of the way in (a seek, as `--from` at a drop is), and times the process from spawn to its "showing"
line, which the show prints once its first frame is drawn. Short and long runs alternate, so the load of a
shared machine falls on both alike; the ratio long ÷ short says whether the length costs anything. The
children may write bytecode caches (as an installed Halation does) even where PYTHONDONTWRITEBYTECODE is
set, so a start is timed as a user's second start is, not with every module compiled again.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.paths import DEMO_PRESET, ROOT

TARGET_S = 2.0


def add_arguments(p) -> None:
    p.add_argument("--runs", type=int, default=5, help="starts per track (default 5)")
    p.add_argument("--lengths", default="30,1200", help="track lengths in seconds, a,b (default 30,1200)")
    p.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset to rehearse (default: the demo)")
    p.add_argument("--loop", action="store_true", help="rehearse a looped section (snapped to whole bars)")


def _track(folder: Path, seconds: float) -> Path:
    """An MP3 of the demo song's drum loop, `seconds` long: a short loop synthesized once, repeated by
    ffmpeg (a long track costs the bench seconds, not minutes)."""
    from engine.audio.synth import drum_loop, write_wav

    loop = folder / "loop.wav"
    if not loop.exists():
        write_wav(drum_loop(124.0, 8), loop)  # 15.5 s
    out = folder / f"track-{seconds:g}s.mp3"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(loop), "-t", f"{seconds:g}"),
            *("-c:a", "libmp3lame", "-b:a", "192k", str(out)),
        ],
        check=True,
    )
    return out


def first_frame_seconds(track: Path, start: float, preset: Path, loop: bool) -> float:
    """Spawn to the "showing" line of one headless rehearsal."""
    cmd = [sys.executable, "-m", "engine", "rehearse", str(track), "--preset", str(preset)]
    cmd += ["--from", f"{start:g}", "--headless", "--duration", "0.5", "--no-sound", "--no-zeroconf"]
    if loop:  # the section after `start`: eight bars at 124 BPM
        cmd += ["--to", f"{start + 8 * 240 / 124:.2f}", "--loop"]
    t0 = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    seen = None
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip())
        if seen is None and "showing '" in line:
            seen = time.monotonic() - t0
    proc.wait(timeout=60)
    if seen is None:
        raise RuntimeError("rehearse never showed a frame:\n" + "\n".join(lines[-5:]))
    return seen


def run(args) -> int:
    lengths = [float(x) for x in args.lengths.split(",")]
    times: dict[float, list[float]] = {n: [] for n in lengths}
    with tempfile.TemporaryDirectory(prefix="halation-bench-rehearse-") as tmp:
        tracks = {n: _track(Path(tmp), n) for n in lengths}
        print(f"bench rehearse: {args.preset.name}, {args.runs} starts per track, from a third in, headless")
        for _ in range(args.runs):
            for n in lengths:  # alternate, so a busy minute falls on both
                times[n].append(first_frame_seconds(tracks[n], n / 3, args.preset, args.loop))
    print(f"  {'track':>8}  {'median s':>8}  {'worst s':>7}  runs")
    medians = {}
    for n in lengths:
        medians[n] = statistics.median(times[n])
        runs = " ".join(f"{t:.2f}" for t in times[n])
        print(f"  {n / 60:6.1f} m  {medians[n]:8.2f}  {max(times[n]):7.2f}  {runs}")
    ratio = medians[lengths[-1]] / medians[lengths[0]]
    worst = max(medians.values())
    ok = worst <= TARGET_S
    print(
        f"  first frame: median {worst:.2f} s at worst (target <= {TARGET_S:g} s); long / short {ratio:.2f}"
    )
    print("  PASS" if ok else "  MISS")
    return 0 if ok else 1
