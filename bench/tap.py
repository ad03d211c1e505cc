"""tap tempo over music that disagrees: how long taps hold the clock, and when the music wins it back.

Six taps at each tempo land 10 s into the 124 BPM demo song (engine/audio/synth.py), fed in live-sized
blocks. Reported per tapped tempo: bars held at the tapped tempo (counted at that tempo), seconds from the
last tap until the clock follows the music again, and the BPM at the end; side by side with the hold turned
off (tap_hold_bars 0: the taps give way as soon as the tracker has heard afresh), in one run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

SR = 48000
TAP_AT = 10.0


def add_arguments(p) -> None:
    p.add_argument("--tempi", default="90,100,62", help="tapped tempi, comma-separated (default 90,100,62)")
    p.add_argument("--seconds", type=float, default=60.0, help="how much of the song to play (default 60)")


def _run_one(mono: np.ndarray, bpm: float, hold_bars: float, seconds: float) -> tuple[float, float, float]:
    from engine.analysis.analyzer import Analyzer
    from engine.analysis.beatclock import ClockSettings, TempoCommand

    a = Analyzer(SR, clock=replace(ClockSettings(), tap_hold_bars=hold_bars))
    taps = [TAP_AT + k * 60.0 / bpm for k in range(6)]
    last = taps[-1]
    held_until = back_at = None
    block = 256
    for i in range(0, min(len(mono), round(seconds * SR)), block):
        now = i / SR
        while taps and taps[0] <= now:
            a.command(TempoCommand("tap", at=taps.pop(0)))
        a.feed(mono[i : i + block])
        if now <= last + 0.1:
            continue
        grid = a.snapshot().grid
        at_tap = abs(grid.bpm / bpm - 1) < 0.01
        if held_until is None and not at_tap:
            held_until = now
        if back_at is None and not grid.locked:
            back_at = now
    end = a.snapshot().grid.bpm
    held = (held_until or seconds) - last
    return held * bpm / 240.0, (back_at or float("inf")) - last, end


def run(args) -> int:
    from engine.audio.synth import demo_track

    mono = demo_track(SR).samples.mean(axis=1).astype(np.float32)
    print(f"taps at {TAP_AT:g} s into the 124 BPM demo song; {args.seconds:g} s played")
    head = f"{'tapped':>7} | {'bars held':>9} {'back after':>10} {'end BPM':>8}"
    print(f"{head} | hold off: {'bars':>5} {'back':>6}")
    for text in args.tempi.split(","):
        bpm = float(text)
        bars, back, end = _run_one(mono, bpm, 12.0, args.seconds)
        off_bars, off_back, _ = _run_one(mono, bpm, 0.0, args.seconds)
        print(f"{bpm:7.1f} | {bars:9.1f} {back:9.1f}s {end:8.1f} | {off_bars:15.1f} {off_back:5.1f}s")
    return 0
