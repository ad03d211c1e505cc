"""Check that an ISF shader loads, compiles and renders, before a show depends on it.

Used by the CLI's shader check and by the conformance test: it renders a few frames with
real-looking inputs (a test image, a moving waveform and spectrum, non-zero audio levels) so
errors that only show when drawing (GL errors, bad pass sizes) surface too.
"""

from __future__ import annotations

import math
import re
import weakref
from pathlib import Path

import moderngl

from engine.errors import ShaderError
from engine.render.isf import load_isf
from engine.render.program import FrameInfo, IsfProgram

_HL_FLOAT = re.compile(r"^uniform float (hl_[A-Za-z0-9_]+);$", re.M)
# Per context and size: (target framebuffer, test textures). Kept alive on purpose: releasing the
# bound framebuffer makes the next ctx.framebuffer() raise a GL error (see REFERENCE.md).
_RIGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_shader(
    ctx: moderngl.Context,
    path: Path,
    *,
    size: tuple[int, int] = (256, 144),
    frames: int = 3,
    thumb: Path | None = None,
) -> ShaderError | None:
    """Load, compile and render `frames` frames; return None if all is well, else the error."""
    path = Path(path)
    program = None
    try:
        fbo, textures = _rig(ctx, tuple(size))
        _ = ctx.error  # clear any error left by earlier work, so we only report our own
        doc = load_isf(path)
        program = IsfProgram(ctx, doc)
        images = {"hl_waveform": textures["wave"], "hl_spectrum": textures["spec"]}
        for inp in doc.inputs:
            if inp.type == "image":
                images[inp.name] = textures["alt"] if inp.name == "endImage" else textures["card"]
        audio = {name: 0.5 for name in _HL_FLOAT.findall(doc.fragment + doc.vertex)}
        audio.update({"hl_bpm": 120.0, "hl_beat_phase": 0.25})
        # Transitions half way, so a thumbnail shows both images and the blend between them.
        values: dict[str, object] = {"progress": 0.5} if doc.kind == "transition" else {}
        for i in range(max(1, frames)):
            t = i / 30.0
            for inp in doc.inputs:
                if inp.type == "event":
                    values[inp.name] = i + 1  # a counter: fires every frame
            date = (2024.0, 6.0, 21.0, 72000.0 + t)
            frame = FrameInfo(time=t, timedelta=1 / 30.0 if i else 0.0, frame_index=i, date=date)
            program.render(fbo, values=values, images=images, frame=frame, audio=audio)
        err = ctx.error
        if err != "GL_NO_ERROR":
            return ShaderError(f"OpenGL error while rendering: {err}", path=path)
        if thumb is not None:
            _write_thumb(fbo, tuple(size), Path(thumb))
        return None
    except ShaderError as exc:
        return exc
    except moderngl.Error as exc:
        first = str(exc).strip().splitlines()
        return ShaderError(f"render failed: {first[0] if first else exc!r}", path=path)
    finally:
        if program is not None:
            program.release()


def _rig(ctx: moderngl.Context, size: tuple[int, int]) -> tuple[moderngl.Framebuffer, dict]:
    rigs = _RIGS.setdefault(ctx, {})
    if size not in rigs:
        color = ctx.texture(size, 4)
        rigs[size] = (ctx.framebuffer(color_attachments=[color]), _test_images(ctx, size))
    return rigs[size]


def _test_images(ctx: moderngl.Context, size: tuple[int, int]) -> dict[str, moderngl.Texture]:
    """A test card that looks like a clip (a warm glow and cool rings on a dark ground) and a different
    one for end images; a moving waveform and a falling spectrum for audio."""
    import numpy as np

    w, h = size
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None].repeat(w, 1)
    aspect = w / h

    def card(cx: float, cy: float, warm: tuple, cool: tuple) -> np.ndarray:
        r = np.hypot((x - cx) * aspect, y - cy)
        glow = np.exp(-(r**2) * 18.0)
        rings = 0.5 + 0.5 * np.cos(r * 40.0)
        rings *= np.exp(-r * 3.0) * 0.6
        ground = 0.08 + 0.1 * y
        rgb = [ground * 0.5 + glow * warm[i] + rings * cool[i] for i in range(3)]
        return np.clip(np.stack([*rgb, np.ones_like(x)], axis=-1), 0.0, 1.0)

    start = card(0.38, 0.55, (1.0, 0.55, 0.2), (0.2, 0.5, 1.0))
    end = card(0.65, 0.42, (0.3, 0.9, 1.0), (1.0, 0.3, 0.6))
    n = 256
    t = np.arange(n, dtype=np.float32)
    wave = 0.5 + 0.4 * np.sin(t * 2 * math.pi * 4 / n)
    spec = np.exp(-t / 40.0)
    return {
        "card": ctx.texture(size, 4, (start * 255).astype(np.uint8).tobytes()),
        "alt": ctx.texture(size, 4, (end * 255).astype(np.uint8).tobytes()),
        "wave": ctx.texture((n, 1), 4, np.repeat(wave[:, None], 4, 1).astype("f4").tobytes(), dtype="f4"),
        "spec": ctx.texture((n, 1), 4, np.repeat(spec[:, None], 4, 1).astype("f4").tobytes(), dtype="f4"),
    }


def _write_thumb(fbo: moderngl.Framebuffer, size: tuple[int, int], thumb: Path) -> None:
    from PIL import Image

    data = fbo.read(components=4, alignment=1)
    img = Image.frombytes("RGBA", size, data).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    thumb.parent.mkdir(parents=True, exist_ok=True)
    img.save(thumb)
