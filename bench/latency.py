"""Live latency: how soon after a click enters the sound input the render thread can see it, through a real
audio server. A JACK server on the dummy driver runs cycles of one capture block; a JACK client plays a
click about every 0.25 s, at a random point of the cycle and of the analysis hop, into the engine's
PortAudio capture (`LiveCapture`, its own process). Two readers run, one block size after another, in one
run:

- capture: a loop that reads `LiveCapture` as fast as it can and looks for the click in the samples (the
  floor: what any analysis on this capture could do);
- engine: the show's own `AnalysisThread` (engine/live.py) analysing the capture, watched for the moment its
  published `Features` count one more onset (what the render thread reads for its next frame).

Times are wall-clock, from when the click would have reached a real card's converter: a JACK cycle carries
the sound of the period before it, so a click half-way through a cycle is already half a period old when
the cycle runs. A real card's converter and driver safety buffer add to that, and the projector its frame
and display delay after it.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from engine.analysis.analyzer import Analyzer
from engine.audio.capture import LiveCapture
from engine.commands.bench import BENCH_DIR, load
from engine.live import AnalysisThread

RATE = 48000
EVERY = 12000  # frames between clicks (0.25 s)...
SPREAD = 1024  # ...plus a random delay of up to this many: anywhere in a cycle and in the analysis's hop
WARMUP = 1.0  # seconds before clicks count (the analysis's adaptive thresholds settle)
MATCH = 0.1  # a click not seen within this is missed


def add_arguments(p) -> None:
    p.add_argument("--blocks", default="64,128,256,512", help="capture block sizes in samples, a,b,...")
    p.add_argument("--seconds", type=float, default=12.0, help="seconds of clicks per block size and reader")


def run(args) -> int:
    jack = load(BENCH_DIR / "_jack.py")
    blocks = [int(b) for b in args.blocks.split(",")]
    rows = []
    for block in blocks:
        rows.append((block, *(_measure(jack, block, args.seconds, reader) for reader in (_capture, _engine))))
    print(f"click → seen, wall clock, median / p95 in ms ({args.seconds:g} s of clicks each, {RATE} Hz)")
    print(f"{'block':>6} {'capture':>15} {'engine':>15} {'engine − capture':>17} {'missed':>7}")
    for block, bare, engine in rows:
        extra = statistics.median(engine.latencies) - statistics.median(bare.latencies)
        print(
            f"{block:>6} {bare.summary():>15} {engine.summary():>15} {extra * 1000:>14.1f} ms"
            f" {engine.missed:>7}"
        )
    return 0


class Result:
    def __init__(self, latencies: list[float], missed: int):
        self.latencies = latencies or [float("nan")]
        self.missed = missed

    def summary(self) -> str:
        ms = np.array(self.latencies) * 1000
        return f"{np.median(ms):.1f} / {np.percentile(ms, 95):.1f}"


def _measure(jack, block: int, seconds: float, reader: Callable) -> Result:
    """Run `reader` on a fresh server and capture with `block`-frame cycles; match its sightings to clicks."""
    server = jack.JackServer(f"halation-latency-{os.getpid()}-{block}", period=block, rate=RATE)
    os.environ["JACK_DEFAULT_SERVER"] = server.name  # the capture process joins this server
    os.environ["JACK_NO_START_SERVER"] = "1"
    server.start()
    capture = LiveCapture("JACK", channels=(0,), sample_rate=RATE, blocksize=block)
    capture.start()
    feeder = jack.ClickFeeder(server.name, every=EVERY, spread=SPREAD)
    try:
        feeder.connect()
        start = time.monotonic()
        seen = reader(capture, start + seconds)
        sent = [t for t in feeder.sent if t > start + WARMUP and t < start + seconds - MATCH]
    finally:
        feeder.close()
        capture.stop()
        server.stop()
    return _match(sent, seen)


def _match(sent: list[float], seen: list[float]) -> Result:
    """Each click's latency: the first sighting after it, within MATCH."""
    seen_arr = np.array(seen)
    latencies, missed = [], 0
    for t in sent:
        later = seen_arr[(seen_arr >= t) & (seen_arr < t + MATCH)]
        if len(later):
            latencies.append(float(later[0] - t))
        else:
            missed += 1
    return Result(latencies, missed)


def _capture(capture: LiveCapture, until: float) -> list[float]:
    """When each click's first sample could be read from the capture."""
    seen, loud_before = [], False
    while time.monotonic() < until:
        samples = capture.read()
        if len(samples):
            loud = samples > 0.4
            if loud.any() and not (loud_before and loud[0]):
                seen.append(time.monotonic())
            loud_before = bool(loud[-1])
        time.sleep(0.0002)
    return seen


def _engine(capture: LiveCapture, until: float) -> list[float]:
    """When the analysis thread published one more onset (the render thread's view)."""
    thread = AnalysisThread(Analyzer(RATE), capture)
    thread.start()
    seen, count = [], 0
    try:
        while time.monotonic() < until:
            now = thread.features.onset_count
            if now > count:
                seen.append(time.monotonic())
                count = now
            time.sleep(0.0002)
    finally:
        thread.stop()
    return seen
