"""The render graph of a preset: clip decks → transition → the shader → its effects → master → target.

Every layer draws into a framebuffer owned here, so any later layer may sample any earlier one; the
caller supplies the final target (a window's screen, or an offscreen framebuffer read back for video).
With hot reload on, a changed shader file is swapped in between frames, only once it has compiled and
drawn without error (see engine.render.reload); the projector never shows a broken or missing shader.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import moderngl
import numpy as np

from engine.analysis.features import SPECTRUM_BINS, WAVEFORM_SAMPLES, Features
from engine.clock import FrameTime
from engine.errors import MediaError, ShaderError
from engine.params.show_params import BlackoutFade
from engine.params.store import ParamValue
from engine.render.clipstage import ClipStage
from engine.render.cliptexture import finish_releasing_gil
from engine.render.isf import IsfDocument
from engine.render.program import FrameInfo, IsfProgram
from engine.render.quad import FULLSCREEN_VS, quad_buffer
from engine.render.textures import AudioTextures
from engine.runtime.guard import Guards
from engine.runtime.priority import lower_thread_priority
from engine.show.preset import Layer, Preset

log = logging.getLogger(__name__)

PREVIOUS = "previous"  # image source: the output of the layer before (the clips, for the main shader)
TRANSITION = "transition"  # reload key of the clip transition
_FOLLOW_PREVIOUS = ("inputImage", "startImage")
DRAW_BUDGET = 0.5  # seconds a layer may take to draw one frame live before it is frozen on its last picture
WAITING = "waiting"  # a staged build's piece that is only waiting for another thread (see Pipeline.staged)

_MASTER_FS = """#version 330 core
uniform sampler2D image;
uniform float level;
in vec2 uv;
out vec4 color;
void main() { color = vec4(texture(image, uv).rgb * level, 1.0); }
"""
_MIX_FS = """#version 330 core
uniform sampler2D dry;
uniform sampler2D wet;
uniform float amount;
in vec2 uv;
out vec4 color;
void main() { color = mix(texture(dry, uv), texture(wet, uv), amount); }
"""


CLIPS_NICE = 4  # a look's clip decks are opened and decoded behind the frames (about a third of their share)


_WARM_FRAME = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2000.0, 1.0, 1.0, 0.0))


class ClipsAside:
    """Makes a look's clip stage on another thread. If the look is abandoned first, the stage is let go
    where it is when it comes: nothing on GL has been made by then (textures come with the first frame)."""

    def __init__(self, make: Callable[[], ClipStage]):
        self._make = make
        self._lock = threading.Lock()
        self._stage: ClipStage | None = None
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name="halation-look-clips", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lower_thread_priority(CLIPS_NICE)  # the decoders it starts inherit it (Linux: per thread)
        try:
            stage = self._make()
        except Exception as exc:  # raised on the render thread by take()
            self._error = exc
            return
        with self._lock:
            if not self._abandoned:
                self._stage = stage
                return
        stage.release()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def take(self) -> ClipStage:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._stage

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            stage, self._stage = self._stage, None
        if stage is not None:
            stage.release()


class SharedDraws:
    """The master and wet/dry mix passes, one pair per GL context for every look it ever shows: a look
    brought in reuses the ones already compiled and drawn, so it builds no new shader variants for them
    (a program object of its own would mean a fresh driver compile at its first blackout or mix)."""

    def __init__(self, ctx: moderngl.Context):
        self.quad = quad_buffer(ctx)
        self.master = ctx.program(vertex_shader=FULLSCREEN_VS, fragment_shader=_MASTER_FS)
        self.master_vao = ctx.vertex_array(self.master, [(self.quad, "2f", "in_pos")])
        self.mix = ctx.program(vertex_shader=FULLSCREEN_VS, fragment_shader=_MIX_FS)
        self.mix_vao = ctx.vertex_array(self.mix, [(self.quad, "2f", "in_pos")])
        self._warmed = False

    def warm(self, layer: moderngl.Framebuffer, small: moderngl.Framebuffer) -> None:
        """Once: draw both passes (into `small`, RGBA8 like their real targets, sampling an RGBA8 layer),
        and copy a float buffer out to an RGBA8 layer at the show's size (`layer`), as a float pass buffer's
        last pass is copied. Those blits are the driver's own shaders, not in its disk cache: measured
        45-50 ms of the render thread the first time in a process (feedback.fs's first frame), then under
        a millisecond. Leaves bound what was bound."""
        if self._warmed:
            return
        self._warmed = True
        ctx = layer.ctx
        bound = ctx.fbo
        texture = layer.color_attachments[0]
        small.use()
        texture.use(0)
        texture.use(1)
        self.master["image"].value = 0
        self.master["level"].value = 0.5
        self.master_vao.render(moderngl.TRIANGLE_STRIP)
        self.mix["dry"].value, self.mix["wet"].value, self.mix["amount"].value = 0, 1, 0.5
        self.mix_vao.render(moderngl.TRIANGLE_STRIP)
        float_tex = ctx.texture(layer.size, 4, dtype="f4")
        float_fbo = ctx.framebuffer(color_attachments=[float_tex])
        ctx.copy_framebuffer(layer, float_fbo)
        (bound if bound is not None and not isinstance(bound.mglo, moderngl.InvalidObject) else small).use()
        float_fbo.release()
        float_tex.release()


_SHARED_DRAWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared_draws(ctx: moderngl.Context) -> SharedDraws:
    """The context's master and mix passes (made at the first look; they live as long as the context)."""
    draws = _SHARED_DRAWS.get(ctx)
    if draws is None:
        draws = _SHARED_DRAWS[ctx] = SharedDraws(ctx)
    return draws


def audio_uniforms(sources: Features | Mapping[str, float]) -> dict[str, float]:
    """Every analysis value as the hl_* uniform name shaders read (bass.hits → hl_bass_hits)."""
    values = sources.values() if isinstance(sources, Features) else sources
    return {"hl_" + name.replace(".", "_"): float(v) for name, v in values.items()}


def describe(tex: moderngl.Texture) -> dict:
    """What a driver's compiled shader depends on about a bound texture (for the warm-up worker)."""
    return {
        "size": list(tex.size),
        "components": tex.components,
        "dtype": tex.dtype,
        "filter": list(tex.filter),
        "repeat": [bool(tex.repeat_x), bool(tex.repeat_y)],
    }


class LayerRun:
    """A layer of the chain as it runs: its program, its framebuffer, and how it is fed each frame."""

    def __init__(self, spec: Layer, program: IsfProgram, fbo: moderngl.Framebuffer, audio: AudioTextures):
        self.name = spec.name
        self.bindings = dict(spec.images)  # image input -> source named in the preset
        self.mix_param = f"{spec.name}.mix" if spec.mix is not None else None
        self.fbo = fbo
        self.program = program
        self.params: list[tuple[str, str]] = []  # (parameter name, input name)
        self.images: list[tuple[str, str]] = []  # (image input, source)
        self.audio_inputs: list[tuple[str, str]] = []  # (audio input, AudioTextures key)
        self.use(program, audio)

    def use(self, program: IsfProgram, audio: AudioTextures) -> None:
        """Adopt a (new) program: work out its parameters and image sources once, not per frame."""
        self.program = program
        self.params, self.images, self.audio_inputs = feeds(program.doc, self.name, self.bindings, audio)

    def values(self, values: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        return {inp: values[p] for p, inp in self.params if p in values}


def feeds(doc: IsfDocument, name: str, bindings: Mapping[str, str], audio: AudioTextures) -> tuple:
    """(parameters, image sources, audio textures) feeding a layer's inputs."""
    params, images, audio_inputs = [], [], []
    for inp in doc.inputs:
        if inp.type == "image":
            default = PREVIOUS if inp.name in _FOLLOW_PREVIOUS else "clips"
            images.append((inp.name, bindings.get(inp.name, default)))
        elif inp.type in ("audio", "audioFFT"):
            width = int(inp.max) if isinstance(inp.max, int | float) and inp.max >= 1 else None
            audio_inputs.append((inp.name, audio.request(inp.type, width)))
        else:
            params.append((f"{name}.{inp.name}", inp.name))
    return params, images, audio_inputs


class Pipeline:
    def __init__(
        self,
        ctx: moderngl.Context,
        preset: Preset,
        size: tuple[int, int],
        *,
        watch: bool = False,
        clip_wait: float = 2.0,
        guards: Guards | None = None,
        warm_service=None,
        _staged: bool = False,
    ):
        """`clip_wait`: seconds to wait for a clip frame being decoded (offline: deterministic frames);
        live shows pass 0 and keep the last frame instead of waiting. `guards`: each layer draws inside
        its guard (an effect that raises is skipped for the frame, the main shader keeps its last good
        picture). `warm_service`: the show's shader warm-up child, shared by every look (else hot reload
        starts its own)."""
        self.ctx = ctx
        self.guards = guards or Guards()
        self._blackout = BlackoutFade()
        self._warm_service = warm_service
        self.preset = preset
        self.size = size
        self._clip_wait = clip_wait
        self._watch = watch
        self.generation = 0  # counts swaps, so the Show can pick up inputs a reloaded shader added
        self.last_swap_seconds = 0.0  # render-thread cost of the last swap (compile + warm), for checks
        self.audio = AudioTextures(ctx)
        self._blank = ctx.texture((1, 1), 4, data=bytes(4))
        self._warm_fbo = ctx.framebuffer(color_attachments=[ctx.texture((4, 4), 4)])
        self._clip_fbo = self._framebuffer(size)
        self._clips_cleared = False  # the clip framebuffer holds black (no clip has played since)
        self._scratch = self._framebuffer(size)
        self.layers: list[LayerRun] = []
        self.transition: IsfProgram | None = None
        self.clips: ClipStage | None = None
        self._draws = shared_draws(ctx)
        self._out: moderngl.Framebuffer | None = None
        self._shared: dict[str, moderngl.Texture] = {}  # the audio textures of the last frame
        self.draw_budget = DRAW_BUDGET
        self._profile = 0  # frames left in which each layer is timed
        self._frozen: dict[str, ShaderError] = {}  # layers over the draw budget, until reloaded
        self.reloader = None
        self._bound: moderngl.Framebuffer | None = None
        self._released = False
        self.warm_seconds = 0.0  # the slowest first draw of a staged build (a driver-cache miss if long)
        if not _staged:
            for _ in self._build(warm=False):
                pass

    @classmethod
    def staged(
        cls, ctx: moderngl.Context, preset: Preset, size: tuple[int, int], with_clips: bool = True, **kwargs
    ) -> Iterator:
        """Build a pipeline a piece at a time, for a live show bringing in the next look while the current
        one plays: each `next()` does one piece (a program compiled, a program's first draw) and yields
        None, or yields WAITING while the clip decks open on their thread (nothing more to do this
        frame), and the last yields the pipeline. Each program is drawn once, whole, with
        the very textures it will sample, so the driver's shader variants (disk-cache hits when the warm-up
        child built the same look the same way: engine.render.warm.warm_look) are made here, a piece a
        frame, and the frame that puts the look on screen costs what any frame of it costs. Close the
        iterator to abandon the build. `with_clips=False` (the warm-up child): no clip decks."""
        pipeline = cls(ctx, preset, size, _staged=True, **kwargs)
        pipeline._bound = ctx.fbo  # what the show has bound at a frame boundary
        built = False
        try:
            yield None
            yield from pipeline._build(warm=True, with_clips=with_clips)
            built = True
            yield pipeline
        finally:
            if not built:
                pipeline.release()

    def _build(self, warm: bool, with_clips: bool = True) -> Iterator[None]:
        """The pieces of a pipeline in order; with `warm`, each program's first draw is a piece too."""
        ctx, preset = self.ctx, self.preset
        try:
            # once a context (the show's first look, before its first frame): the shared passes, and the
            # driver's blits a float pass buffer's copy-out needs, which its disk cache does not keep
            self._draws.warm(self._scratch, self._warm_fbo)
            if preset.transition:
                self.transition = IsfProgram(ctx, preset.transition)
                if warm:
                    yield None
                    self._warm_program(self.transition, self._clip_fbo, self._transition_images())
            for spec in preset.layers:
                if warm:
                    yield None
                program = IsfProgram(ctx, spec.shader)
                self.layers.append(LayerRun(spec, program, self._framebuffer(self.size), self.audio))
                if warm:
                    yield None
                    self._warm_layer(self.layers[-1])
            if warm:
                yield None
                if not with_clips:
                    return
                yield from self._open_clips_aside()
            else:
                self._warm_audio()  # made now, as a staged build makes them: spec_for describes them
                self.clips = ClipStage(ctx, preset, self._clip_wait)
            self.clips.faults.sink = lambda text: self.guards.record("clips", MediaError(text))  # said once
            if self._watch:
                self._watch_all()
        except Exception:
            self.release()
            raise

    # --- warming (a staged build) ----------------------------------------------------------------

    def _open_clips_aside(self) -> Iterator[None]:
        """The clip decks opened on a thread of their own while frames go on (PyAV opening two files and
        probing them takes 30-70 ms, too long for a frame); no GL object is made until the first upload."""
        aside = ClipsAside(lambda: ClipStage(self.ctx, self.preset, self._clip_wait))
        try:
            while not aside.done:
                yield WAITING  # nothing to do on this thread: the frame's share ends here
        except BaseException:
            aside.abandon()
            raise
        self.clips = aside.take()

    def _restore_binding(self) -> None:
        """Leave the show's framebuffer bound, never one of ours: a build may be abandoned and released,
        and releasing a bound framebuffer breaks the next ctx.framebuffer()."""
        if self._bound is not None:
            self._bound.use()

    def _warm_audio(self) -> dict[str, moderngl.Texture]:
        """The audio textures, made now (silent) in the shape the show's analysis has."""
        spectrum = np.zeros(SPECTRUM_BINS, np.float32)
        return self.audio.update(spectrum, np.zeros(WAVEFORM_SAMPLES, np.float32))

    def _transition_images(self) -> dict[str, moderngl.Texture]:
        clip = self._clip_fbo.color_attachments[0]  # clip frames arrive as RGBA textures like this one
        return {**self._warm_audio(), "startImage": clip, "endImage": clip}

    def _warm_layer(self, layer: LayerRun) -> None:
        """The layer's first draw into a few pixels, bound as `_draw_look` will bind it."""
        shared = self._warm_audio()
        clips = self._clip_fbo.color_attachments[0] if self.transition is not None else self._blank
        outputs = {"clips": clips}
        previous = clips
        for run in self.layers:
            if run is layer:
                break
            previous = outputs[run.name] = run.fbo.color_attachments[0]
        self._warm_program(layer.program, layer.fbo, self._images(layer, shared, outputs, previous))

    def _warm_program(self, program: IsfProgram, fbo: moderngl.Framebuffer, images) -> None:
        """One whole frame of the program into its own target, as the show will draw it: every pass, and
        the copy out of a pass buffer (a float buffer's copy is a blit variant of its own; drawing into a
        few pixels' viewport left those for the first frame on screen: feedback.fs 40 ms more, measured).
        Only a corner is rasterised (IsfProgram.render_corner): the variants are the same, and the frame
        this piece shares no longer carries a whole layer more of raster work (on llvmpipe a layer is
        5-20 ms at 640x360, a third of a frame). The target is cleared first: a layer whose first real
        draw fails keeps black, not what the memory held."""
        started = time.perf_counter()
        fbo.clear(0.0, 0.0, 0.0, 1.0)
        program.render_corner(fbo, images=images, frame=_WARM_FRAME)
        self._restore_binding()
        finish_releasing_gil(self.ctx)  # done in this piece, not the next frame's; other threads run on
        took = time.perf_counter() - started
        log.debug("first draw of %s: %.1f ms", program.doc.path.name, 1000 * took)
        self.warm_seconds = max(self.warm_seconds, took)

    @property
    def shader(self) -> IsfProgram:
        """The main shader's program (the first layer)."""
        return self.layers[0].program

    def _framebuffer(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        tex = self.ctx.texture(size, 4)
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return self.ctx.framebuffer(color_attachments=[tex])

    # --- hot reload ----------------------------------------------------------------------------

    def _reloader(self):
        if self.reloader is None:
            from engine.render.reload import ShaderReloader

            self.reloader = ShaderReloader(service=self._warm_service)
        return self.reloader

    def _watch_all(self) -> None:
        reloader = self._reloader()
        for layer in self.layers:
            reloader.watch(layer.name, layer.program.doc.path, layer.program.doc)
        if self.transition is not None:
            reloader.watch(TRANSITION, self.transition.doc.path, self.transition.doc)

    def load_shader(self, layer: str, path: str | Path) -> None:
        """Swap a layer ("shader", an effect's name, or "transition") to another .fs file, safely:
        built and warmed aside, swapped in only if it works; until then the current one plays."""
        names = {run.name for run in self.layers} | {TRANSITION}
        if layer not in names:
            raise ShaderError(f"no layer '{layer}' (layers: {', '.join(sorted(names))})", path=path)
        self._reloader().request(layer, Path(path))

    def errors(self) -> list[ShaderError]:
        """Shader reload errors and layers frozen for drawing too slowly, to show the operator (file, .fs
        line, message); empty when all is well."""
        reload = self.reloader.errors() if self.reloader is not None else []
        return [*reload, *self._frozen.values()]

    def note_frame(self, seconds: float) -> None:
        """The live loop's time for the last frame. Over the draw budget, the next frame times each layer
        (waiting for the GPU after each), and a layer over budget is frozen on its last picture until its
        shader is reloaded: a loop bounded by TIME that grows slower during the show cannot stall it."""
        if seconds > self.draw_budget:
            self._profile = 2

    def _swap_in(
        self,
        key: str,
        current: IsfProgram,
        images_for: Callable[[IsfDocument], dict[str, moderngl.Texture]],
        values: Mapping[str, ParamValue],
    ) -> IsfProgram | None:
        """If a warmed new version of `key` is ready, compile it, warm it at full size and hand it back
        (the caller swaps it in and releases the old one). None if there is none or it failed."""

        def spec(doc: IsfDocument) -> tuple[tuple[int, int], dict]:
            return self.size, {name: describe(tex) for name, tex in images_for(doc).items()}

        doc = self.reloader.take(key, spec)
        if doc is None:
            return None
        program = None
        started = time.perf_counter()
        try:
            _ = self.ctx.error  # reading the error clears a stale one left by someone else's call
            program = IsfProgram(self.ctx, doc)
            program.warm(self._warm_fbo, self.size, images=images_for(doc), values=values)
            program.adopt_state(current)
        except (ShaderError, moderngl.Error) as exc:
            if program is not None:
                program.release()
            error = exc if isinstance(exc, ShaderError) else ShaderError(str(exc).strip(), path=doc.path)
            self.reloader.failed(key, error)
            return None
        self.reloader.accepted(key, doc)
        self.generation += 1
        self.last_swap_seconds = time.perf_counter() - started
        log.debug("swap of %s took %.1f ms on the render thread", key, 1000 * self.last_swap_seconds)
        return program

    def spec_for(self, doc: IsfDocument) -> tuple[tuple[int, int], dict]:
        """The textures another look's shader will be drawn with, described for the warm-up child:
        this show's audio textures and, for each image input, a layer's framebuffer (all alike). A look
        just built has drawn no frame yet, but its build made the audio textures: described the same, so
        the next cue prewarmed in the frame that brought this look in is the one its GO asks for (without
        them every shader of it was warmed again at GO, and the GO waited for the warm-up child)."""
        images = {name: describe(tex) for name, tex in (self._shared or self.audio.current()).items()}
        layer_image = describe(self.layers[0].fbo.color_attachments[0])
        for inp in doc.inputs:
            if inp.type == "image":
                images[inp.name] = layer_image
            elif inp.type in ("audio", "audioFFT") and "hl_spectrum" in images:
                images[inp.name] = {**images["hl_spectrum"], "components": 4}
        return self.size, images

    # --- drawing ---------------------------------------------------------------------------------

    def render(
        self,
        ft: FrameTime,
        values: Mapping[str, ParamValue],
        features: Features,
        target: moderngl.Framebuffer,
        sources: Mapping[str, float] | None = None,
    ) -> None:
        """Draw one frame into `target`. `sources` are the analysis values for this frame (the Show
        passes the ones it modulated with; by default `features.values()`). A stage that fails is
        bypassed: `target` then keeps what it showed last."""
        if self._profile:
            self._profile -= 1
        if self.reloader is not None:
            with self.guards.stage("shader reload"):
                self.reloader.poll()
        if self._out is None or not values.get("master.freeze", False):
            self._out = self._draw_look(
                ft, values, features, sources if sources is not None else features.values()
            )
        with self.guards.stage("master"):
            self._draw_master(values, target, ft.time)

    def _draw_master(
        self, values: Mapping[str, ParamValue], target: moderngl.Framebuffer, now: float
    ) -> None:
        level = self._blackout.level(values, now)  # master.level, blackout faded over master.fade
        full = target.size == self.size and tuple(target.viewport) == (0, 0, *self.size)
        if level >= 1.0 and full:
            self.ctx.copy_framebuffer(target, self._out)  # a plain copy: far cheaper than a pass
            target.use()  # leave the caller's framebuffer bound, never one of ours
            return
        target.use()
        self._out.color_attachments[0].use(0)
        self._draws.master["image"].value = 0
        self._draws.master["level"].value = level
        self._draws.master_vao.render(moderngl.TRIANGLE_STRIP)

    def _draw_look(
        self,
        ft: FrameTime,
        values: Mapping[str, ParamValue],
        features: Features,
        sources: Mapping[str, float],
    ) -> moderngl.Framebuffer:
        """Clips → transition → the shader → each effect; returns the framebuffer holding the look."""
        frame = FrameInfo(time=ft.time, timedelta=ft.delta, frame_index=ft.index, date=ft.date)
        uniforms = audio_uniforms(sources)
        shared = self._shared = self.audio.update(features.spectrum, features.waveform)
        clips = self._blank
        with self.guards.stage("clips") as stage:
            clips = self._draw_clips(ft, values, frame, shared, uniforms, sources)
        if not stage.ok:  # the last clip picture that drew
            clips = self._clip_fbo.color_attachments[0]
        outputs = {"clips": clips}  # by layer name
        previous = outputs["clips"]
        out = self.layers[0].fbo
        for layer in self.layers:
            mix = float(values.get(layer.mix_param, 1.0)) if layer.mix_param else 1.0
            if mix <= 0.0:  # bypassed: costs nothing
                outputs[layer.name] = previous
                continue

            def images_for(doc: IsfDocument, layer=layer, previous=previous) -> dict[str, moderngl.Texture]:
                if doc is layer.program.doc:
                    return self._images(layer, shared, outputs, previous)
                _, images, audio_inputs = feeds(doc, layer.name, layer.bindings, self.audio)
                return self._images_from(images, audio_inputs, shared, outputs, previous)

            with self.guards.stage(f"layer {layer.name}") as stage:
                self._timed_layer(layer, images_for, values, frame, uniforms, mix, previous, shared, outputs)
            if not stage.ok and layer is not self.layers[0]:
                outputs[layer.name] = previous  # a failed effect is skipped for this frame
                continue
            previous = layer.fbo.color_attachments[0]  # drawn, or the main shader's last good picture
            outputs[layer.name] = previous
            out = layer.fbo
        return out

    def _timed_layer(self, layer, images_for, values, *draw) -> None:
        """Draw a layer; while profiling, wait for it and freeze it if it went over the draw budget. A
        frozen layer only looks for a reloaded version (which unfreezes it) and keeps its last picture."""
        if self.reloader is not None:
            new = self._swap_in(layer.name, layer.program, images_for, layer.values(values))
            if new is not None:
                old = layer.program
                layer.use(new, self.audio)
                old.release()
                self._frozen.pop(layer.name, None)
        if layer.name in self._frozen:
            return
        started = time.perf_counter()
        self._draw_layer(layer, values, *draw)
        if self._profile:
            self.ctx.finish()
            took = time.perf_counter() - started
            if took > self.draw_budget:
                self._freeze(layer, took)

    def _freeze(self, layer: LayerRun, took: float) -> None:
        error = ShaderError(
            f"drawing a frame took {took:.1f} s (over the {self.draw_budget:g} s budget): the layer"
            " holds its last picture until the shader is fixed",
            path=layer.program.doc.path,
        )
        log.error("%s", error)
        self._frozen[layer.name] = error

    def _draw_layer(self, layer, values, frame, uniforms, mix, previous, shared, outputs) -> None:
        """Draw the layer (blended when mixed)."""
        images = self._images(layer, shared, outputs, previous)
        dst = layer.fbo if mix >= 1.0 else self._scratch
        layer.program.render(dst, values=layer.values(values), images=images, frame=frame, audio=uniforms)
        if mix < 1.0:
            self._blend(previous, self._scratch.color_attachments[0], mix, layer.fbo)

    def _images(self, layer: LayerRun, shared, outputs, previous) -> dict[str, moderngl.Texture]:
        return self._images_from(layer.images, layer.audio_inputs, shared, outputs, previous)

    def _images_from(self, images, audio_inputs, shared, outputs, previous) -> dict[str, moderngl.Texture]:
        """The textures a layer samples: audio, then each image input's source (a layer's output)."""
        out = dict(shared)
        for name, source in images:
            out[name] = previous if source == PREVIOUS else outputs.get(source, self._blank)
        for name, key in audio_inputs:
            tex = shared.get(key)
            if tex is not None:
                out[name] = tex
        return out

    def _draw_clips(self, ft, values, frame, shared, uniforms, sources) -> moderngl.Texture:
        mix = self.clips.update(ft.time, float(values.get("clips.crossfade", 0.0)), sources)
        if mix is None or self.transition is None:
            return self._no_clips()
        self._clips_cleared = False
        start, end, progress = mix

        def images_for(doc: IsfDocument) -> dict[str, moderngl.Texture]:
            return {**shared, "startImage": start, "endImage": end}

        crossfade = {"progress": progress}
        if self.reloader is not None:
            new = self._swap_in(TRANSITION, self.transition, images_for, crossfade)
            if new is not None:
                self.transition.release()
                self.transition = new
        self.transition.render(
            self._clip_fbo,
            values=crossfade,
            images=images_for(self.transition.doc),
            frame=frame,
            audio=uniforms,
        )
        return self._clip_fbo.color_attachments[0]

    def _no_clips(self) -> moderngl.Texture:
        """Black where no clip plays (yet: a look's decks decode their first frames after it is built).
        A look with clips gets its clip framebuffer cleared, not the 1x1 blank: its layers were warmed
        sampling that texture, and a texture of another shape or sampler state is another shader variant
        for the driver (measured, llvmpipe: edge_glow.fs's first frame before its clips came, 50 ms)."""
        if self.transition is None:
            return self._blank
        if not self._clips_cleared:
            self._clip_fbo.clear(0.0, 0.0, 0.0, 1.0)
            self._clips_cleared = True
        return self._clip_fbo.color_attachments[0]

    def _blend(self, dry: moderngl.Texture, wet: moderngl.Texture, amount: float, dst) -> None:
        dst.use()
        dry.use(0)
        wet.use(1)
        mix = self._draws.mix
        mix["dry"].value = 0
        mix["wet"].value = 1
        mix["amount"].value = amount
        self._draws.mix_vao.render(moderngl.TRIANGLE_STRIP)

    def release_aside(self) -> None:
        """release(), with the clip decoders stopped on a thread of their own: for a look that went off
        while the show goes on (joining a decoder mid-decode can take tens of milliseconds)."""
        self.release(decks_aside=True)

    def release(self, decks_aside: bool = False) -> None:
        """Let go of every GL object of this look (twice is harmless)."""
        if getattr(self, "_released", False):
            return
        self._released = True
        if getattr(self, "reloader", None) is not None:
            self.reloader.close()
            self.reloader = None
        if getattr(self, "clips", None) is not None:
            self.clips.release_textures()
            if decks_aside:  # decoders joined off the render thread (their files are let go meanwhile)
                threading.Thread(target=self.clips.close_decks, name="halation-clips-close").start()
            else:
                self.clips.close_decks()
        for layer in self.layers:
            layer.program.release()
        if self.transition:
            self.transition.release()
        self.audio.release()
        # render() leaves the caller's target bound, so none of these is bound now (releasing a bound
        # framebuffer would break the next ctx.framebuffer()).
        for fbo in (self._clip_fbo, self._scratch, self._warm_fbo, *(layer.fbo for layer in self.layers)):
            fbo.color_attachments[0].release()
            fbo.release()
        self._blank.release()
