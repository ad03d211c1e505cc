"""Morphs: a cue that comes in over beats, bars or seconds instead of cutting (`morph = "4 bars"`).

A morph starts on the next beat, bar or phrase after the new look is ready (it was built and warmed aside,
engine/runtime/looks.py, so no frame waits for a compile). Numeric inputs both looks share (the same name,
e.g. `shader.glow`) glide from where the old look had them to the new look's values. When the looks draw
with the same shaders that glide is the whole morph; otherwise both looks are drawn and crossfaded through an
ISF transition (shaders/transitions/: `morph = "4 bars zoom_blur"`, fade by default). The old look is let go
when the morph ends, and the show's look_generation moves on then.

    morph = "4 bars"         quantize = "bar"      (now, beat, bar, phrase; default: beat)
    morph = "2 beats luma_wipe"
    morph = "3 s"            /hl/cue/go s "8 beats"  (the desk's own time for this GO)
"""

from __future__ import annotations

import contextlib
import re
import time
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import moderngl

from engine.errors import HalationError
from engine.paths import SHADERS_DIR
from engine.render.cliptexture import finish_releasing_gil
from engine.render.program import FrameInfo

UNITS = {"beat": "beats", "beats": "beats", "bar": "bars", "bars": "bars"}
UNITS.update(dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"))
QUANTIZE = ("now", "beat", "bar", "phrase")
FREE_BPM = 120.0  # a morph in beats before the analysis hears a tempo
BOTH_FIT = 0.002  # seconds: two looks that draw in less than this together are both drawn every frame
BOTH_SHARE = 1.1  # ...or that together take at most this many times the heavier one alone (see Turns)
MEASURED_DRAWS = 3  # a live morph times each look's first draws to the GPU's finish; the quickest is its cost
RETIME = 12  # frames: while both are drawn, each look is timed again this often (a look may grow heavier)
_FORM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?(?:\s+([A-Za-z0-9_\-./]+))?\s*$")


@dataclass(frozen=True)
class MorphSpec:
    """How long a morph takes, in what unit, when it starts, and through which transition."""

    amount: float
    unit: str = "seconds"  # beats | bars | seconds
    quantize: str = "beat"
    transition: str = "fade"

    def seconds(self, bpm: float, beats_per_bar: int = 4) -> float:
        beat = 60.0 / (bpm or FREE_BPM)
        return {"beats": beat, "bars": beats_per_bar * beat}.get(self.unit, 1.0) * self.amount


def parse_morph(text: str | float, quantize: str | None = None) -> MorphSpec:
    """'4 bars', '2 beats luma_wipe', '3 s', or a number of seconds (a desk's /hl/cue/go argument)."""
    if isinstance(text, int | float):
        return MorphSpec(float(text), "seconds", quantize or "now")
    m = _FORM.match(str(text).lower())
    if not m or (m.group(2) or "s") not in UNITS:
        raise HalationError(
            f'morph \'{text}\': give a length in beats, bars or seconds, e.g. "4 bars" or "2 beats fade"'
        )
    q = (quantize or "beat").lower()
    if q not in QUANTIZE:
        raise HalationError(f"quantize '{quantize}': use one of {', '.join(QUANTIZE)}")
    return MorphSpec(float(m.group(1)), UNITS[m.group(2) or "s"], q, m.group(3) or "fade")


def transition_file(name: str) -> Path:
    path = Path(name)
    for candidate in (path, SHADERS_DIR / "transitions" / name, SHADERS_DIR / "transitions" / f"{name}.fs"):
        if candidate.is_file():
            return candidate
    known = ", ".join(sorted(p.stem for p in (SHADERS_DIR / "transitions").glob("*.fs")))
    raise HalationError(f"no transition '{name}' for the morph (shipped: {known})")


def start_time(spec: MorphSpec, at: float, grid, structure=None) -> float:
    """The first beat, bar line or phrase boundary at or after `at` (now, without a tempo)."""
    if spec.quantize == "now" or grid.bpm <= 0:
        return at
    count, phase = grid.beat_position(at)
    if phase < 1e-6:
        return at
    to_beat = (1.0 - phase) * grid.period
    if spec.quantize == "beat":
        return at + to_beat
    n = grid.beats_per_bar
    in_bar = (count - grid.downbeat) % n
    if spec.quantize == "bar":
        return at + to_beat + ((n - 1 - in_bar) % n) * grid.period
    if structure is not None:  # the next phrase boundary on the structure tracker's count
        _, fraction, _ = structure.phrase_position(grid, at)
        return at + (1.0 - fraction) * n * structure.phrase_bars * grid.period
    return at + to_beat + ((n - 1 - in_bar) % n) * grid.period


def same_drawing(old, new) -> bool:
    """Do two pipelines draw with the same shader files in the same order (then a glide is the morph)?"""
    files = [(layer.name, layer.program.doc.path) for layer in old.layers]
    return files == [(layer.name, layer.program.doc.path) for layer in new.layers]


class Turns:
    """Which looks a live morph's frame draws: both, when together they take little more than the heavier
    one alone, else one a frame in turn (every frame still crossfades the latest picture of both), so no
    frame of a morph is much longer than a frame of one look. Taking turns costs the looks' movement
    nothing: drawn together, each look is drawn once per A+B too, and every frame is A+B long. So both are
    drawn only when that is next to free (BOTH_SHARE 1.1; at 1.25, a 57 ms look beside a 13 ms one were
    drawn together: 1.3x the heavier look's CPU per frame, its worst 1.8x).

    The choice is made on each look's quickest timed draw: a draw's time is noisy on a busy machine (the
    machine's other work only ever adds to it), and a look's first draws are its slowest. Judged on the
    last of two draws, a 105 ms outlier of a 50 ms look beside an 18 ms one read as "together 1.17x the
    heavier", and both were drawn in every frame of that morph: 1.5x the heavier look's CPU per frame
    (bench cues, dnb-neon-clips to dnb-warp; dnb-warp to ambient-smoke, on its new look's slow first
    draws). Only the render thread uses this; no GL here."""

    def __init__(self):
        self.turn = 0  # the look drawn last when they take turns: 0 the old, 1 the new
        self.draws = [0, 0]  # how often each look was drawn
        self.costs: tuple[deque, deque] = (deque(maxlen=MEASURED_DRAWS), deque(maxlen=MEASURED_DRAWS))
        self.retime = False  # this frame draws both and times each again
        self.drew = {"one": 0, "both": 0}  # frames of each kind, for the bench and the log

    def cost(self, look: int) -> float | None:
        """The look's draw time (s), once it has been timed MEASURED_DRAWS times, else None."""
        timed = self.costs[look]
        return min(timed) if len(timed) >= MEASURED_DRAWS else None

    def timing(self, look: int) -> bool:
        """Should this draw of `look` be timed to the GPU's finish?"""
        return len(self.costs[look]) < MEASURED_DRAWS or self.retime

    def drawn(self, look: int, seconds: float | None) -> None:
        """`look` was drawn, in `seconds` to the GPU's finish when it was timed."""
        if seconds is not None:
            self.costs[look].append(seconds)
        self.draws[look] += 1

    def both(self) -> bool:
        costs = (self.cost(0), self.cost(1))
        if None in costs:
            return False
        together, alone = sum(costs), max(costs)
        return together <= BOTH_FIT or together <= BOTH_SHARE * alone

    def next(self) -> tuple[int, ...]:
        """The looks this frame draws (after the morph's first frames: see Morph._looks_this_frame)."""
        if self.both():
            self.drew["both"] += 1
            self.retime = self.drew["both"] % RETIME == 0
            return (0, 1)
        self.retime = False
        self.turn ^= 1
        self.drew["one"] += 1
        return (self.turn,)


class Morph:
    """A morph in progress: the old look (its pipeline and its parameter values) and how far it has gone."""

    def __init__(
        self, ctx: moderngl.Context, spec: MorphSpec, old_pipeline, old_modulator, programs, live=False
    ):
        """`live`: a live show's morph keeps every frame as short as a frame of one look: when the two
        looks together take longer than BOTH_SHARE times the heavier one (nearly always),
        they are drawn on alternate frames (Turns), each at half its rate for the morph's length, and
        each frame crossfades the latest picture of both. (At 1.5 times, a 20 ms look and a 10 ms one
        were drawn together, and with the transition the morph's median frame took 1.75 times the
        heavier look's.) An offline render draws both every frame (its frames must not depend on how
        fast this machine is)."""
        self.ctx = ctx
        self.live = live
        self.turns = Turns()
        self.spec = spec
        self.old = old_pipeline
        self.old_modulator = old_modulator  # the old look's own parameters and modulation, still moving
        self.old_values: dict = {}
        self.start: float | None = None
        self.seconds = 0.0
        self.progress_now = 0.0
        self._programs = programs  # the show's transition programs, compiled once per file

    def progress(self, time: float) -> float:
        if self.start is None:
            return 0.0
        if self.seconds <= 0:
            return 1.0
        return min(1.0, max(0.0, (time - self.start) / self.seconds))

    def schedule(self, time: float, features) -> None:
        if self.start is None:
            grid = features.grid
            self.start = start_time(self.spec, time, grid, getattr(features, "structure", None))
            self.seconds = self.spec.seconds(grid.bpm, grid.beats_per_bar)

    def glide(self, values: dict, params: Mapping) -> dict:
        """The new look's values with every numeric input both looks share on its way from the old value."""
        k = _smooth(self.progress_now)
        out = dict(values)
        for name, old in self.old_values.items():
            param = params.get(name)
            if param is None or name.split(".")[0] in SHOW_LEVEL:
                continue
            new = out.get(name)
            if param.kind in ("float", "color", "point2D") and type(new) is type(old):
                if isinstance(new, tuple):
                    if len(new) == len(old):  # an RGB and an RGBA of the same name: the new one, as is
                        out[name] = tuple(a + (b - a) * k for a, b in zip(old, new, strict=True))
                else:
                    out[name] = old + (new - old) * k
        return out

    def draw(self, show, ft, features, sources, values, target) -> bool:
        """Draw the frame into `target`; True once the morph is over (the caller lets the old look go)."""
        from engine.render.pipeline import audio_uniforms

        self.schedule(ft.time, features)
        self.progress_now = self.progress(ft.time)
        self.old_values = self.old_modulator.evaluate(sources, ft.delta)
        values = self.glide(values, show.params.params)
        if same_drawing(self.old, show.pipeline):
            show.pipeline.render(ft, values, features, target, sources)
            return self.progress_now >= 1.0
        old_values = {**self.old_values, **{k: v for k, v in values.items() if k.split(".")[0] == "master"}}
        if self.progress_now <= 0.0:  # waiting for its beat: the old look as it draws alone, no transition
            self.old.render(ft, old_values, features, target, sources)
            return False
        start, end = self._targets(show.size)
        draws = (
            (self.old, old_values, start),
            (show.pipeline, values, end),
        )
        for look in self._looks_this_frame(start, target):
            pipeline, look_values, fbo = draws[look]
            self._draw_look(look, pipeline, (ft, look_values, features, fbo, sources))
        program = self._program(self.spec.transition)
        frame = FrameInfo(time=ft.time, timedelta=ft.delta, frame_index=ft.index, date=ft.date)
        program.render(
            target,
            values={"progress": _smooth(self.progress_now)},
            images={"startImage": start.color_attachments[0], "endImage": end.color_attachments[0]},
            frame=frame,
            audio=audio_uniforms(sources),
        )
        return self.progress_now >= 1.0

    def _draw_look(self, look: int, pipeline, draw: tuple) -> None:
        """Draw one look; a live morph's draws that Turns asks for are timed to the GPU's finish. The calls
        alone return long before the picture is drawn (llvmpipe rasterises on its own threads, a GPU
        queues), so timing them found two looks that take 15 ms each "cheap" together and drew both in
        every frame: twice a frame's work (bench cues, morphs: worst frame 3.5x the median)."""
        timing = self.live and self.turns.timing(look)
        started = time.perf_counter()
        pipeline.render(*draw)
        took = None
        if timing:
            finish_releasing_gil(self.ctx)
            took = time.perf_counter() - started
        self.turns.drawn(look, took)

    def _looks_this_frame(self, start: moderngl.Framebuffer, target: moderngl.Framebuffer) -> tuple[int, ...]:
        """Both looks (offline), else as Turns says, so a live frame stays as long as a frame of one look.
        A live morph's first frame draws the new look only, the old look's last picture taken from the
        target; its last frame draws the new look, so the picture it lands on is the new look's own of that
        frame, not one of a frame before."""
        if not self.live:
            return (0, 1)
        if self.progress_now >= 1.0:
            return (1,)
        if not self.turns.draws[0]:
            if target.size != start.size:  # the old look's last picture is of another size: draw it once
                return (0, 1)
            self.ctx.copy_framebuffer(start, target)
            self.turns.drawn(0, None)
            self.turns.turn = 1  # the new look's turn was this one: the old look's comes next
            return (1,)
        return self.turns.next()

    def _targets(self, size) -> tuple[moderngl.Framebuffer, moderngl.Framebuffer]:
        return morph_targets(self.ctx, size)

    def _program(self, name: str):
        return transition_program(self.ctx, self._programs, name)

    def release(self) -> None:
        self.old.release()


_TARGETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def morph_targets(ctx: moderngl.Context, size) -> tuple[moderngl.Framebuffer, moderngl.Framebuffer]:
    """The two pictures a morph crossfades, made once per context and size and kept for every later
    morph (so a morph's first frame allocates nothing)."""
    kept = _TARGETS.setdefault(ctx, {})
    if tuple(size) not in kept:
        kept[tuple(size)] = tuple(ctx.framebuffer(color_attachments=[ctx.texture(size, 4)]) for _ in "ab")
    return kept[tuple(size)]


def transition_program(ctx: moderngl.Context, programs: dict, name: str):
    """The morph's transition, compiled once per file (the show keeps them in `programs`)."""
    from engine.render.isf import load_isf
    from engine.render.program import IsfProgram

    path = transition_file(name)
    if path not in programs:
        programs[path] = IsfProgram(ctx, load_isf(path))
    return programs[path]


def warm_transition(ctx: moderngl.Context, programs: dict, name: str, size, release: bool = False) -> None:
    """Draw a morph's transition once, whole, as a morph draws it (into an RGBA8 target, between the two
    pictures; only a corner rasterised), so the driver's variant for it exists; `release` (the warm-up
    child): let it go after."""
    start, end = morph_targets(ctx, size)
    program = transition_program(ctx, programs, name)
    bound = ctx.fbo
    frame = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2000.0, 1.0, 1.0, 0.0))
    images = {"startImage": start.color_attachments[0], "endImage": end.color_attachments[0]}
    program.render_corner(start, images=images, frame=frame)
    bound.use()
    if release:
        for program in programs.values():
            program.release()
        programs.clear()


def prepare(show) -> Iterator[None]:
    """Before a planned morph: its transition compiled and drawn once and its two pictures made, in pieces
    while the new look is built, so the morph's first frame is no hitch. A transition that does not load
    is said when the morph starts (nothing is refused here)."""
    spec = show.morph_plan
    if spec is None:
        return
    morph_targets(show.ctx, show.size)
    yield None
    with contextlib.suppress(HalationError):
        transition_program(show.ctx, show.morph_programs, spec.transition)
        yield None
        warm_transition(show.ctx, show.morph_programs, spec.transition, show.size)


def _smooth(k: float) -> float:
    """Ease in and out: a morph that starts and lands gently reads as one movement."""
    return k * k * (3.0 - 2.0 * k) if 0.0 < k < 1.0 else float(k >= 1.0)


SHOW_LEVEL = ("master", "tempo", "clips", "macro", "stage", "link")


def retiring_modulator(show):
    """The look about to go, as a parameter store and modulator of its own (the show's store is reused by
    the new look), so it keeps moving with the music while the new one comes in."""
    from engine.params.modulation import Modulator
    from engine.params.store import ParamStore

    store = ParamStore(show.params.params.values())
    for name, value in show.params.base().items():
        store.set(name, value)
    return Modulator(store, show.preset.modulations)


def let_go(show, pipeline) -> None:
    """Release a look that went off: at a later frame boundary in a live show (one a frame, so the frame
    that brings the next look in does not also pay for tearing the last one down), at once offline."""
    staging = getattr(show, "staging", None)
    if staging is not None:
        staging.let_go(pipeline)
    else:
        pipeline.release()


def retire(show, pipeline, modulator) -> None:
    """The look that was on: let go now (a cut), or kept drawing through the morph the show planned."""
    if show.morph is not None:  # a morph cut short by the next look: its old look goes now
        let_go(show, show.morph.old)
        show.morph = None
    spec, show.morph_plan = show.morph_plan, None
    if spec is None or modulator is None:
        let_go(show, pipeline)
        return
    live = getattr(show, "staging", None) is not None  # looks built aside: a live show
    show.morph = Morph(show.ctx, spec, pipeline, modulator, show.morph_programs, live)


def draw(show, ft, features, sources, values, target) -> None:
    """A frame of the show while a morph runs; at its end the old look goes and the look generation moves.
    A morph that fails (a transition that does not load, a bug) ends at once: the new look is on, and the
    error is counted and shown like any stage's."""
    done = True
    with show.guards.stage("morph") as stage:
        done = show.morph.draw(show, ft, features, sources, values, target)
    if not stage.ok:
        show.pipeline.render(ft, values, features, target, sources)
    if done:
        let_go(show, show.morph.old)
        show.morph = None
        show.look_generation += 1
