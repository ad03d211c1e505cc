"""The shader warm-up worker: a child process that compiles and draws a changed shader once.

Compiling is quick, but a software (llvmpipe) or GPU driver builds the machine code of a shader at its
first draw: 50-100 ms on llvmpipe, which would be a visible hitch if the render thread did it. This child
does that first draw instead, at low priority, with textures shaped like the ones the show binds, so the
driver's shader cache holds the result; the render thread's own compile and first draw are then cache hits.
Doing it in another process also keeps Python's GIL and a crashing driver away from the show.

It also refuses what would hurt the show later: the shader is drawn at the show's start and again as if
ten minutes in (a loop bounded by TIME passes at TIME 0 and then takes seconds a frame), and into a small
float target, where a picture that is not finite (NaN, inf: black on the output) is an error. The parent
limits the CPU time the draws may take (engine.render.reload.WarmWorker): an endless loop is refused quickly.

Protocol: one JSON object per line on stdin (a job); on stdout, {"id", "stage": "compiled"} once the shader
has compiled (the draws start), then one JSON object, its result. Run as `python -m engine.render.warm`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path


def _texture(ctx, spec: dict):
    tex = ctx.texture(tuple(spec["size"]), int(spec["components"]), dtype=str(spec["dtype"]))
    tex.filter = tuple(spec["filter"])
    tex.repeat_x, tex.repeat_y = (bool(v) for v in spec["repeat"])
    return tex


_TARGETS: dict = {}


LATE = 600.0  # seconds: "ten minutes into the show", the second draw's TIME


PROBE = (64, 36)  # the float target NaN is looked for in (small: read back on every warm)


def _target(ctx, size: tuple[int, int], dtype: str = "f1"):
    """One RGBA target per size and type (RGBA8 like the show's layers, so the driver caches the variant
    the show will draw; float for the NaN probe), kept: releasing a bound framebuffer breaks the next."""
    if (size, dtype) not in _TARGETS:
        _TARGETS[size, dtype] = ctx.framebuffer(color_attachments=[ctx.texture(size, 4, dtype=dtype)])
    return _TARGETS[size, dtype]


def _not_finite(target) -> bool:
    """True when any pixel drawn is NaN or infinite (read back once per warm, off the show's thread)."""
    import numpy as np

    pixels = np.frombuffer(target.read(components=4, dtype="f4"), np.float32)
    return not bool(np.isfinite(pixels).all())


def warm_job(ctx, job: dict, progress=None) -> dict:
    """Compile and draw one job's shader; return {"ok": True} or the error with its file and line.
    `progress(stage)` is told when the compile is done and the draws begin."""
    import moderngl

    from engine.errors import HalationError
    from engine.render.isf import load_isf_source
    from engine.render.program import FrameInfo, IsfProgram

    program, textures = None, []
    try:
        doc = load_isf_source(job["fs"], Path(job["path"]), job.get("vs"))
        program = IsfProgram(ctx, doc)
        images = {}
        for name, spec in job.get("images", {}).items():
            textures.append(_texture(ctx, spec))
            images[name] = textures[-1]
        show, probe = _target(ctx, tuple(job["size"])), _target(ctx, PROBE, "f4")
        if progress is not None:
            progress("compiled")
        # at the show's size ten minutes in (a loop bounded by TIME); small and in float: NaN at the start
        # and later. The variants the show draws are cached by the look's own job (warm_look): a draw at the
        # start at the show's size would be work for nothing on a child that runs behind the show.
        for target, at in ((show, LATE), (probe, 0.0), (probe, LATE)):
            frame = FrameInfo(
                time=at, timedelta=1 / 60, frame_index=round(at * 60), date=(2000.0, 1.0, 1.0, at)
            )
            program.render(target, values={}, images=images, frame=frame, audio={}, keep_finite=False)
            ctx.finish()
            error = ctx.error
            if error != "GL_NO_ERROR":
                return {"ok": False, "message": f"OpenGL error while rendering: {error}", "path": job["path"]}
            if target is probe and _not_finite(target):
                when = "at the start" if at == 0.0 else f"at TIME {at:.0f} s"
                message = f"the shader renders NaN or infinite values {when} (black on the output)"
                return {"ok": False, "message": message, "path": job["path"]}
        return {"ok": True}
    except HalationError as exc:
        return {"ok": False, "message": exc.message, "path": str(exc.path or job["path"]), "line": exc.line}
    except moderngl.Error as exc:
        first = str(exc).strip().splitlines()
        return {"ok": False, "message": f"render failed: {first[0] if first else exc!r}", "path": job["path"]}
    finally:
        if program is not None:
            program.release()
        for tex in textures:
            tex.release()


WARM_NICE = 10  # a tenth of a busy thread's share: frames keep the CPU, yet warming always moves on


def lower_priority() -> None:
    """Run behind the show, so warming a shader barely slows the frames on the output, but not at idle
    priority: on a laptop whose cores are all busy (other software beside the show) an idle-priority
    child gets no CPU at all, and the cue the operator fired would never come in (seen beside two busy
    loops on 2 cores: a GO still not adopted after 30 s)."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(WARM_NICE)


def warm_look(ctx, job: dict) -> dict:
    """Build a whole look here as the show will build it (engine.render.pipeline.Pipeline.staged: every
    program drawn once with the very textures, formats and sampler states it will be drawn with, and the
    morph's transition as the morph draws it), so each of the driver's shader variants the show needs is in
    its disk cache when the show's render thread draws it first. Per-shader jobs (warm_job) draw each
    shader with textures described from the outside, and those variants came out different: measured
    (llvmpipe, Mesa 22.3) the render thread's first draws then still took 20-110 ms each, after a look
    job 1-5 ms. Never refuses a look: the per-shader jobs have checked its shaders."""
    from engine.render.pipeline import Pipeline
    from engine.show.morph import warm_transition
    from engine.show.preset import load_preset

    try:
        size = tuple(job["size"])
        if job["look"] is not None:  # None: only a morph's transition
            preset = load_preset(Path(job["look"]))
            for built in Pipeline.staged(ctx, preset, size, clip_wait=0.0, with_clips=False):
                if built is not None:
                    built.release()
        if job.get("transition"):
            warm_transition(ctx, {}, job["transition"], size, release=True)
        ctx.finish()
    except Exception as exc:  # the look still comes in; its first draws are the driver's cold compiles
        return {"ok": True, "warm": False, "message": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "warm": True}


def main() -> int:
    lower_priority()
    import moderngl

    ctx = moderngl.create_standalone_context(backend="egl")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        job_id = job.get("id")

        def progress(stage: str, job_id=job_id) -> None:
            print(json.dumps({"id": job_id, "stage": stage}), flush=True)

        result = warm_look(ctx, job) if "look" in job else warm_job(ctx, job, progress)
        result["id"] = job.get("id")
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
