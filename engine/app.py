"""The Show: one preset's analyzer, parameters and render pipeline behind one small facade.

`render` (offline) and `perform` (live) both drive a Show; only the clock and the threads differ.
"""

from __future__ import annotations

import logging
import time

import moderngl

from engine.analysis.analyzer import Analyzer
from engine.analysis.features import Features
from engine.clock import FrameTime
from engine.errors import HalationError
from engine.params.macros import macro_params
from engine.params.modulation import Modulator
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore, ParamValue
from engine.params.tempo import SONG_PARAMS
from engine.render.isf import IsfDocument
from engine.render.pipeline import Pipeline
from engine.render.reload import WarmService, WarmWorker
from engine.runtime.guard import Guards
from engine.runtime.looks import LookBuilder, LookReady, LookStaging
from engine.show import morph
from engine.show.preset import MODULATABLE, Layer, Preset

log = logging.getLogger(__name__)
CLIP_PRIME_SECONDS = 3.0  # how long a built look may wait for its clips' first frames before it shows anyway

_RANGE_DEFAULTS = {"bool": (0.0, 1.0), "event": (0.0, 1.0)}
# parameters of the show, not of a look: a recall keeps what the operator set (the song's range excepted)
SHOW_LEVEL = ("master", "tempo", "clips", "macro", "stage", "link")


def shader_params(doc: IsfDocument, overrides: dict, layer: str = "shader") -> list[Param]:
    """One Param per shader input a preset or a desk can set (images and audio are fed by the engine),
    named "<layer>.<input>": "shader.hue" for the main shader, "bloom.amount" for an effect."""
    params = []
    for i in doc.inputs:
        if i.type in ("image", "audio", "audioFFT"):
            continue
        lo, hi = _RANGE_DEFAULTS.get(i.type, (0.0, 1.0))
        if i.type in MODULATABLE and i.type not in _RANGE_DEFAULTS:
            if isinstance(i.min, int | float):
                lo = float(i.min)
            if isinstance(i.max, int | float):
                hi = float(i.max)
            if i.type == "long" and i.values:
                lo, hi = float(min(i.values)), float(max(i.values))
        default = overrides.get(i.name, i.default)
        if default is None:
            default = (0.0, 0.0) if i.type == "point2D" else (0.0, 0.0, 0.0, 1.0) if i.type == "color" else lo
        if isinstance(default, list):
            default = tuple(default)
        params.append(Param(f"{layer}.{i.name}", i.type, default, lo, hi, i.label or i.name))
    return params


def layer_params(layer: Layer) -> list[Param]:
    """A layer's input parameters, plus "<name>.mix" (wet/dry) for an effect."""
    params = shader_params(layer.shader, layer.inputs, layer.name)
    if layer.mix is not None:
        params.append(Param(f"{layer.name}.mix", "float", layer.mix, 0.0, 1.0, f"{layer.name} wet/dry"))
    return params


def build_params(preset: Preset) -> ParamStore:
    layers = [p for layer in preset.layers for p in layer_params(layer)]
    show = show_params(preset.crossfade, preset.master, preset.clock_setup())
    return ParamStore([*layers, *show, *macro_params(preset.macros)], preset.macros)


def feature_values(features: Features, at: float) -> dict[str, float]:
    """The analysis values for a frame, with the beat values at the frame's own time (the beat grid is
    predicted, so a frame lands on its beat even when the analysis snapshot is a few ms old)."""
    return features.values(at)


class Show:
    """`live=True` (perform): hot-reload shader files when they change on disk, and never wait for a clip
    frame (keep the last one). Offline renders wait for every clip frame, so they are deterministic.

    `look_generation` counts changes of the set of parameters (a recall, a cue, a morph's end, a reloaded
    shader with new inputs): the live loop retargets control surfaces when it moves. `guards` hold the
    show's guarded stages (engine.runtime.guard): modulation and each layer here, the rest in the loop."""

    def __init__(
        self,
        ctx: moderngl.Context,
        preset: Preset,
        size: tuple[int, int],
        sample_rate: int = 48000,
        *,
        live: bool = False,
        watch: bool | None = None,
        guards: Guards | None = None,
        params: ParamStore | None = None,
    ):
        """`params`: the preset's parameters made beforehand (build_params), so control surfaces can be
        started, and a port in use reported, before any window opens."""
        self.ctx = ctx
        self.guards = guards or Guards()
        self.look_generation = 0
        self.morph = None  # a look coming in over beats, bars or seconds (engine/show/morph.py)
        self.morph_plan = None  # how the next look adopted comes in (None: a cut)
        self.morph_programs: dict = {}  # transition programs, compiled once per file
        self.look_error: HalationError | None = None  # the last requested look that was refused
        self._warm_service: WarmService | None = None
        self._looks: LookBuilder | None = None
        self.staging: LookStaging | None = None  # live: a ready look's pipeline built a piece a frame
        self._incoming: tuple[Preset, Pipeline, float] | None = None  # a built look priming its clips
        self._prewarm_later: Preset | None = None  # the next cue, warmed once looks are built aside
        self._time = 0.0
        self.size = size
        self.preset = preset
        self.analyzer = Analyzer(sample_rate, clock=preset.clock_setup().settings())
        self.params = params if params is not None else build_params(preset)
        self.modulator = Modulator(self.params, preset.modulations)
        self._watch = live if watch is None else watch
        self._clip_wait = 0.0 if live else 2.0
        self.pipeline = self._pipeline(preset)
        self._generation = self.pipeline.generation
        self.sources: dict[str, float] = {}

    def _pipeline(self, preset: Preset) -> Pipeline:
        return Pipeline(self.ctx, preset, self.size, **self._pipeline_options())

    def _pipeline_options(self) -> dict:
        """What every look of this show is built with, at once or staged."""
        return {
            "watch": self._watch,
            "clip_wait": self._clip_wait,
            "guards": self.guards,
            "warm_service": self._warm(),
        }

    def _warm(self) -> WarmService | None:
        """The show's one shader warm-up child (live shows only), shared by hot reload and requests."""
        if self._warm_service is None and self._watch:
            self._warm_service = WarmService(WarmWorker())
        return self._warm_service

    def build_looks_aside(self, builder=None) -> None:
        """From now on `request` warms a look's shaders in the warm-up child before it is adopted (live
        shows). Without it, `request` recalls at once (offline renders stay deterministic). `builder`:
        another source of ready looks with LookBuilder's request/poll (a replayed take's, events.py)."""
        if builder is not None:
            self._looks = builder
        elif self._looks is None:
            self._looks = LookBuilder(self._warm() or WarmService(WarmWorker()), self._planned_transition)
            self._warm_service = self._looks.service
            self.staging = LookStaging(self._staged_pipeline)  # a replay adopts at the take's frame
        if self._prewarm_later is not None:  # the first cue's next one, asked for before looks were aside
            self.prewarm(self._prewarm_later)
            self._prewarm_later = None

    def _planned_transition(self) -> str | None:
        """The transition of the morph the next look comes in through (warmed with it), or None."""
        return self.morph_plan.transition if self.morph_plan is not None else None

    def request(self, preset: Preset) -> None:
        """Ask for another look without stalling a frame: it is built aside and adopted by `adopt_look`
        at a frame boundary; the newest request wins. A look that does not build is refused (look_error)
        and the current one stays."""
        if self._looks is None:
            self.recall(preset)
            return
        self._looks.request(preset, self._spec_for)

    def _spec_for(self, doc: IsfDocument):
        """The textures `doc` will be drawn with, by the look on now (a build may begin frames later)."""
        return self.pipeline.spec_for(doc)

    @property
    def building(self) -> bool:
        """A requested look is still on its way (warmed, built or primed): a prewarm asked now would be
        dropped by the warm-up child, which serves a request first."""
        pending = self._looks is not None and getattr(self._looks, "pending", False)
        return pending or self._incoming is not None or (self.staging is not None and self.staging.building)

    def prewarm(self, preset: Preset) -> None:
        """Warm a look the show will probably want next (the next cue), so its GO is adopted at once;
        asked before looks are built aside (the first cue is on before the first frame), once they are."""
        if self._looks is None:
            self._prewarm_later = preset
        elif hasattr(self._looks, "prewarm"):
            self._looks.prewarm(preset, self.pipeline.spec_for)

    def adopt_look(self) -> bool:
        """Called by the live loop at the start of a frame: bring in a requested look that is ready."""
        if self._looks is None:
            return False
        result = self._looks.poll()
        if result is not None:
            try:
                if not isinstance(result, LookReady):
                    raise result.error
                if self.staging is not None:
                    self.staging.start(result.preset)
                else:
                    self._prime(result.preset, self._pipeline(result.preset))
            except HalationError as exc:
                return self._refuse(result.preset, exc)
            self.look_error = None
        if self.staging is not None:
            try:
                built = self.staging.step()
            except HalationError as exc:
                return self._refuse(self.preset, exc)
            if built is not None:
                self._prime(*built)
        return self._primed()

    def _refuse(self, preset: Preset, exc: HalationError) -> bool:
        self.look_error = exc
        log.error("%s (look '%s' refused: the look stays as it was)", exc, preset.name)
        return False

    def _staged_pipeline(self, preset: Preset):
        """A ready look's pieces for the staging (its morph's transition first, when one is planned)."""
        yield from morph.prepare(self)
        yield from Pipeline.staged(self.ctx, preset, self.size, **self._pipeline_options())

    def _prime(self, preset: Preset, pipeline: Pipeline) -> None:
        """Hold a built look until its clips have a first frame to show (3 s at most: a busy machine
        decodes late), so a cue never puts a black deck on the output; a newer look takes its place."""
        if self._incoming is not None:
            morph.let_go(self, self._incoming[1])
        self._incoming = (preset, pipeline, time.monotonic() + CLIP_PRIME_SECONDS)

    def _primed(self) -> bool:
        """Bring in the look held by _prime once its clips show (or it has waited long enough)."""
        if self._incoming is None:
            return False
        preset, pipeline, deadline = self._incoming
        clips = pipeline.clips
        if clips.decks or clips.director is not None:
            ready = clips.update(self._time, float(preset.crossfade), self.sources)
            if ready is None and time.monotonic() < deadline:
                return False
        self._incoming = None
        self._swap(preset, pipeline)
        return True

    def draw(self, ft: FrameTime, features: Features, target: moderngl.Framebuffer) -> dict[str, ParamValue]:
        """Modulate and render one frame; returns the parameter values it was drawn with."""
        sources = feature_values(features, ft.time)
        self._time = ft.time
        self.sources = sources  # what the music gave this frame (the preview's HUD reads it)
        values = None
        with self.guards.stage("modulation"):
            values = self.modulator.evaluate(sources, ft.delta)
        if values is None:  # modulation bypassed for this frame: the values as the operator set them
            values = self.params.base()
        if self.morph is not None:
            morph.draw(self, ft, features, sources, values, target)
        else:
            self.pipeline.render(ft, values, features, target, sources)
        self.params.reset_events()
        if self.pipeline.generation != self._generation:
            self._adopt_new_inputs()
        return values

    def recall(self, preset: Preset) -> None:
        """Switch to another preset at this frame boundary. The new look is built first: if it fails
        (a shader that does not compile), the error is raised and the current look stays on the output.
        The operator's show-level settings (master, tempo controls, crossfader) carry over; the song's tempo
        range and bar length come from the new preset."""
        self._swap(preset, self._pipeline(preset))

    def _swap(self, preset: Preset, pipeline: Pipeline) -> None:
        """Put a built look on: its parameters (show-level ones kept), modulations and pipeline."""
        kept = {
            k: v
            for k, v in self.params.base().items()
            if k.split(".")[0] in SHOW_LEVEL and k not in SONG_PARAMS
        }
        fresh = build_params(preset)
        going = morph.retiring_modulator(self) if self.morph_plan is not None else None
        added = [p for n, p in self.params.params.items() if n in kept and n not in fresh]  # e.g. stage.*
        self.params.replace([*fresh.params.values(), *added], preset.macros)
        for name, value in kept.items():
            if name in self.params and name != "clips.crossfade":
                self.params.set(name, value)
        self.modulator = Modulator(self.params, preset.modulations)
        self.analyzer.command(preset.clock_setup())  # the next song's tempo range and bar length
        morph.retire(self, self.pipeline, going)  # released now, or drawn through the planned morph
        self.pipeline = pipeline
        self._generation = pipeline.generation
        self.preset = preset
        self.guards.clear("layer ")  # the old look's layer errors went with it
        self.look_generation += 1

    def _adopt_new_inputs(self) -> None:
        """A reloaded shader may declare new inputs: give them parameters so desks can reach them."""
        self._generation = self.pipeline.generation
        added = False
        for layer in self.pipeline.layers:
            for param in shader_params(layer.program.doc, {}, layer.name):
                if param.name not in self.params:
                    self.params.add(param)
                    added = True
        if added:
            self.look_generation += 1

    def release(self) -> None:
        if self.morph is not None:
            self.morph.release()
            self.morph = None
        for program in self.morph_programs.values():
            program.release()
        self.pipeline.release()
        if self._incoming is not None:
            self._incoming[1].release()
            self._incoming = None
        if self.staging is not None:
            self.staging.release()
        if self._warm_service is not None:
            self._warm_service.stop()
            self._warm_service = None
