"""Live latency: how soon after a click enters the sound input the render thread can see it, through a real
audio server. A JACK server on the dummy driver runs cycles of one capture block; a JACK client plays a
click about every 0.25 s, at a random point of the cycle and of the analysis hop, into the engine's
PortAudio capture (`LiveCapture`, its own process). Two readers run, one block size after another, in one
run:

- capture: a loop that reads `LiveCapture` as fast as it can and looks for the click in the samples (the
  floor: what any analysis on this capture could do);
- engine: the show's own `AnalysisThread` (engine/live.py) analysing the capture, watched for the moment its
  published `Features` count one more onset (what the render thread reads for its next frame);
- show (--show-block, default 256): the whole show, `perform` headless at --size and --fps with a preset
  that flashes a white patch on each onset (bench/flash: 16 % of the frame, so the flash limiter, on as
  by default, leaves it alone; four full-frame flashes a second are what it must damp, and a damped flash
  is not a frame that shows the click), the clicks played by a JACK client in a process of its
  own, followed to the swap (the GPU finished every command of the frame) of the first frame that shows
  the click, with each click's time split into stages: capture (until the analysis thread read
  the click's samples), analysis (until it published the onset), wait (until a frame started with it),
  render (until that frame's drawing was handed to the GPU) and swap (until the GPU had finished it).
  Its p50/p95/p99 are held to a budget of one block + two analysis hops + one frame period (`--json FILE`
  writes p50_ms, p95_ms, p99_ms and budget_ms).

The JACK server runs real-time, as jackd does by default and as a venue runs it (`--no-realtime`: not);
the show asks for a real-time priority for its capture and analysis (engine/runtime/priority.py).

Times are wall-clock, from when the click would have reached a real card's converter: a JACK cycle carries
the sound of the period before it, so a click half-way through a cycle is already half a period old when
the cycle runs. A real card's converter and driver safety buffer add to that, and the projector its frame
and display delay after it.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.analysis.analyzer import Analyzer
from engine.audio.capture import LiveCapture
from engine.commands.bench import BENCH_DIR, load
from engine.live import AnalysisThread
from engine.output.sink import finish_gpu

RATE = 48000
EVERY = 12000  # frames between clicks (0.25 s)...
SPREAD = 1024  # ...plus a random delay of up to this many: anywhere in a cycle and in the analysis's hop
WARMUP = 1.0  # seconds before clicks count (the analysis's adaptive thresholds settle)
MATCH = 0.1  # a click not seen within this is missed


def add_arguments(p) -> None:
    p.add_argument("--blocks", default="64,128,256,512", help="capture block sizes in samples, a,b,...")
    p.add_argument("--seconds", type=float, default=12.0, help="seconds of clicks per block size and reader")
    p.add_argument("--show-block", type=int, default=256, help="block of the whole-show run (0: skip it)")
    p.add_argument(
        "--show-seconds",
        type=float,
        default=30.0,
        help="seconds of clicks through the whole show (30: about 110 clicks, so p99 is not just the worst)",
    )
    p.add_argument("--size", default="640x360", help="render size of the whole-show run (640x360)")
    p.add_argument("--fps", type=float, default=120.0, help="frame rate of the whole-show run (120)")
    p.add_argument(
        "--json", type=Path, help="write the whole-show figures (p50_ms, p95_ms, p99_ms, budget_ms)"
    )
    p.add_argument(
        "--no-realtime",
        dest="realtime",
        action="store_false",
        help="run the JACK server without real-time scheduling (jackd's default, and a venue's, is with it)",
    )


def run(args) -> int:
    jack = load(BENCH_DIR / "_jack.py")
    blocks = [int(b) for b in args.blocks.split(",")]
    rows = []
    for block in blocks:
        rows.append(
            (
                block,
                *(
                    _measure(jack, block, args.seconds, reader, args.realtime)
                    for reader in (_capture, _engine)
                ),
            )
        )
    print(f"click → seen, wall clock, median / p95 in ms ({args.seconds:g} s of clicks each, {RATE} Hz)")
    print(f"{'block':>6} {'capture':>15} {'engine':>15} {'engine − capture':>17} {'missed':>7}")
    for block, bare, engine in rows:
        extra = statistics.median(engine.latencies) - statistics.median(bare.latencies)
        print(
            f"{block:>6} {bare.summary():>15} {engine.summary():>15} {extra * 1000:>14.1f} ms"
            f" {engine.missed:>7}"
        )
    if args.show_block:
        from engine.commands.common import parse_size

        report = _show_report(
            jack, args.show_block, args.show_seconds, parse_size(args.size), args.fps, args.realtime
        )
        _print_show(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0 if report["p99_ms"] <= report["budget_ms"] else 1
    return 0


STAGES = ("capture", "analysis", "wait", "render", "swap")


class StampedFeed:
    """The capture as the analysis thread reads it, noting when each click's first samples were read."""

    def __init__(self, capture: LiveCapture):
        self.capture = capture
        self.read_at: list[float] = []
        self._loud = False

    def __getattr__(self, name):
        return getattr(self.capture, name)

    def read(self) -> np.ndarray:
        samples = self.capture.read()
        if len(samples):
            loud = samples > 0.4
            if loud.any() and not (self._loud and loud[0]):
                self.read_at.append(time.monotonic())
            self._loud = bool(loud[-1])
        return samples


class SwapProbe:
    """A control surface (it stamps each frame's start) and the last sink (it runs after the frame is
    finished): notes when each onset was published and when the first frame showing it was done."""

    name = "latency probe"

    def __init__(self):
        self.published: list[float] = []  # when the analysis thread published each onset
        self.frames: list[tuple[float, float, float]] = []  # (started, drawn, swapped) of frames with one
        self._started = 0.0
        self._count = 0

    def start(self, params) -> None:
        pass

    def drain(self) -> list:
        self._started = time.monotonic()
        return []

    def publish(self, state) -> None:
        pass

    def stop(self) -> None:
        pass

    def on_event(self, event) -> None:
        if type(event).__name__ == "Onset":
            self.published.append(time.monotonic())

    def present(self, frame, info) -> None:
        count = info.features.onset_count
        if count > self._count:
            self._count = count
            finish_gpu(frame.ctx)  # the swap, headless: the GPU has finished everything the frame drew
            self.frames.append((self._started, info.drawn_at, time.monotonic()))

    def release(self) -> None:
        pass


def _show_report(
    jack, block: int, seconds: float, size: tuple[int, int], fps: float, realtime: bool = True
) -> dict:
    """Clicks through the whole show, split into stages per click, with the budget they are held to."""
    from engine.live import perform
    from engine.show.preset import load_preset

    server = jack.JackServer(
        f"halation-latency-{os.getpid()}-show", period=block, rate=RATE, realtime=realtime
    )
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    os.environ["JACK_NO_START_SERVER"] = "1"
    server.start()
    server_realtime = server.runs_realtime()
    feed = StampedFeed(LiveCapture("JACK", channels=(0,), sample_rate=RATE, blocksize=block))
    probe = SwapProbe()
    # in its own process, wiring itself once perform has started the capture: the show's process holds
    # only the show, as at a venue (a feeder callback in it would wait for the show's GIL every cycle)
    feeder = jack.ClickProcess(server.name, every=EVERY, spread=SPREAD)
    try:
        started = time.monotonic()
        perform(
            load_preset(BENCH_DIR / "flash" / "flash.toml"),
            feed,
            size=size,
            fps=fps,
            duration=seconds + 2.0,
            headless=True,
            controls=(probe,),
            sinks=(probe,),
        )
    finally:
        feeder.close()
        server.stop()
    sent = [t for t in feeder.sent if started + 2.0 + WARMUP < t < started + seconds]
    rows = _stage_rows(sent, feed.read_at, probe)
    total = [sum(r) for r in rows]
    hop = 256 / RATE  # Analyzer(RATE).hop
    budget = block / RATE + 2 * hop + 1.0 / fps
    ms = lambda values, q: round(1000 * float(np.percentile(values, q)), 2) if values else float("nan")  # noqa: E731
    return {
        "block": block,
        "size": list(size),
        "fps": fps,
        "clicks": len(sent),
        "shown": len(rows),
        "p50_ms": ms(total, 50),
        "p95_ms": ms(total, 95),
        "p99_ms": ms(total, 99),
        "budget_ms": round(1000 * budget, 2),
        "server_realtime": server_realtime,
        "stages": {
            name: {f"p{q}_ms": ms([r[i] for r in rows], q) for q in (50, 95, 99)}
            for i, name in enumerate(STAGES)
        },
    }


def _stage_rows(sent: list[float], read_at: list[float], probe: SwapProbe) -> list[tuple[float, ...]]:
    """Per click shown: seconds in each stage, each stage ending at the first sighting after the last."""

    def first_after(times, t):
        later = [x for x in times if t <= x < t + MATCH * 2]
        return later[0] if later else None

    rows = []
    for click in sent:
        read = first_after(read_at, click)
        published = first_after(probe.published, read) if read is not None else None
        frame = next((f for f in probe.frames if published is not None and f[2] >= published), None)
        if frame is None or frame[2] > click + MATCH * 2:
            continue
        started, drawn, swapped = frame
        begin = max(started, published)  # a frame that started before the onset was published waited 0
        rows.append(
            (read - click, published - read, begin - published, max(0.0, drawn - begin), swapped - drawn)
        )
    return rows


def _print_show(r: dict) -> None:
    print(
        f"\nclick → swap of the first frame that shows it (whole show, block {r['block']}, "
        f"{r['size'][0]}x{r['size'][1]} at {r['fps']:g} fps headless, "
        f"{r['shown']} of {r['clicks']} clicks shown; JACK server "
        f"{'real-time' if r.get('server_realtime') else 'not real-time'})"
    )
    print(f"{'stage':>10} {'p50':>8} {'p95':>8} {'p99':>8}  ms")
    for name, q in r["stages"].items():
        print(f"{name:>10} {q['p50_ms']:>8} {q['p95_ms']:>8} {q['p99_ms']:>8}")
    print(f"{'total':>10} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8}")
    verdict = "within" if r["p99_ms"] <= r["budget_ms"] else "OVER"
    print(f"budget (block + 2 hops + 1 frame): {r['budget_ms']} ms: p99 {verdict} it")


class Result:
    def __init__(self, latencies: list[float], missed: int):
        self.latencies = latencies or [float("nan")]
        self.missed = missed

    def summary(self) -> str:
        ms = np.array(self.latencies) * 1000
        return f"{np.median(ms):.1f} / {np.percentile(ms, 95):.1f}"


def _measure(jack, block: int, seconds: float, reader: Callable, realtime: bool = True) -> Result:
    """Run `reader` on a fresh server and capture with `block`-frame cycles; match its sightings to clicks."""
    server = jack.JackServer(
        f"halation-latency-{os.getpid()}-{block}", period=block, rate=RATE, realtime=realtime
    )
    os.environ["JACK_DEFAULT_SERVER"] = server.name  # the capture process joins this server
    os.environ["JACK_NO_START_SERVER"] = "1"
    server.start()
    capture = LiveCapture("JACK", channels=(0,), sample_rate=RATE, blocksize=block)
    capture.start()
    feeder = jack.ClickProcess(server.name, every=EVERY, spread=SPREAD)
    try:
        feeder.wait_connected()
        start = time.monotonic()
        seen = reader(capture, start + seconds)
    finally:
        feeder.close()
        capture.stop()
        server.stop()
    sent = [t for t in feeder.sent if t > start + WARMUP and t < start + seconds - MATCH]
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
