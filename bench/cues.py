"""Cue changes under the show: a headless show steps a setlist of different looks while it plays.

Plays the demo song headless with a setlist of the shipped library (different shaders, effects and clips)
and fires GO every --every seconds, as a desk would. Frames are stamped as they are shown; the frames within
--window seconds after each GO (the look is built aside, then adopted) are set beside the frames far from
any change in the same run, so a busy machine's drift cancels. Target: no frame near a cue change longer
than twice the median frame (`halation bench cues`); every cue reached.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from engine.control.commands import ControlCommand
from engine.paths import PRESETS_DIR


def add_arguments(p) -> None:
    p.add_argument("--cues", type=int, default=8, help="looks to step through (default 8)")
    p.add_argument("--every", type=float, default=3.0, help="seconds between GOs (default 3)")
    p.add_argument("--window", type=float, default=1.5, help="seconds after a GO counted as its change (1.5)")
    p.add_argument("--size", default="640x360", help="render size (default 640x360)")
    p.add_argument("--fps", type=float, default=60.0, help="frame rate (default 60)")
    p.add_argument("--morph", default="", help='each cue morphs in, e.g. "1 bars" (default: cuts)')


class CueDesk:
    """A control surface that presses GO every `every` seconds and stamps every frame it is shown."""

    name = "cue desk"

    def __init__(self, every: float, presses: int):
        self.every = every
        self.presses = presses
        self.pressed: list[float] = []
        self.stamps: list[float] = []
        self.cues: list[str] = []
        self._next = 0.0

    def start(self, params) -> None:
        self._next = time.monotonic() + self.every

    def drain(self) -> list:
        return []

    def drain_commands(self) -> list[ControlCommand]:
        now = time.monotonic()
        if len(self.pressed) < self.presses and now >= self._next:
            self.pressed.append(now)
            self._next = now + self.every
            return [ControlCommand("cue.go")]
        return []

    def publish(self, state) -> None:
        self.stamps.append(time.monotonic())
        self.cues.append(state.cue)

    def stop(self) -> None:
        pass


def library(count: int) -> list[Path]:
    found = sorted((PRESETS_DIR / "library").glob("*.toml")) or sorted(PRESETS_DIR.rglob("*.toml"))
    return (found * (count // max(1, len(found)) + 1))[:count]


def split(times, stamps, pressed, window: float) -> tuple[list[float], list[float]]:
    """Frame times shown within `window` s after a GO, and those at least `window` s from any GO."""
    near, far = [], []
    for t, s in zip(times, stamps, strict=False):
        if any(0.0 <= s - p <= window for p in pressed):
            near.append(t)
        elif all(abs(s - p) > window for p in pressed) and s > stamps[0] + 1.0:
            far.append(t)
    return near, far


def run(args) -> int:
    from engine.audio.feed import BufferFeed
    from engine.commands.common import load_music, parse_size
    from engine.live import perform
    from engine.show.preset import load_preset
    from engine.show.setlist import load_setlist

    size = parse_size(args.size)
    presets = library(args.cues + 1)
    with tempfile.TemporaryDirectory() as tmp:
        setlist = Path(tmp) / "set.toml"
        morph = f'morph = "{args.morph}"\nquantize = "now"\n' if args.morph else ""
        setlist.write_text("".join(f'[[cue]]\nname = "{p.stem}"\npreset = "{p}"\n{morph}' for p in presets))
        desk = CueDesk(args.every, args.cues)
        duration = 2.0 + args.every * (args.cues + 1)
        print(
            f"bench cues: GO every {args.every:g} s through {args.cues} looks of {PRESETS_DIR / 'library'}, "
            f"headless {size[0]}x{size[1]} at {args.fps:.0f} fps, {duration:.0f} s"
        )
        stats = perform(
            load_preset(presets[0]),
            BufferFeed(load_music(None), play=False),
            size=size,
            fps=args.fps,
            duration=duration,
            headless=True,
            controls=(desk,),
            setlist=load_setlist(setlist),
        )
    times = list(stats.frame_times)[-len(desk.stamps) :]
    stamps = desk.stamps[-len(times) :]
    near, far = split(times, stamps, desk.pressed, args.window)
    median = statistics.median(far)
    worst = max(near) if near else 0.0
    over = sum(t > 2 * median for t in near)
    reached = len({c for c in desk.cues if c})
    print(f"  frame median    {1000 * median:.2f} ms away from changes ({len(far)} frames)")
    print(f"  near changes    median {1000 * statistics.median(near):.2f} ms, worst {1000 * worst:.2f} ms")
    print(f"                  worst / median {worst / median:.2f} (target <= 2.00); {over} frames over 2x")
    print(f"  cues reached    {reached} of {args.cues + 1}")
    print(f"  show            {stats.summary()}")
    ok = worst <= 2 * median and reached == args.cues + 1
    print(f"  {'PASS' if ok else 'MISS'}")
    return 0 if ok else 1
