"""Looks built aside: a recalled preset's shaders are compiled and drawn in the warm-up child first, so the
render thread adopts the new look at a frame boundary without the driver's slow first-draw compile.

Requests coalesce: only the newest one is built (a job of an older request still queued is dropped when
its turn comes, and its result is ignored), so a hundred recalls in a second cost the output no more than
one. A shader that does not build, or hangs the warm-up child, refuses the whole look with its error; the
look on the output stays. Shaders warmed once are remembered (bounded), so cycling cues warms nothing
twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.errors import HalationError, ShaderError
from engine.render.isf import IsfDocument
from engine.render.pipeline import WAITING
from engine.render.reload import LookJob, ShaderSource, Spec, WarmService, read_source
from engine.show.preset import Preset

log = logging.getLogger(__name__)

MAX_REMEMBERED = 512  # warmed (shader text, texture shapes) pairs kept; older ones are warmed again
LOOK_WAIT = 3.0  # seconds a checked look waits for its whole-look warm-up before it comes in anyway
WHOLE_LOOK = ("look", "transition")  # the jobs that only fill the driver's cache (they never refuse)
SETTLE_POLLS = 2  # a request is built once it has been the newest for a whole frame (bursts coalesce)
STEP_BUDGET = 0.004  # seconds of a frame a look being built may take (at least one piece a frame)


@dataclass(frozen=True)
class LookReady:
    preset: Preset


@dataclass(frozen=True)
class LookRefused:
    preset: Preset
    error: HalationError


def look_docs(preset: Preset) -> list[IsfDocument]:
    """Every shader a preset draws with: its layers and its clip transition."""
    docs = [layer.shader for layer in preset.layers]
    if preset.transition is not None:
        docs.append(preset.transition)
    return docs


def _fingerprint(source: ShaderSource, spec: Spec) -> str:
    text = json.dumps([str(source.path), source.fs, source.vs, spec], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def look_jobs(
    preset: Preset, spec_for: Callable[[IsfDocument], Spec], transition: str | None = None
) -> list[tuple]:
    """The warm-up child's work for a look, as (key, fingerprint, doc, source, spec): each shader on its
    own first (checked: it compiles, it is finite, it does not hang), then the whole look built as the
    show will build it (engine.render.warm.warm_look), with the `transition` of the morph it comes in
    through, which is what fills the driver's cache with the variants the render thread draws (a morph's
    transition left out was compiled cold by the show's first morph: 43 ms of one frame, measured).
    Raises ShaderError for a shader that cannot be read."""
    jobs, shaders, size = [], [], None
    for index, doc in enumerate(look_docs(preset)):
        source = read_source(doc.path)
        spec = spec_for(doc)
        size = spec[0]
        fingerprint = _fingerprint(source, spec)
        shaders.append(fingerprint)
        jobs.append((f"{index}", fingerprint, doc, source, spec))
    if size is not None and preset.path is not None:
        try:
            text = Path(preset.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        look = LookJob(Path(preset.path), tuple(size))
        fingerprint = hashlib.sha1(json.dumps([str(preset.path), text, shaders, size]).encode()).hexdigest()
        jobs.append(("look", fingerprint, None, look, None))
    if size is not None and transition:  # a job of its own: the look's is the same whatever comes next
        fingerprint = hashlib.sha1(json.dumps(["transition", transition, size]).encode()).hexdigest()
        jobs.append(("transition", fingerprint, None, LookJob(None, tuple(size), transition), None))
    return jobs


class LookBuilder:
    """The render thread's side: `request(preset, spec_for)` (non-blocking), then `poll()` once a frame.
    Only the render thread calls these; the warm service answers through a queue."""

    def __init__(self, service: WarmService, transition: Callable[[], str | None] = lambda: None):
        """`transition()`: the transition of the morph the next requested look comes in through (None:
        a cut), read when it is requested."""
        self.service = service
        self.transition = transition
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._spare: queue.SimpleQueue = queue.SimpleQueue()  # answers to prewarm()
        self._seq = 0
        self._preset: Preset | None = None
        self._waiting: dict[str, str] = {}  # job key -> fingerprint, for the current request
        self._refused: LookRefused | None = None
        self._checked_at: float | None = None  # when only the whole-look warm-up was left
        self._warmed: OrderedDict[str, None] = OrderedDict()
        self._asked: tuple | None = None  # the newest request, until it has stood for SETTLE_POLLS polls
        self._asked_polls = 0
        self.requests = 0  # how many were asked for
        self.built = 0  # how many reached the output

    def request(self, preset: Preset, spec_for: Callable[[IsfDocument], Spec]) -> None:
        """Start building `preset` aside; any request before it that is not ready yet is abandoned. The
        build begins once no newer request has come for a frame (SETTLE_POLLS): in a burst (a desk's
        fader swept through the cues, a hundred recalls in a second) each frame asked for another look,
        and each began a build that the next frame threw away (its shaders read, and a pipeline staged
        and released: 5-8 ms of every frame of the burst). `spec_for` is called then."""
        self.requests += 1
        self._seq += 1  # answers to the requests before are ignored from now on
        self._preset, self._refused, self._waiting, self._checked_at = None, None, {}, None
        self._asked, self._asked_polls = (preset, spec_for, self.transition()), 0

    def _begin(self, preset: Preset, spec_for: Callable[[IsfDocument], Spec], transition: str | None) -> None:
        """The request's jobs to the warm-up child (the shaders warmed before are not sent again)."""
        self._preset = preset
        seq = self._seq

        def wanted(seq: int = seq) -> bool:
            return seq == self._seq  # read by the warm thread: a plain int, swapped whole

        try:
            jobs = look_jobs(preset, spec_for, transition)
        except ShaderError as exc:
            self._refused = LookRefused(preset, exc)
            return
        for key, fingerprint, doc, source, spec in jobs:
            if fingerprint in self._warmed:
                self._warmed.move_to_end(fingerprint)
                continue
            self._waiting[key] = fingerprint
            self.service.submit(self._inbox, key, seq, doc, source, spec, wanted)

    def prewarm(self, preset: Preset, spec_for: Callable[[IsfDocument], Spec]) -> None:
        """Warm a look the show will probably want next (the setlist's next cue) while the machine is idle,
        so its GO is adopted at the next frame. A real request always goes first: a prewarm job still
        queued when one comes is dropped."""
        try:
            jobs = look_jobs(preset, spec_for)
        except ShaderError:
            return  # the cue will say so when it is fired
        for _, fingerprint, doc, source, spec in jobs:
            if fingerprint not in self._warmed:
                self.service.submit(self._spare, fingerprint, -1, doc, source, spec, lambda: not self.pending)

    @property
    def pending(self) -> bool:
        return self._preset is not None or self._asked is not None

    def poll(self) -> LookReady | LookRefused | None:
        """The newest requested look once every shader of it is warmed (or its refusal); else None."""
        while not self._spare.empty():  # prewarmed shaders: remembered, nothing to adopt
            kind, fingerprint, _, _ = self._spare.get()
            if kind != "failed":
                self._remember(fingerprint)
        if self._asked is not None:
            self._asked_polls += 1
            if self._asked_polls < SETTLE_POLLS:
                return None
            asked, self._asked = self._asked, None
            self._begin(*asked)
        while not self._inbox.empty():
            kind, key, seq, payload = self._inbox.get()
            if seq != self._seq or self._refused is not None or key not in self._waiting:
                continue  # an abandoned request's answer
            if kind == "failed":
                self._refused = LookRefused(self._preset, payload)
            else:
                self._remember(self._waiting.pop(key))
        if self._preset is None:
            return None
        if self._refused is not None:
            refused, self._preset, self._refused = self._refused, None, None
            return refused
        if self._waiting and not self._overdue():
            return None
        ready, self._preset, self._checked_at = LookReady(self._preset), None, None
        self.built += 1
        return ready

    def _overdue(self) -> bool:
        """Only the whole-look warm-ups are left and they took LOOK_WAIT since the shaders were checked
        (a busy machine starves the low-priority child): bring the look in without it; its first draws
        are then the driver's own, a piece a frame."""
        if not self._waiting or set(self._waiting) - set(WHOLE_LOOK):
            return False
        now = time.monotonic()
        if self._checked_at is None:
            self._checked_at = now
        return now - self._checked_at >= LOOK_WAIT

    def _remember(self, fingerprint: str) -> None:
        self._warmed[fingerprint] = None
        while len(self._warmed) > MAX_REMEMBERED:
            self._warmed.popitem(last=False)


class LookStaging:
    """The render thread's last stretch of bringing a look in: once its shaders are warmed in the child,
    its pipeline is built here a piece at a time (engine.render.pipeline.Pipeline.staged), a few
    milliseconds of each frame, while the old look plays on; looks that went off are released one a
    frame. So the frame that puts a look on screen does nothing else, and costs what a frame of it costs.

    A newer look abandons the one being built (its pieces released), so a burst still builds one."""

    def __init__(self, build: Callable[[Preset], Iterator], budget: float = STEP_BUDGET):
        """`build(preset)`: an iterator of the look's pieces, yielding None after each (WAITING when it
        only waits for another thread) and the built pipeline last."""
        self._build = build
        self.budget = budget
        self._preset: Preset | None = None
        self._steps: Iterator | None = None
        self._going: deque = deque()  # released looks waiting for their frame
        self.slowest_step = 0.0  # seconds: the longest piece so far (a driver-cache miss if long)
        self._longest = 0.0  # the longest piece of any build so far: what the next one may cost

    @property
    def building(self) -> bool:
        return self._steps is not None

    @property
    def idle(self) -> bool:
        """Nothing being built, nothing waiting to be let go."""
        return self._steps is None and not self._going

    def start(self, preset: Preset) -> None:
        """Build `preset` from the next frame on; one still being built is abandoned."""
        self._abandon()
        self._preset, self._steps = preset, self._build(preset)

    def step(self) -> tuple[Preset, object] | None:
        """This frame's share: release one look that went off, then build pieces while another still
        fits the budget, judged by the longest piece of any build so far (a frame that had compiled a
        program in 1 ms went on to its 6 ms first draw; on llvmpipe this is one piece a frame, on a fast
        GPU several), and not past a piece that only waits for another thread (the clip decks opening:
        spinning on them took the budget, and the interpreter, from every frame they took).
        (preset, pipeline) once the look is built; a piece that fails raises (the build ends)."""
        if self._going:
            look = self._going.popleft()
            getattr(look, "release_aside", look.release)()
        if self._steps is None:
            return None
        started = time.perf_counter()
        while True:
            piece = time.perf_counter()
            try:
                built = next(self._steps)
            except BaseException:
                self._steps = None
                raise
            took = time.perf_counter() - piece
            self.slowest_step = max(self.slowest_step, took)
            self._longest = max(self._longest, took)
            if built is WAITING:
                return None
            if built is not None:
                preset, self._steps, self._preset = self._preset, None, None
                return preset, built
            if time.perf_counter() - started + self._longest > self.budget:
                return None

    def let_go(self, look) -> None:
        """Release `look` (anything with release()) at a later frame, one a frame."""
        self._going.append(look)

    def _abandon(self) -> None:
        if self._steps is not None:
            steps, self._steps = self._steps, None
            close = getattr(steps, "close", None)
            if close is not None:
                close()  # the pieces built so far are released

    def release(self) -> None:
        """The show ends: everything still held goes now."""
        self._abandon()
        while self._going:
            self._going.popleft().release()
