"""Stage output cost and safety, side by side in one run: warp + blend + limiter against a plain output at
720p; the preview's cost to the projector (Xvfb); recording's cost and its dropped frames; flashes per
second of 10 Hz content on every output with the limiter on and off; a strobing look's frames with the
limiter engaged (damping) against the same look with it off; non-flashing content on vs off.

The program of the targets' lines is a bare generator (the tunnel shader alone), the strictest case: the
output's passes are the largest share of such a frame. The warp and the preview are measured again with a
shipped look as the program (--preset: by default the lightest shipped one, techno-tunnel, the same
generator and the two effects every shipped preset chains, and one of median cost), a show frame as the
audience gets it; those lines say so and do not give the verdict.

Each frame is a real show frame (`Show.draw` of a shader-only preset, then the outputs), ending with
`ctx.finish()` so the time is the time the picture takes. Conditions alternate frame by frame (recording:
the encoder thread running throughout), so a busy machine slows both alike; the
figures are medians and ratios of medians.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

SHADER = "generators/tunnel.fs"
# shipped looks as the program of a show frame: the lightest of presets/library (the same tunnel with the
# two effects every shipped preset chains after its generator: ~2.5x the tunnel alone on llvmpipe) and
# one of median cost (~7x; the sixteen span 2.5-15x)
LIBRARY = Path(__file__).resolve().parent.parent / "presets" / "library"
SHOW_PRESETS = (LIBRARY / "techno-tunnel.toml", LIBRARY / "hiphop-equaliser.toml")
STROBE_FS = """/*{ "ISFVSN": "2", "CATEGORIES": ["Generator"], "INPUTS": [] }*/
void main() { gl_FragColor = vec4(vec3(fract(TIME * 10.0) < 0.5 ? 1.0 : 0.0), 1.0); }
"""


def add_arguments(p) -> None:
    from engine.commands.common import parse_size

    p.add_argument("--size", type=parse_size, default=(1280, 720), help="render and output size (1280x720)")
    p.add_argument("--frames", type=int, default=60, help="frames per condition (60)")
    p.add_argument("--no-preview", action="store_true", help="skip the preview measurement (needs Xvfb)")
    p.add_argument(
        "--preset",
        type=Path,
        nargs="*",
        default=list(SHOW_PRESETS),
        help="looks the warp and the preview are also measured with, as the program of a show frame"
        " (the lightest shipped one, techno-tunnel, and one of median cost, hiphop-equaliser); none"
        " given: only the bare generator",
    )


def _outputs(size):
    """A plain output and the venue's: keystone, a 5×4 smooth mesh, two edge blends, a mask."""
    from engine.output.stage import EdgeBlend, Mask, Mesh, OutputSpec

    mesh = Mesh.regular(5, 4, "smooth")
    points = list(mesh.points)
    points[7] = (points[7][0] + 0.03, points[7][1] - 0.02)
    staged = OutputSpec(
        "main",
        size,
        keystone=((0.05, 0.04), (0.96, 0.0), (1.0, 1.0), (0.0, 0.93)),
        mesh=replace(mesh, points=tuple(points)),
        blend={"left": EdgeBlend(0.15), "right": EdgeBlend(0.15)},
        masks=(Mask(((0.0, 0.8), (0.2, 1.0), (0.0, 1.0))),),
    )
    return OutputSpec("plain", size), staged


class Program:
    """A show drawing a preset at `size`, frame after frame, into an offscreen texture: a bare generator
    (`shader`), or a shipped `preset` file as it is."""

    def __init__(self, ctx, size, shader=SHADER, folder: Path | None = None, preset: Path | None = None):
        from engine.app import Show
        from engine.clock import OfflineClock
        from engine.render.context import Offscreen
        from engine.show.preset import load_preset

        if preset is None:
            folder = folder or Path(tempfile.mkdtemp(prefix="halation-bench-stage-"))
            preset = folder / "bench.toml"
            preset.write_text(f'name = "bench"\n[shader]\nfile = "{shader}"\n')
        self.show = Show(ctx, load_preset(preset), size, 48000)
        self.target = Offscreen(ctx, size)
        self.clock = OfflineClock(60.0)
        self.features = self.show.analyzer.snapshot()

    def draw(self):
        ft = self.clock.tick()
        self.show.draw(ft, self.features, self.target.fbo)
        return ft

    def release(self):
        self.target.release()
        self.show.release()


def window_like(ctx, size):
    """A texture stored as an output window's framebuffer is on llvmpipe (BGRA), for the outputs to draw
    into: a blit between two RGBA textures is a memory copy, into or out of a window a drawn pass, so a
    path that copies (the limiter's damping) costs here what it costs in a window. moderngl makes RGBA8
    textures only; the storage is re-specified through glTexImage2D with BGRA pixels (which Mesa keeps as
    B8G8R8A8). Without the system GL library: a plain RGBA texture."""
    import ctypes

    texture = ctx.texture(size, 4)
    try:
        gl = ctypes.CDLL("libGL.so.1")
    except OSError:
        return texture
    gl.glBindTexture.argtypes = [ctypes.c_uint, ctypes.c_uint]
    gl.glTexImage2D.argtypes = [
        ctypes.c_uint,
        *[ctypes.c_int] * 5,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
    ]
    gl_texture_2d, gl_rgba, gl_bgra, gl_unsigned_byte = 0x0DE1, 0x1908, 0x80E1, 0x1401
    gl.glBindTexture(gl_texture_2d, texture.glo)
    gl.glTexImage2D(gl_texture_2d, 0, gl_rgba, *size, 0, gl_bgra, gl_unsigned_byte, None)
    return texture


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timed_both(fn) -> tuple[float, float]:
    """Wall time and this process's CPU time (every thread: llvmpipe's rasteriser threads too) of `fn`.
    On a machine other people load, a frame's wall time swings with their work; its CPU time much less,
    so the CPU ratio is printed beside the wall one as a cross-check (the verdict stays on wall time)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _parts(staged):
    """The venue's output taken apart, to say where its cost is: each part on the keystone alone."""
    from engine.output.stage import OutputSpec

    base = OutputSpec(staged.name, staged.size, keystone=staged.keystone)
    return {
        "keystone": base,
        "keystone+blend": replace(base, blend=staged.blend),
        "keystone+mask": replace(base, masks=staged.masks),
        "keystone+mesh": replace(base, mesh=staged.mesh),
    }


def warp_cost(ctx, size, frames: int, parts: bool = True, preset: Path | None = None) -> dict:
    """Frame time of a plain output (the program copied texel for pixel into the output's framebuffer,
    point-sampled, as the engine copies an output that changes nothing), of the default output (the
    limiter, no warp) and of the venue's output
    (keystone + mesh + blend + mask + limiter), each drawn into that framebuffer the way an output window
    draws, interleaved frame by frame with each condition first in turn. The ratios are the medians of
    each block's own ratios (one frame of each condition): on a busy machine the load drifts less within
    a block than across the run. With `parts`, the venue's parts each on the keystone alone (limiter off),
    and the keystone with its blends and the limiter (the target's words without the mesh and the mask),
    run in the same blocks, to say where the cost is; the verdict stays on the whole venue output. A
    filtered copy (what a plain output was before it was point-sampled: bilinear at texel centres, the
    same picture at twice the cost on llvmpipe) runs beside them for comparison with earlier runs. With
    `preset`, the program is that shipped look instead of the bare generator."""
    import moderngl

    from engine.output.compose import OutputCompositor
    from engine.render.quad import Blit

    program = Program(ctx, size, preset=preset)
    plain_spec, staged_spec = _outputs(size)
    comps = {
        "limited": OutputCompositor(ctx, plain_spec, size, "standard"),  # the default output: no warp
        "staged": OutputCompositor(ctx, staged_spec, size, "standard"),
    }
    if parts:
        comps.update({k: OutputCompositor(ctx, s, size, "off") for k, s in _parts(staged_spec).items()})
        warp_blend = _parts(staged_spec)["keystone+blend"]  # the target's own words: no mesh, no mask
        comps["keystone+blend+limiter"] = OutputCompositor(ctx, warp_blend, size, "standard")
    screen = window_like(ctx, size)
    screen_fbo = ctx.framebuffer(color_attachments=[screen])
    blit = Blit(ctx)
    exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
    order = ("plain", "filtered", *comps)
    k = len(order)
    times = {c: [] for c in order}
    cpu = {c: [] for c in order}
    try:
        for n in range(frames * k + 2 * k):
            rotation = order[(n // k) % k :] + order[: (n // k) % k]  # each goes first in turn
            which = rotation[n % k]

            def frame(which=which):
                ft = program.draw()
                picture = program.target.texture
                if which in ("plain", "filtered"):
                    if which == "plain":
                        exact.use(0)
                    blit.draw(picture, screen_fbo)
                    exact.clear(0)
                else:  # as an output window draws: straight into its framebuffer
                    comps[which].draw_into(picture, ft.time, screen_fbo)
                ctx.finish()

            took, used = timed_both(frame)
            if n >= 2 * k:  # the first frames compile and allocate
                times[which].append(took)
                cpu[which].append(used)
    finally:
        exact.release()
        blit.release()
        screen_fbo.release()
        screen.release()
        for comp in comps.values():
            comp.release()
        program.release()
    return {
        **{c: statistics.median(v) for c, v in times.items()},
        **{f"ratio_{c}": paired(times[c], times["plain"]) for c in ("filtered", *comps)},
        **{f"cpu_{c}": paired(cpu[c], cpu["plain"]) for c in ("filtered", *comps)},
        "cpu_plain": statistics.median(cpu["plain"]),
        "staged_vs_filtered": paired(times["staged"], times["filtered"]),
    }


def pass_costs(ctx, size, frames: int) -> dict:
    """Each output's own work, apart from the program's: the program's frame is drawn and finished first,
    then only the output is timed (wall and CPU time, medians), the conditions in turn. What the targets'
    ratios are made of, in milliseconds: a warped output samples the program filtered, and the target's
    budget is a tenth of a plain output's whole frame."""
    import moderngl

    from engine.output.compose import OutputCompositor
    from engine.render.quad import Blit

    program = Program(ctx, size)
    plain_spec, staged_spec = _outputs(size)
    comps = {k: OutputCompositor(ctx, spec, size, "off") for k, spec in _parts(staged_spec).items()}
    comps["limiter"] = OutputCompositor(ctx, plain_spec, size, "standard")  # the default output
    comps["venue"] = OutputCompositor(ctx, staged_spec, size, "standard")
    screen = window_like(ctx, size)
    screen_fbo = ctx.framebuffer(color_attachments=[screen])
    blit = Blit(ctx)
    exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
    filtered = ctx.sampler(repeat_x=False, repeat_y=False)

    def copy(sampler):
        def draw(picture, _time):
            sampler.use(0)
            blit.draw(picture, screen_fbo)
            sampler.clear(0)

        return draw

    draws = {"plain": copy(exact), "filtered": copy(filtered)}
    draws.update({k: (lambda p, t, c=c: c.draw_into(p, t, screen_fbo)) for k, c in comps.items()})
    wall: dict[str, list[float]] = {k: [] for k in draws}
    cpu: dict[str, list[float]] = {k: [] for k in draws}
    try:
        for n in range((frames + 2) * len(draws)):
            which = list(draws)[n % len(draws)]
            ft = program.draw()
            ctx.finish()
            took, used = timed_both(
                lambda which=which, ft=ft: (draws[which](program.target.texture, ft.time), ctx.finish())
            )
            if n >= 2 * len(draws):  # the first frames compile and allocate
                wall[which].append(took)
                cpu[which].append(used)
    finally:
        for thing in (exact, filtered, blit, screen_fbo, screen, *comps.values()):
            thing.release()
        program.release()
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in draws}


def paired(a: list[float], b: list[float]) -> float:
    """The median of a[i] / b[i]: frames measured side by side, one pair at a time."""
    return statistics.median(x / y for x, y in zip(a, b, strict=False))


def recording_cost(ctx, size, frames: int, folder: Path) -> dict:
    """The frame loop's time with and without handing the frame to the recorder (ABBA, frame by frame; the
    encoder thread runs throughout, at its low priority), and the recording's dropped frames."""
    from engine.output.compose import OutputCompositor
    from engine.output.recorder import Recorder
    from engine.output.sink import FrameInfo

    program = Program(ctx, size)
    output = OutputCompositor(ctx, _outputs(size)[0], size, "standard")
    recorder = Recorder(folder / "take.mp4", size, 60.0, 48000)
    times = {"off": [], "on": []}
    drawn = shown = 0  # frames the loop drew, and frames the output showed
    try:
        for n in range(frames * 2 + 4):
            on = n % 4 in (
                1,
                2,
            )  # ABBA: the encoder thread runs throughout, the loop hands it every other frame

            def frame(on=on, n=n):
                nonlocal drawn, shown
                ft = program.draw()
                drawn += 1
                shown += output.draw(program.target.texture, ft.time) is not None
                if on:
                    recorder.present(program.target.texture, FrameInfo(ft.time, n, None, {}, ()))
                ctx.finish()

            took = timed(frame)
            if n >= 4:
                times["on" if on else "off"].append(took)
        recorder.release()
    finally:
        output.release()
        program.release()
    stats = recorder.takes[0]
    return {
        **{k: statistics.median(v) for k, v in times.items()},
        "ratio": paired(times["on"], times["off"]),
        "kept": stats.frames,
        "dropped": stats.dropped,
        "output_dropped": drawn - shown,
    }


def flashes(ctx, size, fps: float = 60.0, seconds: float = 3.0) -> dict:
    """Flashes per second (the most in any 1 s window) of a 10 Hz strobe on each output, limiter on and off,
    counted on the rendered frames by engine.output.flash.FlashCounter."""
    from engine.output.compose import OutputCompositor, read_pixels
    from engine.output.flash import FlashCounter

    folder = Path(tempfile.mkdtemp(prefix="halation-bench-strobe-"))
    (folder / "strobe.fs").write_text(STROBE_FS)
    small = (size[0] // 2, size[1] // 2)
    program = Program(ctx, small, shader="strobe.fs", folder=folder)
    specs = [replace(s, size=small) for s in _outputs(small)]
    comps = {
        (s.name, mode): OutputCompositor(ctx, s, small, mode) for s in specs for mode in ("standard", "off")
    }
    counters = {key: FlashCounter(fps) for key in comps}
    try:
        for _ in range(round(fps * seconds)):
            ft = program.draw()
            for key, comp in comps.items():
                counters[key].add(read_pixels(ctx, comp.draw(program.target.texture, ft.time)))
    finally:
        for comp in comps.values():
            comp.release()
        program.release()
        shutil.rmtree(folder, ignore_errors=True)
    return {key: counters[key].result().luma_flashes_max for key in comps}


def strobe_cost(ctx, size, frames: int) -> dict:
    """A strobing look (the 10 Hz full-frame strobe) drawn with the limiter engaged and the same look with
    it off, each its own show at 60 frames a second of show time, alternating frame by frame (ABBA), each
    output drawn into a framebuffer as an output window draws. Once its budget is used (six transitions in
    the second before), every frame of the limited output takes the damping path: the median and p95 of
    those frames against the frames with the limiter off, and the mean (what sets how many frames a show
    gets in a second)."""
    import numpy as np

    from engine.output.compose import OutputCompositor

    folder = Path(tempfile.mkdtemp(prefix="halation-bench-strobe-cost-"))
    (folder / "strobe.fs").write_text(STROBE_FS)
    spec = _outputs(size)[0]
    programs = {m: Program(ctx, size, shader="strobe.fs", folder=folder) for m in ("standard", "off")}
    comps = {m: OutputCompositor(ctx, spec, size, m) for m in programs}
    screen = window_like(ctx, size)
    screen_fbo = ctx.framebuffer(color_attachments=[screen])
    times: dict[str, list[float]] = {"standard": [], "off": []}
    warm = 2 * 60  # two seconds of show time each: compiled, and the budget used (damping from ~0.3 s)
    try:
        for n in range(2 * (frames + warm)):
            mode = ("standard", "off")[(n + n // 2) % 2]  # ABBA

            def frame(mode=mode):
                ft = programs[mode].draw()
                comps[mode].draw_into(programs[mode].target.texture, ft.time, screen_fbo)
                ctx.finish()

            took = timed(frame)
            limiter = comps[mode].limiter
            if n >= 2 * warm and (limiter is None or limiter.damping):
                times[mode].append(took)
        damped = comps["standard"].limiter.stats.damped
    finally:
        screen_fbo.release()
        screen.release()
        for m in programs:
            comps[m].release()
            programs[m].release()
        shutil.rmtree(folder, ignore_errors=True)
    on, off = times["standard"], times["off"]
    return {
        "on_median": statistics.median(on),
        "on_p95": float(np.percentile(on, 95)),
        "off_median": statistics.median(off),
        "off_p95": float(np.percentile(off, 95)),
        "mean_ratio": statistics.fmean(on) / statistics.fmean(off),
        "frames": len(on),
        "damped": damped,
    }


def untouched(ctx, size, frames: int) -> tuple[int, int]:
    """Frames of non-flashing content (the tunnel) that come out identical with the limiter on and off."""
    from engine.output.compose import OutputCompositor, read_pixels

    program = Program(ctx, size)
    spec = _outputs(size)[1]
    on, off = OutputCompositor(ctx, spec, size, "standard"), OutputCompositor(ctx, spec, size, "off")
    same = 0
    try:
        for _ in range(frames):
            ft = program.draw()
            a = read_pixels(ctx, on.draw(program.target.texture, ft.time))
            b = read_pixels(ctx, off.draw(program.target.texture, ft.time))
            same += int((a == b).all())
    finally:
        on.release()
        off.release()
        program.release()
    return same, frames


PREVIEW_SCRIPT = """
import json, statistics, sys, time
from pathlib import Path
from engine.output.sink import FrameInfo
from engine.output.stage import OutputSpec, Stage
from engine.output.stage_sinks import open_stage_outputs
sys.path.insert(0, sys.argv[3])
from stage import Program
size, frames = tuple(map(int, sys.argv[1].split("x"))), int(sys.argv[2])
stage = Stage((OutputSpec("main", size, monitor=0),))
outs = open_stage_outputs(
    stage, size, "bench", headless=False, preview=True, hud=True, flash_limit="standard"
)
program = Program(outs.ctx, size, preset=Path(sys.argv[4]) if len(sys.argv) > 4 else None)
preview = outs.sinks[-1]
times = {"without": [], "with": []}
cpu = {"without": [], "with": []}
for n in range(frames * 2 + 4):
    use = (n % 2 == 1) if (n // 2) % 2 == 0 else (n % 2 == 0)
    t0, c0 = time.perf_counter(), time.process_time()
    ft = program.draw()
    info = FrameInfo(ft.time, n, program.features, {}, ())
    for sink in outs.sinks:
        if sink is not preview or use:
            sink.present(program.target.texture, info)
    outs.ctx.finish()
    if n >= 4:
        times["with" if use else "without"].append(time.perf_counter() - t0)
        cpu["with" if use else "without"].append(time.process_time() - c0)
result = {k: statistics.median(v) for k, v in times.items()}
result["ratio"] = statistics.median(a / b for a, b in zip(times["with"], times["without"]))
result["cpu_ratio"] = statistics.median(a / b for a, b in zip(cpu["with"], cpu["without"]))
print(json.dumps(result))
program.release()
outs.release()
"""


def preview_cost(size, frames: int, preset: Path | None = None) -> dict | str:
    """The projector's frame time with and without drawing the preview (overlay and HUD on), under Xvfb;
    the program the bare generator, or the shipped look `preset`."""
    import json
    import sys

    if shutil.which("Xvfb") is None:
        return "skipped: Xvfb is not installed"
    number = next(n for n in range(120, 160) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                PREVIEW_SCRIPT,
                f"{size[0]}x{size[1]}",
                str(frames),
                str(Path(__file__).parent),
                *([str(preset)] if preset is not None else []),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "DISPLAY": f":{number}"},
        )
        if done.returncode != 0:
            return (
                f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
            )
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=5)


def ms(v: float) -> str:
    return f"{1000 * v:.2f} ms"


def _named(preset: Path) -> str:
    """A preset as the report names it: its path under the repository when it is a shipped one."""
    try:
        return str(preset.resolve().relative_to(LIBRARY.parent.parent))
    except ValueError:
        return str(preset)


def _within(ratio: float, limit: float) -> str:
    return f"within the target's {limit - 1:.0%}" if ratio <= limit else f"over the target's {limit - 1:.0%}"


def verdict(ok: bool, checks: list[bool]) -> str:
    """PASS or MISS, noting it in `checks` (the bench exits 1 when any target is missed)."""
    checks.append(ok)
    return "PASS" if ok else "MISS"


def run(args) -> int:
    from engine.render.context import headless_context

    size, frames = tuple(args.size), args.frames
    presets = list(args.preset)
    checks: list[bool] = []
    ctx = headless_context()
    folder = Path(tempfile.mkdtemp(prefix="halation-bench-rec-"))
    try:
        w = warp_cost(ctx, size, frames)
        print(f"output at {size[0]}x{size[1]} ({frames} frames each, interleaved; median frame):")
        print(f"  plain output (the program copied texel for pixel, no limiter) {ms(w['plain'])}")
        print(
            f"  a filtered copy (a plain output before it was point-sampled) {ms(w['filtered'])}: ratio"
            f" {w['ratio_filtered']:.3f} (CPU {w['cpu_filtered']:.3f}); the venue output against it"
            f" {w['staged_vs_filtered']:.3f}"
        )
        for key, what in (
            ("limited", "the default output (limiter, no warp)"),
            ("staged", "keystone+mesh+blend+mask+limiter"),
        ):
            print(
                f"  {what} {ms(w[key])}: ratio {w[f'ratio_{key}']:.3f} frame by frame"
                f" ({w[key] / w['plain']:.3f} of the medians; CPU time {w[f'cpu_{key}']:.3f})"
            )
        print(f"  where it goes (limiter off unless named; a plain output's CPU {ms(w['cpu_plain'])}):")
        print(
            "   "
            + ", ".join(
                f"{p} {w[f'ratio_{p}']:.3f} (CPU {w[f'cpu_{p}']:.3f})"
                for p in (*_parts(_outputs(size)[1]), "keystone+blend+limiter")
            )
        )
        c = pass_costs(ctx, size, max(10, frames // 2))
        budget = 0.1 * (w["cpu_plain"])
        print(
            "  the output's own passes, the program's frame done first (CPU ms, wall in brackets): "
            + ", ".join(f"{k} {1000 * v[1]:.2f} ({1000 * v[0]:.2f})" for k, v in c.items())
        )
        over = {k: 1000 * (c[k][1] - c["plain"][1]) for k in ("filtered", "venue")}
        print(
            "   the target's budget over the plain copy: a tenth of a plain output's frame,"
            f" {1000 * budget:.2f} ms of CPU; a filtered copy alone takes {over['filtered']:.2f} more than"
            f" the plain copy, the venue output {over['venue']:.2f} more"
        )
        ratio = w["ratio_staged"]
        said = verdict(ratio <= 1.10, checks)
        print(f"  target warp+blend+limiter <= 10 % of the frame: {said} ({ratio:.3f})")
        for preset in presets:
            s = warp_cost(ctx, size, frames, parts=False, preset=preset)
            print(
                f"  with a shipped look as the program ({_named(preset)}): plain output {ms(s['plain'])},"
                f" venue output {ms(s['staged'])}: ratio {s['ratio_staged']:.3f} (CPU"
                f" {s['cpu_staged']:.3f}); default output {s['ratio_limited']:.3f}: a show frame's share,"
                f" {_within(s['ratio_staged'], 1.10)} (the target's verdict is the strict line above)"
            )
        r = recording_cost(ctx, size, frames, folder)
        ratio = r["ratio"]
        print(
            f"  recording: off {ms(r['off'])}, on {ms(r['on'])}: ratio {ratio:.3f}; {r['kept']} frames "
            f"recorded, {r['dropped']} dropped by the recorder (its own, while the encoder was behind), "
            f"{r['output_dropped']} output frames dropped"
        )
        ok = ratio <= 1.10 and r["output_dropped"] == 0
        print(f"  target recording <= 10 % of the frame, 0 output frames dropped: {verdict(ok, checks)}")
        f = flashes(ctx, size)
        print("10 Hz strobe, most flashes in any 1 s window (counted on rendered frames):")
        for name in ("plain", "main"):
            print(f"  output {name}: limiter on {f[(name, 'standard')]:g}/s, off {f[(name, 'off')]:g}/s")
        ok = all(f[(n, "standard")] <= 3 for n in ("plain", "main"))
        print(f"  target <= 3 flashes/s on every output: {verdict(ok, checks)}")
        e = strobe_cost(ctx, size, frames)
        print(
            f"a strobing look with the limiter engaged ({e['frames']} damping-path frames at"
            f" {size[0]}x{size[1]}), against the same look with it off, alternating:"
        )
        print(
            f"  engaged: median {ms(e['on_median'])}, p95 {ms(e['on_p95'])}; off: median"
            f" {ms(e['off_median'])}, p95 {ms(e['off_p95'])}; mean frame {e['mean_ratio']:.3f} of off's"
        )
        ok = e["on_p95"] <= 2 * e["off_median"] and e["mean_ratio"] <= 1.10
        print(
            "  target engaged p95 <= 2x off's median, frames within 10 % (mean frame <= 1.10):"
            f" {verdict(ok, checks)} ({e['on_p95'] / e['off_median']:.2f}x, {e['mean_ratio']:.3f})"
        )
        same, total = untouched(ctx, size, max(10, frames // 3))
        print(f"non-flashing content (tunnel): {same}/{total} frames identical with the limiter on and off")
        print(f"  target identical with the limiter on and off: {verdict(same == total, checks)}")
    finally:
        ctx.release()
        shutil.rmtree(folder, ignore_errors=True)
    if not args.no_preview:
        p = preview_cost(size, frames)
        if isinstance(p, str):
            print(f"preview: {p}")
        else:
            ratio = p["ratio"]
            print(
                f"preview (Xvfb, overlay + HUD): projector alone {ms(p['without'])}, with the preview "
                f"{ms(p['with'])}: ratio {ratio:.3f}"
            )
            print(
                f"  target preview <= 15 % of the frame: {verdict(ratio <= 1.15, checks)}"
                f" (CPU {p['cpu_ratio']:.3f})"
            )
        for preset in presets:
            p = preview_cost(size, frames, preset)
            if not isinstance(p, str):
                print(
                    f"  with a shipped look as the program ({_named(preset)}): projector alone"
                    f" {ms(p['without'])}, with the preview {ms(p['with'])}: ratio {p['ratio']:.3f} (CPU"
                    f" {p['cpu_ratio']:.3f}), {_within(p['ratio'], 1.15)} (the target's verdict is the"
                    " strict line above)"
                )
    return 0 if all(checks) else 1  # as every bench: 1 when a figure misses its target
