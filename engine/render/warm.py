"""The shader warm-up worker: a child process that compiles and draws a changed shader once.

Compiling is quick, but a software (llvmpipe) or GPU driver builds the machine code of a shader at its
first draw: 50-100 ms on llvmpipe, which would be a visible hitch if the render thread did it. This child
does that first draw instead, at low priority, with textures shaped like the ones the show binds, so the
driver's shader cache holds the result; the render thread's own compile and first draw are then cache hits.
Doing it in another process also keeps Python's GIL and a crashing driver away from the show.

Protocol: one JSON object per line on stdin (a job), one JSON object per line on stdout (its result).
Run as `python -m engine.render.warm`.
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


def _target(ctx, size: tuple[int, int]):
    """One RGBA8 target per size, kept: releasing a bound framebuffer breaks the next one."""
    if size not in _TARGETS:
        _TARGETS[size] = ctx.framebuffer(color_attachments=[ctx.texture(size, 4)])
    return _TARGETS[size]


def warm_job(ctx, job: dict) -> dict:
    """Compile and draw one job's shader; return {"ok": True} or the error with its file and line."""
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
        target = _target(ctx, tuple(job["size"]))
        frame = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2000.0, 1.0, 1.0, 0.0))
        program.render(target, values={}, images=images, frame=frame, audio={})
        ctx.finish()
        error = ctx.error
        if error != "GL_NO_ERROR":
            return {"ok": False, "message": f"OpenGL error while rendering: {error}", "path": job["path"]}
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


def lower_priority() -> None:
    """Run only on CPU time the show leaves idle (SCHED_IDLE; else the lowest nice), so warming a
    shader never slows the frames on the output, even on a two-core laptop rendering in software."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


def main() -> int:
    lower_priority()
    import moderngl

    ctx = moderngl.create_standalone_context(backend="egl")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        result = warm_job(ctx, job)
        result["id"] = job.get("id")
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
