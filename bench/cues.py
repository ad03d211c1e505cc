"""Look changes under the show: a headless show steps a setlist of different looks while it plays, by cuts and
by morphs, side by side with a run of the same show in which nobody presses GO.

Plays the demo song headless with a setlist of the shipped library (different shaders, effects and clips)
and fires GO every --every seconds, as a desk would. Frames are stamped as they are shown. A change lasts
from its GO until the new look is on (a cut), or until its morph has ended (the show retargets the desks
then), plus a quarter second. Each frame of a change is set beside the steady frames, in the same run, of
the look it drew (of the heavier of the two a morph's frame draws), so a heavy look's frame is not held to
a light one's and a busy machine's drift cancels. Each GO waits until the last change's look has had half a
GO on its own (its own median needs frames: a burst's heavy look had 6), and in the run of morphs also for
as long as the last morph played, so each look has as much time on its own as in the run of cuts.
The run without changes is cut into the same windows and judged the same way: what the machine's own noise
does to the figure. Each run is also judged by the CPU time the show's process used from one frame to the next
(all its threads: the render thread, the driver's raster threads, analysis, decoders), which other processes'
load does not reach: on a busy machine that figure says what the show itself does at a change, the wall-clock
figure what the audience would have seen.

A run of bursts (--burst, default 100) makes each GO that many cue changes within a second, the last one
the next cue, judged the same way: a hundred changes must cost the output no more than one does.

Targets (#16, #17): no frame of a cue change, a burst or a morph longer than twice the median frame
(`halation bench cues`); every cue reached.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.control.commands import ControlCommand
from engine.paths import PRESETS_DIR

SETTLE = 0.25  # seconds after a look is on (or its morph has ended) still counted as its change
MIN_STEADY = 8  # steady frames a look needs for its own median (else the change's looks', or the run's)
OWN_FRAMES = MIN_STEADY + 4  # frames each look has on its own before the next GO, however slow the machine
SLOWEST_BPM = 90.0  # the run of morphs lasts long enough for morphs in beats at this tempo or faster


THREAD_KINDS = (  # how a frame's CPU is broken down: (kind, does this thread's name belong to it)
    ("raster", lambda name: name.startswith("llvmpipe")),  # the driver's rasteriser threads
    ("clips", lambda name: name.startswith(("halation-clip", "av:"))),  # clip decoders (PyAV, FFmpeg's own)
    ("analysis", lambda name: name == "halation-analysis"),
)


class ThreadClock:
    """Each thread of this process's CPU time, and the time the render thread waited for a CPU, read from
    /proc/self/task/*/schedstat (nanoseconds) at each frame, so a long frame can be split into who worked
    in it: the render thread itself, the driver's rasteriser, the clip decoders, the analysis, the rest,
    and how long the render thread was ready to run but had no core (the machine's other work, or the
    show's own threads). Files stay open between frames (a read is a few microseconds a thread)."""

    def __init__(self):
        self._files: dict[int, int] = {}  # thread id -> open schedstat
        self.kinds: dict[int, str] = {}  # thread id -> its kind
        self.samples: list[dict[int, tuple[int, int]]] = []  # per frame: thread id -> (ran, waited) ns
        self.clocks: list[tuple[float, float]] = []  # per frame: (wall clock, GL finish waited so far) s
        self.render = threading.get_native_id()

    def sample(self) -> None:
        """One frame's reading (on the render thread, once a frame)."""
        from engine.render.cliptexture import finishing_seconds

        self.clocks.append((time.perf_counter(), finishing_seconds()))
        try:
            tids = [int(t) for t in os.listdir("/proc/self/task")]
        except OSError:
            tids = []
        now: dict[int, tuple[int, int]] = {}
        for tid in tids:
            fd = self._files.get(tid)
            try:
                if fd is None:
                    fd = self._files[tid] = os.open(f"/proc/self/task/{tid}/schedstat", os.O_RDONLY)
                    self.kinds[tid] = self._kind(tid)
                ran, waited, _ = os.pread(fd, 128, 0).split()
            except (OSError, ValueError):
                continue
            now[tid] = (int(ran), int(waited))
        for gone in set(self._files) - set(now):
            with contextlib.suppress(OSError):
                os.close(self._files.pop(gone))
        self.samples.append(now)

    def _kind(self, tid: int) -> str:
        if tid == self.render:
            return "render"
        names = {t.native_id: t.name for t in threading.enumerate()}
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            comm = ""
        name = names.get(tid, comm)
        return next((kind for kind, belongs in THREAD_KINDS if belongs(name) or belongs(comm)), "other")

    def frame(self, i: int) -> dict[str, float]:
        """The CPU (ms) each kind of thread used from frame i-1's reading to frame i's, and where the render
        thread's time went besides its own CPU ('render'): 'core', ready to run without one; 'gpu', in the
        frame's GL finish; 'else', blocked otherwise (in a GL call that waits for the rasteriser, as a blit
        may; for the interpreter, held by another thread; a lock; the loop's pacing sleep)."""
        before, after = self.samples[i - 1], self.samples[i]
        out = dict.fromkeys(("render", *(kind for kind, _ in THREAD_KINDS), "other", "core"), 0.0)
        for tid, (ran, waited) in after.items():
            ran0, waited0 = before.get(tid, (0, 0))
            out[self.kinds.get(tid, "other")] += (ran - ran0) / 1e6
            if tid == self.render:
                out["core"] = (waited - waited0) / 1e6
        (wall0, gpu0), (wall, gpu) = self.clocks[i - 1], self.clocks[i]
        out["gpu"] = 1000 * (gpu - gpu0)
        out["else"] = max(0.0, 1000 * (wall - wall0) - out["render"] - out["core"] - out["gpu"])
        return out

    def close(self) -> None:
        for fd in self._files.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._files.clear()


def add_arguments(p) -> None:
    p.add_argument("--cues", type=int, default=8, help="looks to step through (default 8)")
    p.add_argument("--every", type=float, default=3.0, help="seconds between GOs (default 3)")
    p.add_argument("--window", type=float, default=1.0, help="seconds after a GO counted as its change (1)")
    p.add_argument("--size", default="640x360", help="render size (default 640x360)")
    p.add_argument("--fps", type=float, default=60.0, help="frame rate (default 60)")
    p.add_argument(
        "--morph",
        default="2 beats",
        help='the morphs\' length, e.g. "4 beats" or "1 s" (default "2 beats"); "none": cuts only',
    )
    p.add_argument(
        "--autopilot",
        type=float,
        default=0.0,
        help="a run of this many seconds under the autopilot (perform --autopilot), its changes judged "
        "like GOs from the moment it asks for a look (the demo song's sections change at 15.5, 31 and "
        "38.7 s: 45 s see two or three changes; default 0: none)",
    )
    p.add_argument(
        "--burst",
        type=int,
        default=100,
        help="a run in which each GO is a burst of this many cue changes within a second, the last one the "
        "next cue (#16: a hundred cost no more than one); 0: none (default 100)",
    )


class CueDesk:
    """A control surface that presses GO every `every` seconds (or, `quiet`, only notes when it would have)
    and stamps every frame it is shown and every look change the show tells it of (retarget). With `burst`,
    each press is that many cue changes spread over a second (cue.goto through the setlist, as a desk
    whose fader is swept), the last one going to the next cue."""

    name = "cue desk"

    def __init__(
        self, every: float, presses: int, quiet: bool = False, burst: int = 0, cues: int = 1, morphs=False
    ):
        """Each GO (not `quiet`) waits until the last one's look is on and has had half of `every` and
        OWN_FRAMES frames on its own (a burst's last look came in 1.3 s after its press, and with a GO
        every 2 s a heavy look had 6 steady frames: no median of its own; on a loaded machine a heavy
        look's 1 s was 7 frames); the run ends (`done`) once the last look has had `every` seconds of its
        own. `morphs`: a look is on once its morph has ended, and each GO also waits `every`
        seconds plus the time the last look's morph took to play (a look that came in over 1 s of a 2 s
        cue had under 8 steady frames of its own)."""
        self.every = every
        self.morphs = morphs
        self.presses = presses
        self.quiet = quiet
        self.burst = burst
        self.cue_count = cues  # how many cues the setlist has
        self._burst: list[ControlCommand] = []  # the press's changes still to send
        self._burst_from = 0.0
        self.pressed: list[float] = []
        self.stamps: list[float] = []
        self.cpu: list[float] = []  # the show process's CPU time (all its threads) at each frame
        self.render_cpu: list[float] = []  # the render thread's own (publish runs on it)
        self.threads: ThreadClock | None = None  # each thread's CPU at each frame (made on the render thread)
        self.cues: list[str] = []
        self.looks: list[tuple[str, ...]] = []  # the looks each frame drew (ShowState.looks)
        self.retargets: list[float] = []
        self.collections: list[tuple[float, int, float]] = []  # garbage collections: (end, generation, s)
        self._collecting: dict[int, float] = {}  # thread -> when its collection began
        self._on = 0  # how many GOs' looks have come on (cuts and bursts: seen in publish)
        self._own_since = math.inf  # when the last GO's look began its own time (its change over)
        self._own_frames = 0  # frames it has shown since
        self._next = 0.0
        self.done = threading.Event()  # set once the last change has ended and its look has had its time
        self.done_at = math.inf

    def start(self, params) -> None:
        self._next = time.monotonic() + self.every
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict) -> None:
        """Each garbage collection of the show's process once it shows frames: it holds the interpreter,
        every thread waits (the one perform makes before the first frame is not the show's)."""
        now, thread = time.perf_counter(), threading.get_ident()
        if not self.stamps:
            return
        if phase == "start":
            self._collecting[thread] = now
        elif thread in self._collecting:
            began = self._collecting.pop(thread)
            self.collections.append((time.monotonic(), info["generation"], now - began))

    def drain(self) -> list:
        return []

    def drain_commands(self) -> list[ControlCommand]:
        now = time.monotonic()
        if len(self.pressed) < self.presses and now >= self._next and not self._holding(now):
            self.pressed.append(now)
            self._next = now + self.every
            if self.quiet:
                return []
            if not self.burst:
                return [ControlCommand("cue.go")]
            target = len(self.pressed) + 1  # the cue after the one on (cue 1 is on at the start)
            numbers = [1 + i % self.cue_count for i in range(target, target + self.burst - 1)]
            self._burst = [ControlCommand("cue.goto", (float(n),)) for n in [*numbers, target]]
            self._burst_from = now
        return self._burst_due(now)

    def _burst_due(self, now: float) -> list[ControlCommand]:
        """The burst's changes due by now (all of them within a second of the press)."""
        if not self._burst:
            return []
        sent = self.burst - len(self._burst)
        due = max(1, round(self.burst * min(1.0, now - self._burst_from))) - sent
        out, self._burst = self._burst[:due], self._burst[due:]
        return out

    def publish(self, state) -> None:
        now = time.monotonic()
        self._own_frames += now > self._own_since
        if now >= self.done_at and self._own_frames >= OWN_FRAMES:
            self.done.set()
        self.stamps.append(now)
        self._came_on(state.cue)
        self.looks.append(tuple(getattr(state, "looks", ())))
        self.cpu.append(time.process_time())
        self.render_cpu.append(time.thread_time())
        if self.threads is None:
            self.threads = ThreadClock()
        self.threads.sample()
        self.cues.append(state.cue)

    def _came_on(self, cue: str) -> None:
        """A cut's or a burst's look is on once its cue is (the setlist's next: GO n goes to cue n+1): the
        next GO leaves it half a GO of its own."""
        if self.quiet or self.morphs or self._on == len(self.pressed):
            return
        if cue.split(" ", 1)[0] != str(len(self.pressed) + 1):
            return
        self._on = len(self.pressed)
        now = time.monotonic()
        self._next = max(self._next, now + SETTLE + self.every / 2)
        self._own_since, self._own_frames = now + SETTLE, 0
        if self._on == self.presses:
            self.done_at = now + self.every  # the last look's own time, then the run may end

    def retarget(self, params) -> None:
        now = time.monotonic()
        self.retargets.append(now)
        since = self._since_press()
        if self.morphs and len(since) == 2:  # the look came in, then its morph ended
            played = self.pressed[-1] + self.every + since[1] - since[0]
            self._next = max(self._next, played, now + SETTLE + self.every / 2)  # time of its own, at least
            self._own_since, self._own_frames = now + SETTLE, 0
            if len(self.pressed) == self.presses:
                self.done_at = now + self.every  # the last look's own time, then the run may end

    def _since_press(self) -> list[float]:
        return [r for r in self.retargets if self.pressed and r > self.pressed[-1]]

    def _holding(self, now: float) -> bool:
        """The last GO's look has not come in (and, in a run of morphs, played its morph) yet, unless it
        has been 3 GOs' time already (it was refused), or it has not had OWN_FRAMES frames of its own: a GO
        on top of it would leave that look no median of its own."""
        if self.quiet or not self.pressed:
            return False
        came = len(self._since_press()) >= 2 if self.morphs else self._on == len(self.pressed)
        if not came:
            return now <= self.pressed[-1] + 3 * self.every
        return self._own_frames < OWN_FRAMES

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._collected)


@dataclass(frozen=True)
class Change:
    """One GO: its frames and the looks each drew, the steady frames of the looks before and after it, and
    every look's steady frames in the run."""

    frames: list[float]
    before: list[float]
    after: list[float]
    at: list[int] = field(default_factory=list)  # where its frames are in the run
    drew: list[tuple[str, ...]] = field(default_factory=list)  # the looks each frame drew
    own: dict[str, list[float]] = field(default_factory=dict)  # each look's steady frames in the run

    def held_to(self, i: int, fallback: float) -> tuple[float, str]:
        """The median frame the change's i-th frame is held to, and whose it is: the look it drew (the
        heavier of a morph's two), from that look's steady frames in the run. A frame of a heavy look
        judged by a light one's median read as a spike (5.35x: a 45 ms look's 65 ms frame against a 12 ms
        look's median), and one of a light look judged by a heavy one's would hide one. When a look it drew
        has too few steady frames: the slower of the looks before and after the change, else the run's."""
        looks = self.drew[i] if i < len(self.drew) else ()
        own = {look: self.own.get(look, []) for look in looks}
        if looks and all(len(frames) >= MIN_STEADY for frames in own.values()):
            look = max(own, key=lambda name: statistics.median(own[name]))
            return statistics.median(own[look]), f"the look it drew, {look}: {steady_line(own[look])}"
        sides = [statistics.median(s) for s in (self.before, self.after) if len(s) >= MIN_STEADY]
        if sides:
            return max(sides), "the slower of the looks before and after (too few steady frames of its own)"
        return fallback, "the run's median (too few steady frames of its looks)"

    def ratios(self, fallback: float) -> list[float]:
        """Each frame of the change over the median frame it is held to."""
        held = [self.held_to(i, fallback)[0] for i in range(len(self.frames))]
        return [t / ref if ref > 0 else 0.0 for t, ref in zip(self.frames, held, strict=True)]

    def worst(self, fallback: float) -> int:
        """The index (in `frames`) of the change's worst frame, by its ratio."""
        ratios = self.ratios(fallback)
        return ratios.index(max(ratios))

    def ratio(self, fallback: float) -> float:
        """The change's worst frame over the median frame of the look it drew."""
        return max(self.ratios(fallback), default=0.0)


def changes(
    times, stamps, pressed, retargets, window: float, end: float, drew=()
) -> tuple[list[Change], list[float]]:
    """Each GO's Change, and every steady frame of the run (after its first second, outside changes);
    `drew`: the looks each frame drew (ShowState.looks), whose steady frames each change frame is held to."""
    bounds = [*pressed, end]
    spans = []  # (GO, end of its change, next GO)
    for go, nxt in itertools.pairwise(bounds):
        on = [r for r in retargets if go < r < nxt]
        spans.append((go, max(go + window, (on[-1] if on else go) + SETTLE), nxt))
    steady_of: list[list[float]] = [[] for _ in range(len(spans) + 1)]  # look i: before GO i
    near: list[list[float]] = [[] for _ in spans]
    near_at: list[list[int]] = [[] for _ in spans]
    near_drew: list[list[tuple[str, ...]]] = [[] for _ in spans]
    own: dict[str, list[float]] = {}  # each look's steady frames (frames that drew it alone)
    steady: list[float] = []
    for i, (t, s) in enumerate(zip(times, stamps, strict=False)):
        if s < stamps[0] + 1.0:
            continue
        look = sum(go <= s for go in pressed)
        looks = tuple(drew[i]) if i < len(drew) else ()
        if look and s <= spans[look - 1][1]:
            near[look - 1].append(t)
            near_at[look - 1].append(i)
            near_drew[look - 1].append(looks)
        else:
            steady_of[look].append(t)
            steady.append(t)
            if len(looks) == 1:
                own.setdefault(looks[0], []).append(t)
    found = [
        Change(near[i], steady_of[i], steady_of[i + 1], near_at[i], near_drew[i], own)
        for i in range(len(spans))
    ]
    return found, steady


@dataclass(frozen=True)
class Run:
    label: str
    median: float
    changes: list[Change]
    reached: int
    summary: str
    cpu: Run | None = None  # the same run judged by the CPU time the show used for each frame
    worst_frames: tuple[str, ...] = ()  # each change's longest frame, what it was made of
    wanted: int = 0  # looks the run should reach (the setlist's cues, the autopilot's changes)
    collections: tuple[tuple[float, int, float], ...] = ()  # the show's garbage collections (CueDesk)

    @property
    def worst(self) -> float:
        return max((c.ratio(self.median) for c in self.changes), default=0.0)

    @property
    def over(self) -> int:
        return sum(c.ratio(self.median) > 2.0 for c in self.changes)

    @property
    def worst_ms(self) -> float:
        return 1000 * max((max(c.frames) for c in self.changes if c.frames), default=0.0)


def library(count: int) -> list[Path]:
    found = sorted((PRESETS_DIR / "library").glob("*.toml")) or sorted(PRESETS_DIR.rglob("*.toml"))
    return (found * (count // max(1, len(found)) + 1))[:count]


def show_run(args, label: str, morph: str, quiet: bool = False, burst: int = 0) -> Run:
    """One headless show through the setlist; its changes judged against its own steady frames."""
    from engine.show.morph import parse_morph
    from engine.show.preset import load_preset
    from engine.show.setlist import load_setlist

    presets = library(args.cues + 1)
    with tempfile.TemporaryDirectory() as tmp:
        setlist = Path(tmp) / "set.toml"
        how = f'morph = "{morph}"\nquantize = "now"\n' if morph else ""
        setlist.write_text("".join(f'[[cue]]\nname = "{p.stem}"\npreset = "{p}"\n{how}' for p in presets))
        desk = CueDesk(args.every, args.cues, quiet, burst, len(presets), morphs=bool(morph))
        duration = 2.0 + args.every * (args.cues + 1)
        show = {"setlist": load_setlist(setlist)}
        if (
            not quiet
        ):  # as long as it takes, within 3 GOs' time a cue (a look slow to come in holds the next GO)
            playing = parse_morph(morph).seconds(SLOWEST_BPM) if morph else 0.0
            duration += args.cues * (playing + 2 * args.every)
            show["stop"] = desk.done
        stats = _perform(args, load_preset(presets[0]), desk, duration, **show)
    return judge(args, label, stats, desk, desk.pressed, len({c for c in desk.cues if c}))


def autopilot_run(args, label: str) -> Run:
    """The demo song under `perform --autopilot` (the shipped library, its own morphs) for --autopilot
    seconds; each change judged from the moment the autopilot asked for its look, like a GO."""
    from engine.show.autopilot import Autopilot, load_library
    from engine.show.preset import load_preset

    autopilot = Autopilot(load_library([PRESETS_DIR / "library"]))
    asked: list[float] = []  # when each change after the first look was asked for (monotonic)
    update = autopilot.update

    def noted(at: float, features):
        change = update(at, features)
        if change is not None and len(autopilot.changes) > 1:
            asked.append(time.monotonic())
        return change

    autopilot.update = noted
    desk = CueDesk(args.every, 0, quiet=True)
    stats = _perform(args, load_preset(library(1)[0]), desk, args.autopilot, autopilot=autopilot)
    came = sum(any(a < r < b for r in desk.retargets) for a, b in itertools.pairwise([*asked, math.inf]))
    return judge(args, label, stats, desk, asked, came, len(asked))


def _perform(args, preset, desk: CueDesk, duration: float, **show):
    from engine.audio.feed import BufferFeed
    from engine.commands.common import load_music, parse_size
    from engine.live import perform

    feed = BufferFeed(load_music(None), play=False)
    size = parse_size(args.size)
    return perform(
        preset, feed, size=size, fps=args.fps, duration=duration, headless=True, controls=(desk,), **show
    )


def judge(args, label: str, stats, desk: CueDesk, pressed: list[float], reached: int, wanted=None) -> Run:
    """A run's changes (from each of `pressed` on) judged against its own steady frames, by wall clock and
    by the CPU the show used; `reached`: looks that came on, of `wanted` (the setlist's, by default)."""
    times = list(stats.frame_times)[-len(desk.stamps) :]
    stamps = desk.stamps[-len(times) :]
    end = stamps[-1] + 1.0
    drew = desk.looks[-len(times) :]
    found, steady = changes(times, stamps, pressed, desk.retargets, args.window, end, drew)
    cpu = [b - a for a, b in itertools.pairwise(desk.cpu)]  # CPU from one frame shown to the next
    by_cpu = changes(cpu, desk.stamps[1:], pressed, desk.retargets, args.window, end, desk.looks[1:])
    wanted = args.cues + 1 if wanted is None else wanted
    cpu_run = Run(label, statistics.median(by_cpu[1]), by_cpu[0], reached, "", wanted=wanted)
    median = statistics.median(steady)
    worst = tuple(worst_frame(c, median, desk, len(desk.stamps) - len(times)) for c in found if c.frames)
    if desk.threads is not None:
        desk.threads.close()
    collections = tuple(desk.collections)
    return Run(label, median, found, reached, stats.summary(), cpu_run, worst, wanted, collections)


def worst_frame(change: Change, median: float, desk: CueDesk, offset: int) -> str:
    """A change's longest frame with the CPU the show's process and its render thread used in it (a long
    frame the show did not work for waited: for the machine's other processes, a lock, the driver), what
    each kind of thread used (ThreadClock), and which looks' medians it was judged against."""
    k = change.worst(median)
    i = change.at[k] + offset  # the desk's index of that frame
    took = change.frames[k]
    ratio = change.ratio(median)
    if i < 1:
        return f"{1000 * took:.1f} ms ({ratio:.2f}x)"
    process, render = desk.cpu[i] - desk.cpu[i - 1], desk.render_cpu[i] - desk.render_cpu[i - 1]
    cue = " into ".join(desk.looks[i]) if desk.looks[i] else desk.cues[i] or "?"
    line = (
        f"{1000 * took:.1f} ms ({ratio:.2f}x) on {cue}: the show's CPU {1000 * process:.1f} ms,"
        f" its render thread {1000 * render:.1f} ms"
    )
    if desk.threads is not None and i < len(desk.threads.samples):
        parts = desk.threads.frame(i)
        core, gpu, other = (parts.pop(kind) for kind in ("core", "gpu", "else"))
        cpu = ", ".join(f"{kind} {ms:.1f}" for kind, ms in parts.items())
        line += f"\n      CPU by thread  {cpu} ms"
        line += f"\n      render thread  waited {core:.1f} ms for a core, {gpu:.1f} in the GL finish,"
        line += f" {other:.1f} blocked otherwise (GL calls that wait for the raster, the interpreter, a lock)"
    for _, generation, took in (c for c in desk.collections if desk.stamps[i - 1] < c[0] <= desk.stamps[i]):
        line += (
            f"\n      in it          a garbage collection (generation {generation}) of {1000 * took:.1f} ms"
        )
    line += f"\n      judged against  {change.held_to(k, median)[1]}"
    return line


def steady_line(frames: list[float]) -> str:
    """A look's steady frames as a change is judged by them (Change.ratio)."""
    if len(frames) < MIN_STEADY:
        return f"{len(frames)} steady frames (under {MIN_STEADY}: not counted)"
    return f"{len(frames)} steady frames, median {1000 * statistics.median(frames):.1f} ms"


def report(run: Run, quiet: Run | None) -> bool:
    """Print a run's figures; True when it meets the target (the quiet run only reports)."""
    frames = [t for c in run.changes for t in c.frames]
    near = f"median {1000 * statistics.median(frames):.1f} ms, " if frames else ""
    print(f"  {run.label}")
    print(f"    steady frames   median {1000 * run.median:.1f} ms")
    print(f"    changes         {near}worst {run.worst_ms:.1f} ms")
    noise = f" (without changes, same windows: {quiet.worst:.2f})" if quiet is not None else ""
    over = f"{run.over} of {len(run.changes)} changes over 2x"
    print(f"    worst / median  {run.worst:.2f} (target <= 2.00){noise}; {over}")
    if run.cpu is not None:  # other processes' load does not reach this one
        cpu = run.cpu
        beside = f" (without changes: {quiet.cpu.worst:.2f})" if quiet is not None and quiet.cpu else ""
        print(f"    by CPU time     worst / median {cpu.worst:.2f}{beside}, median {1000 * cpu.median:.1f}")
    for n, line in enumerate(run.worst_frames, 1):
        print(f"    change {n} worst  {line}")
    full = [took for _, generation, took in run.collections if generation == 2]
    longest = max((took for *_, took in run.collections), default=0.0)
    print(
        f"    collections     {len(run.collections)} garbage collections ({len(full)} full), the longest"
        f" {1000 * longest:.1f} ms"
    )
    if quiet is None:
        print(f"    show            {run.summary}")
        return True
    print(f"    looks reached   {run.reached} of {run.wanted}")
    print(f"    show            {run.summary}")
    ok = run.worst <= 2.0 and run.reached == run.wanted and bool(run.changes)
    print(f"    {'PASS' if ok else 'MISS'}")
    return ok


FIRST_DRAW_LOOKS = ("techno-tunnel", "dubstep-wobble", "songwriter-bokeh", "ambient-smoke")


def first_draws() -> None:
    """(Run in a process of its own, with a fresh driver cache.) A live show brings in each look of
    FIRST_DRAW_LOOKS in turn; print, as JSON, the render thread's CPU time for each shader's first draw
    (the staged build's warm pieces): driver disk-cache hits when the warm-up child built the look first."""
    import engine.render.pipeline as pipeline
    from engine.analysis.features import silent_features
    from engine.app import Show
    from engine.clock import FrameTime
    from engine.render.context import Offscreen, headless_context
    from engine.show.preset import load_preset

    costs: list[float] = []
    warm = pipeline.Pipeline._warm_program

    def timed(self, program, fbo, images) -> None:
        started = time.thread_time()
        warm(self, program, fbo, images)
        costs.append(time.thread_time() - started)

    pipeline.Pipeline._warm_program = timed
    ctx, size = headless_context(), (640, 360)
    show = Show(ctx, load_preset(PRESETS_DIR / "library" / "house-sunset.toml"), size, live=True)
    show.build_looks_aside()
    target, n = Offscreen(ctx, size), 0
    for name in FIRST_DRAW_LOOKS:
        show.request(load_preset(PRESETS_DIR / "library" / f"{name}.toml"))
        deadline = time.monotonic() + 120.0
        while show.preset.path.stem != name and time.monotonic() < deadline:
            n += 1
            show.adopt_look()
            show.draw(FrameTime(n, n / 30, 1 / 30, (2000.0, 1.0, 1.0, 0.0)), silent_features(()), target.fbo)
            time.sleep(0.01)
    show.release()
    print(json.dumps({"first_draws_ms": [round(1000 * c, 1) for c in costs]}))


def report_first_draws() -> None:
    """The render thread's first draws of four new looks, in a process with a fresh driver cache."""
    from engine.paths import ROOT

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MESA_SHADER_CACHE_DIR": cache}
        code = "from bench.cues import first_draws; first_draws()"
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"  first draws     could not be measured ({(done.stderr.strip().splitlines() or ['?'])[-1]})")
        return
    draws = json.loads(lines[-1])["first_draws_ms"]
    print(
        f"  first draws     of {len(FIRST_DRAW_LOOKS)} new looks' shaders on the render thread (thread CPU, "
        f"fresh driver cache): median {statistics.median(draws):.1f} ms, slowest {max(draws):.1f} ms "
        f"({len(draws)} draws)"
    )


def run(args) -> int:
    morph = "" if args.morph.strip().lower() in ("", "none", "cut") else args.morph
    print(
        f"bench cues: GO every {args.every:g} s through {args.cues} looks of {PRESETS_DIR / 'library'}, "
        f"headless {args.size} at {args.fps:.0f} fps, {2.0 + args.every * (args.cues + 1):.0f} s a run "
        "(with changes: until each look has had its time); "
        f"cuts{f', bursts of {args.burst}' if args.burst else ''}{f', morphs of {morph}' if morph else ''}, "
        "and a run without changes"
    )
    report_first_draws()
    quiet = show_run(args, "without changes (GO never pressed; its windows judged the same way)", "", True)
    report(quiet, None)
    ok = report(show_run(args, "cuts", ""), quiet)
    if args.burst:
        label = f"bursts (each GO {args.burst} cue changes within a second, the last one the next cue)"
        ok = report(show_run(args, label, "", burst=args.burst), quiet) and ok
    if morph:
        ok = report(show_run(args, f"morphs ({morph})", morph), quiet) and ok
    if args.autopilot:
        label = f"autopilot ({args.autopilot:g} s of the demo song, no setlist: its changes morph in)"
        ok = report(autopilot_run(args, label), quiet) and ok
    print(f"  {'PASS' if ok else 'MISS'}: no frame of a look change over 2x the median (#16, #17)")
    return 0 if ok else 1
