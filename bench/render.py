"""Render cost: the engine's frame time against a bare moderngl loop drawing the same shader at the same
size (ratio = engine ÷ bare, the median of paired batches measured side by side in one run), and the frame
rate of a chain: generator + 2 effects over a clip crossfade.

The bare loop compiles the very GLSL the engine generates, binds the same textures and draws one full-screen
quad into an offscreen framebuffer; the engine frame is everything `Show.draw` does for a preset holding only
that shader (parameters, modulation, audio uniforms and textures, the draw, the copy to the output). Both end
with `ctx.finish()`, so the time is the time the picture takes. Batches alternate which goes first.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

DEFAULT_SHADER = "generators/tunnel.fs"


def add_arguments(p) -> None:
    from engine.commands.common import parse_size

    p.add_argument("--size", type=parse_size, default=(1280, 720), help="render size (1280x720)")
    p.add_argument(
        "--shader",
        default=DEFAULT_SHADER,
        help=f"shader for the ratio, under shaders/ or a path ({DEFAULT_SHADER})",
    )
    p.add_argument("--pairs", type=int, default=60, help="paired batches for the ratio (60)")
    p.add_argument("--batch", type=int, default=4, help="frames per batch (4)")
    p.add_argument("--chain-frames", type=int, default=150, help="frames of the chain measured (150)")


def analysed_features(seconds: float = 6.0):
    """Features of the demo song a few seconds in: real levels, hits and spectrum, not zeros."""
    from engine.analysis.analyzer import Analyzer
    from engine.audio.buffer import AudioBuffer
    from engine.audio.synth import demo_track

    track = demo_track()
    analyzer = Analyzer(track.sample_rate)
    mono = AudioBuffer(track.samples, track.sample_rate).mono()
    analyzer.feed(mono[: int(seconds * track.sample_rate)])
    return analyzer.snapshot()


def write_preset(folder: Path, shader: Path, body: str = "") -> Path:
    path = folder / "bench.toml"
    path.write_text(f'name = "bench"\n[shader]\nfile = "{shader}"\n{body}')
    return path


class BareLoop:
    """The same generated GLSL drawn by hand with moderngl: a program, a quad, the textures, a draw."""

    def __init__(self, ctx, doc, size, features):
        import moderngl
        import numpy as np

        from engine.render.pipeline import audio_uniforms

        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=doc.vertex, fragment_shader=doc.fragment)
        self.vbo = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4"))
        self.vao = ctx.vertex_array(self.prog, [(self.vbo, "2f", "VERTEXDATA")])
        self.target = ctx.framebuffer(color_attachments=[ctx.texture(size, 4)])
        self.textures = []
        for unit, name in enumerate(n for n in ("hl_spectrum", "hl_waveform") if n in self.prog):
            data = features.spectrum if name == "hl_spectrum" else features.waveform
            tex = ctx.texture((len(data), 1), 1, data.astype("f4").tobytes(), dtype="f4")
            tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self.prog[name].value = unit
            self.textures.append((tex, unit))
        for name, value in audio_uniforms(features).items():
            if name in self.prog:
                self.prog[name].value = value
        for i in doc.inputs:
            if i.name in self.prog and i.default is not None and i.type not in ("image", "audio", "audioFFT"):
                self.prog[i.name].value = i.default
        if "RENDERSIZE" in self.prog:
            self.prog["RENDERSIZE"].value = size
        self.time = self.prog.get("TIME", None)

    def draw(self, t: float) -> None:
        import moderngl

        if self.time is not None:
            self.time.value = t
        for tex, unit in self.textures:
            tex.use(unit)
        self.target.use()
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        self.ctx.finish()


def timed(draw, n: int, start: int) -> float:
    """Mean seconds per frame over `n` frames."""
    t0 = time.perf_counter()
    for i in range(n):
        draw(start + i)
    return (time.perf_counter() - t0) / n


def overhead(ctx, shader: Path, size, pairs: int, batch: int, features) -> dict:
    """Median engine and bare frame times and the median of the paired ratios."""
    from engine.app import Show
    from engine.clock import FrameTime
    from engine.render.context import Offscreen
    from engine.show.preset import load_preset

    with tempfile.TemporaryDirectory() as tmp:
        preset = load_preset(write_preset(Path(tmp), shader.resolve()))
    show = Show(ctx, preset, size)
    out = Offscreen(ctx, size)
    bare = BareLoop(ctx, preset.shader, size, features)

    def engine_frame(i: int) -> None:
        show.draw(FrameTime(i, i / 60, 1 / 60, (2000.0, 1.0, 1.0, i / 60)), features, out.fbo)
        ctx.finish()

    def bare_frame(i: int) -> None:
        bare.draw(i / 60)

    for i in range(10):  # warm both: driver shader variants, caches
        engine_frame(i)
        bare_frame(i)
    engine_times, bare_times, ratios = [], [], []
    frame = 10
    for k in range(pairs):
        order = (engine_frame, bare_frame) if k % 2 == 0 else (bare_frame, engine_frame)
        results = {}
        for draw in order:
            results[draw] = timed(draw, batch, frame)
            frame += batch
        engine_times.append(results[engine_frame])
        bare_times.append(results[bare_frame])
        ratios.append(results[engine_frame] / results[bare_frame])
    show.release()
    return {
        "engine_ms": 1000 * statistics.median(engine_times),
        "bare_ms": 1000 * statistics.median(bare_times),
        "ratio": statistics.median(ratios),
        "ratio_q1": statistics.quantiles(ratios, n=4)[0],
        "ratio_q3": statistics.quantiles(ratios, n=4)[2],
    }


CHAIN = """
[clips]
a = "{clips}/nebula.mp4"
b = "{clips}/ember.mp4"
transition = "fade"
crossfade = 0.5

[[effects]]
file = "effects/luma_key.fs"
inputs = {{ keyImage = "clips", threshold = 0.3 }}

[[effects]]
file = "effects/bloom.fs"
"""


def chain_fps(ctx, size, frames: int, features) -> dict:
    """Frames per second of generator → luma key over a crossfade of two clips → bloom."""
    from engine.app import Show
    from engine.clock import FrameTime
    from engine.paths import PRESETS_DIR, SHADERS_DIR
    from engine.render.context import Offscreen
    from engine.show.preset import load_preset

    clips = PRESETS_DIR / "demo" / "clips"
    with tempfile.TemporaryDirectory() as tmp:
        body = CHAIN.format(clips=clips)
        preset = load_preset(write_preset(Path(tmp), SHADERS_DIR / "generators" / "tunnel.fs", body))
    show = Show(ctx, preset, size)
    out = Offscreen(ctx, size)
    fps = 30.0
    times = []
    for i in range(frames + 10):
        t0 = time.perf_counter()
        show.draw(FrameTime(i, i / fps, 1 / fps, (2000.0, 1.0, 1.0, i / fps)), features, out.fbo)
        ctx.finish()
        if i >= 10:
            times.append(time.perf_counter() - t0)
    show.release()
    median = statistics.median(times)
    return {
        "fps": len(times) / sum(times),
        "median_ms": 1000 * median,
        "p95_ms": 1000 * sorted(times)[int(0.95 * len(times))],
    }


def run(args) -> int:
    from engine.paths import SHADERS_DIR
    from engine.render.context import headless_context
    from engine.show.preset import resolve_file

    shader = resolve_file(args.shader, Path.cwd()) or resolve_file(args.shader, SHADERS_DIR)
    if shader is None:
        from engine.errors import HalationError

        raise HalationError(f"shader '{args.shader}' not found", path=args.shader)
    ctx = headless_context()
    renderer = ctx.info["GL_RENDERER"]
    features = analysed_features()
    w, h = args.size
    print(f"renderer: {renderer}")
    o = overhead(ctx, shader, args.size, args.pairs, args.batch, features)
    print(
        f"single shader {shader.relative_to(SHADERS_DIR) if shader.is_relative_to(SHADERS_DIR) else shader} "
        f"at {w}x{h}: engine {o['engine_ms']:.2f} ms, bare moderngl {o['bare_ms']:.2f} ms per frame; "
        f"ratio {o['ratio']:.3f} (median of {args.pairs} pairs of {args.batch} frames, "
        f"quartiles {o['ratio_q1']:.3f}-{o['ratio_q3']:.3f}; target <= 1.10)"
    )
    c = chain_fps(ctx, args.size, args.chain_frames, features)
    print(
        f"chain at {w}x{h} (tunnel -> luma_key over fade(nebula, ember) -> bloom): {c['fps']:.1f} fps, "
        f"median frame {c['median_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, {args.chain_frames} frames"
    )
    ctx.release()
    return 0
