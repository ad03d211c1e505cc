"""Compile and render an `IsfDocument` with moderngl.

Everything that can be decided once (uniform handles, texture units, vertex array, imported
images) is decided in the constructor, so `render()` is a short loop of uniform writes and
draws: this runs every frame for every layer.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import moderngl

from engine.errors import ShaderError
from engine.render.isf import (
    HL_SAMPLERS,
    KEEP_FINITE,
    SAMPLER_TYPES,
    VERTEX_ATTRIBUTE,
    IsfDocument,
    compile_size_expr,
    discards,
)

# Mesa/ANGLE "0:12(5): error: msg", NVIDIA "0(12) : error C1008: msg", others "ERROR: 0:12: msg".
_ERROR_PATTERNS = (
    re.compile(r"^\s*(\d+):(\d+)\(\d+\):\s*(?:preprocessor\s+)?error:\s*(.*)$", re.I),
    re.compile(r"^\s*(\d+)\((\d+)\)\s*:\s*(?:fatal\s+)?error\s*(?:[A-Z]\d+)?\s*:?\s*(.*)$", re.I),
    re.compile(r"^\s*ERROR:\s*(\d+):(\d+):\s*(.*)$", re.I),
)
_QUAD = (-1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0)


@dataclass(frozen=True)
class FrameInfo:
    """Per-frame time values; all from the show clock so offline renders are deterministic."""

    time: float
    timedelta: float
    frame_index: int
    date: tuple[float, float, float, float]  # year, month, day, seconds of the day


def parse_compile_error(doc: IsfDocument, text: str) -> ShaderError:
    """Turn a driver's compile/link log into a ShaderError naming the .fs/.vs file and line."""
    stage = "fragment"
    vpos, fpos = text.find("vertex_shader"), text.find("fragment_shader")
    if vpos >= 0 and (fpos < 0 or vpos < fpos):
        stage = "vertex"
    path = doc.vertex_path if stage == "vertex" and doc.vertex_path is not None else doc.path
    for raw in text.splitlines():
        for pattern in _ERROR_PATTERNS:
            m = pattern.match(raw)
            if m:
                source, line, msg = int(m.group(1)), int(m.group(2)), m.group(3).strip()
                if source != 0 or (stage == "vertex" and doc.vertex_path is None):
                    # In our generated declarations: most likely an input name that clashes.
                    return ShaderError(
                        f"{msg} (in declarations generated from the header)",
                        path=doc.path,
                        line=doc.header_line,
                    )
                return ShaderError(msg, path=path, line=line)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not set(ln.strip()) <= {"="}]
    detail = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "unknown error")
    kind = "link" if "Linker" in text else "compile"
    return ShaderError(f"shader {kind} failed: {detail}", path=doc.path)


class _Buffer:
    """A pass target: two textures swapped after each write, so a pass may read its own target."""

    __slots__ = ("back", "back_fbo", "ctx", "float", "front", "front_fbo", "size", "unit")

    def __init__(self, ctx: moderngl.Context, unit: int, float_: bool):
        self.ctx = ctx
        self.unit = unit
        self.float = float_
        self.size: tuple[int, int] | None = None
        self.front = self.back = None
        self.front_fbo = self.back_fbo = None

    def ensure(self, size: tuple[int, int], park: moderngl.Framebuffer) -> None:
        if size == self.size:
            return
        park.use()  # never release the bound framebuffer: the next ctx.framebuffer() would fail
        self.release()
        dtype = "f4" if self.float else "f1"
        texs, fbos = [], []
        for _ in range(2):
            tex = self.ctx.texture(size, 4, dtype=dtype)
            tex.repeat_x = tex.repeat_y = False
            fbo = self.ctx.framebuffer(color_attachments=[tex])
            fbo.clear(0.0, 0.0, 0.0, 0.0)
            texs.append(tex)
            fbos.append(fbo)
        self.front, self.back = texs
        self.front_fbo, self.back_fbo = fbos
        self.size = size

    def swap(self) -> None:
        self.front, self.back = self.back, self.front
        self.front_fbo, self.back_fbo = self.back_fbo, self.front_fbo

    def release(self) -> None:
        for obj in (self.front_fbo, self.back_fbo, self.front, self.back):
            if obj is not None:
                obj.release()
        self.front = self.back = self.front_fbo = self.back_fbo = None
        self.size = None


def _coerce(kind: str) -> Callable[[object], object]:
    if kind == "float":
        return float
    if kind == "long":
        return lambda v: round(float(v))
    if kind == "bool":
        return bool
    if kind == "point2D":
        return lambda v: (float(v[0]), float(v[1]))
    if kind == "color":
        return lambda v: (float(v[0]), float(v[1]), float(v[2]), float(v[3]) if len(v) > 3 else 1.0)
    raise ValueError(kind)


# moderngl cannot delete a query: programs hand theirs back here for the next one (a show makes
# thousands of programs over an hour, and never holds more than a few at once)
_SPARE_QUERIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # context -> [Query]


def _take_query(ctx: moderngl.Context) -> moderngl.Query:
    spare = _SPARE_QUERIES.get(ctx)
    return spare.pop() if spare else ctx.query(samples=True)


class IsfProgram:
    """A compiled ISF shader with its pass buffers; render() draws one frame into a framebuffer.

    Expects blending and depth testing off (moderngl's defaults), as every ISF host does.
    """

    def __init__(self, ctx: moderngl.Context, doc: IsfDocument):
        self.ctx = ctx
        self.doc = doc
        self._prog = _compile(ctx, doc)
        prog = self._prog
        self._textures: list[moderngl.Texture] = []  # owned (blank, imported)
        self._vbo = ctx.buffer(_array_bytes(_QUAD))
        if VERTEX_ATTRIBUTE in prog:
            self._vao = ctx.vertex_array(prog, [(self._vbo, "2f", VERTEX_ATTRIBUTE)])
        else:  # a custom .vs that never calls isf_vertShaderInit(): draw without attributes
            self._vao = ctx.vertex_array(prog, [])
        self._blank = ctx.texture((1, 1), 4, bytes(4))
        self._textures.append(self._blank)

        u = prog.get
        self._u_passindex = u("PASSINDEX", None)
        self._u_rendersize = u("RENDERSIZE", None)
        self._u_time = u("TIME", None)
        self._u_timedelta = u("TIMEDELTA", None)
        self._u_date = u("DATE", None)
        self._u_frameindex = u("FRAMEINDEX", None)
        # NaN kept out of the picture (engine/render/isf.py keep_finite), and counted: the pixels the last
        # frame's final pass discarded, unless the shader discards pixels of its own accord
        self._u_keep = u(KEEP_FINITE, None)
        self._finite_query = (
            _take_query(ctx) if self._u_keep is not None and not discards(doc.fragment) else None
        )
        self._queried_pixels = 0  # pixels the pending query's draw covered (0: none pending)
        self._keeping = False

        next_unit = 0

        def take_unit(name: str) -> int | None:
            nonlocal next_unit
            uni = u(name, None)
            if uni is None:
                return None
            uni.value = next_unit
            next_unit += 1
            return next_unit - 1

        # Plain value inputs: [uniform, name, coerce, default, last raw value seen].
        self._values: list[list] = []
        self._events: list[list] = []  # [uniform, name, last raw value, currently set]
        # Image inputs: [name, unit, fallback image name, info uniforms, last size].
        self._images: list[list] = []
        for inp in doc.inputs:
            if inp.type in SAMPLER_TYPES:
                unit = take_unit(inp.name)
                if unit is not None:
                    fallback = {"audio": "hl_waveform", "audioFFT": "hl_spectrum"}.get(inp.type)
                    self._images.append([inp.name, unit, fallback, self._info_uniforms(inp.name), None])
                continue
            uni = u(inp.name, None)
            if uni is None:
                continue
            if inp.type == "event":
                uni.value = False
                self._events.append([uni, inp.name, None, False])
                continue
            coerce = _coerce(inp.type)
            default = coerce(inp.default) if inp.default is not None else None
            if default is not None:
                uni.value = default
            self._values.append([uni, inp.name, coerce, default, inp.default])
        for name in sorted(HL_SAMPLERS):
            unit = take_unit(name)
            if unit is not None:
                self._images.append([name, unit, name, (), None])
        # hl_* floats: (uniform, name), all zero until audio says otherwise.
        self._hl: list[tuple[moderngl.Uniform, str]] = []
        for name in self._hl_float_names():
            uni = u(name, None)
            if uni is not None:
                uni.value = 0.0
                self._hl.append((uni, name))

        self._imported: list[tuple[moderngl.Texture, int]] = []
        for name, path in doc.imported.items():
            unit = take_unit(name)
            if unit is not None:
                tex = _load_image(ctx, path, doc)
                self._textures.append(tex)
                _set_info(self._info_uniforms(name), tex.size)
                self._imported.append((tex, unit))

        # Pass buffers, one per distinct target name; a unit only if the shader samples it.
        self._buffers: dict[str, _Buffer] = {}
        for p in doc.passes:
            if p.target and p.target not in self._buffers:
                unit = take_unit(p.target)
                self._buffers[p.target] = _Buffer(ctx, -1 if unit is None else unit, p.float)
            elif p.target and p.float:
                self._buffers[p.target].float = True
        self._sampled_buffers = [b for b in self._buffers.values() if b.unit >= 0]
        self._buffer_info = [(b, self._info_uniforms(n)) for n, b in self._buffers.items()]
        self._buffer_info = [(b, info) for b, info in self._buffer_info if info]
        self._passes = [
            (
                i,
                self._buffers.get(p.target) if p.target else None,
                _size_expr(p.width, doc),
                _size_expr(p.height, doc),
            )
            for i, p in enumerate(doc.passes)
        ]
        self._needs_env = any(w is not None or h is not None for _, _, w, h in self._passes)
        # Inputs that pass-size expressions may name as $input (numbers only).
        self._expr_inputs = [
            (i.name, i.default) for i in doc.inputs if i.type in ("float", "long", "bool", "event")
        ]
        self._released = False
        self._last_sizes: list[tuple[int, int]] | None = None

    def _info_uniforms(self, name: str) -> tuple:
        """VVISF-style `_NAME_imgRect` / `_NAME_imgSize` / `_NAME_flip` uniforms the shader uses."""
        found = []
        for suffix in ("imgRect", "imgSize", "flip"):
            uni = self._prog.get(f"_{name}_{suffix}", None)
            if uni is not None:
                found.append((suffix, uni))
        return tuple(found)

    def _hl_float_names(self) -> list[str]:
        decl = re.compile(r"^uniform float (hl_[A-Za-z0-9_]+);$", re.M)
        return sorted(set(decl.findall(self.doc.fragment)) | set(decl.findall(self.doc.vertex)))

    def render(
        self,
        target: moderngl.Framebuffer,
        *,
        values: Mapping[str, object],
        images: Mapping[str, moderngl.Texture],
        frame: FrameInfo,
        audio: Mapping[str, float],
        keep_finite: bool = True,
    ) -> None:
        """Draw one frame (all passes) into `target`; missing values/images fall back quietly.

        With `keep_finite`, pixels that come out NaN or infinite keep what `target` held (never black);
        when the previous frame had any, ShaderError is raised after this frame is drawn, so the show's
        layer guard says so (and an effect is skipped for the frame). Without it (the warm-up's NaN
        probe), they are drawn as they are."""
        lost = self._nonfinite_pixels() if keep_finite else self._forget_count()
        sizes = self._bind(target, values, images, frame, audio)
        if self._u_keep is not None:
            self._u_keep.value = self._keeping = keep_finite
        u_pass, u_size, vao = self._u_passindex, self._u_rendersize, self._vao
        strip = moderngl.TRIANGLE_STRIP
        last_buf = None
        for (index, buf, _, _), psize in zip(self._passes, sizes, strict=True):
            if u_pass is not None:
                u_pass.value = index
            if u_size is not None:
                u_size.value = psize
            if buf is None:
                target.use()
                self._draw_counted(target, strip)
                last_buf = None
                continue
            buf.ensure(psize, target)  # no-op unless two passes share a target at different sizes
            buf.back_fbo.use()
            vao.render(strip, vertices=4)
            buf.swap()
            if buf.unit >= 0:
                buf.front.use(location=buf.unit)
            last_buf = buf
        if last_buf is not None:
            # The last pass drew into a named buffer: that buffer is the output (as in VVISF).
            self.ctx.copy_framebuffer(target, last_buf.front_fbo)
            target.use()
        if lost:
            raise ShaderError(
                f"the shader renders NaN or infinite values ({lost} pixels): they keep their last picture",
                path=self.doc.path,
            )

    def _draw_counted(self, target: moderngl.Framebuffer, strip: int) -> None:
        """The final pass, counting the pixels it drew (read back next frame, when the GPU is done)."""
        query = self._finite_query
        if query is None or not self._keeping:
            self._vao.render(strip, vertices=4)
            return
        with query:
            self._vao.render(strip, vertices=4)
        _, _, w, h = target.viewport
        self._queried_pixels = w * h

    def _forget_count(self) -> int:
        self._queried_pixels = 0
        return 0

    def _nonfinite_pixels(self) -> int:
        """Pixels the last frame's final pass discarded as not finite (0 when none was counted)."""
        pending, self._queried_pixels = self._queried_pixels, 0
        return max(0, pending - self._finite_query.samples) if pending else 0

    def warm(
        self,
        scratch: moderngl.Framebuffer,
        size: tuple[int, int],
        *,
        images: Mapping[str, moderngl.Texture],
        values: Mapping[str, object] | None = None,
    ) -> None:
        """Get ready to render at `size` without showing anything: allocate the pass buffers and draw
        every pass into a few pixels, so the driver builds its shader variants now and the first real
        frame costs what any frame costs. `scratch` is an RGBA8 framebuffer (any size) standing in for
        the output. Persistent buffers stay clear: no pass is swapped."""
        frame = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2000.0, 1.0, 1.0, 0.0))
        sizes = self._bind(scratch, values or {}, images, frame, {}, size=size)
        if self._u_keep is not None:
            self._u_keep.value = False  # warm-up draws NaN as it is: the show's warm check refuses it
        u_pass, u_size = self._u_passindex, self._u_rendersize
        for (index, buf, _, _), psize in zip(self._passes, sizes, strict=True):
            if u_pass is not None:
                u_pass.value = index
            if u_size is not None:
                u_size.value = psize
            if buf is not None:
                buf.ensure(psize, scratch)
            fbo = scratch if buf is None else buf.back_fbo
            saved = fbo.viewport
            fbo.viewport = (0, 0, min(4, fbo.size[0]), min(4, fbo.size[1]))
            fbo.use()
            self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
            fbo.viewport = saved
        scratch.use()
        error = self.ctx.error
        if error != "GL_NO_ERROR":
            raise ShaderError(f"OpenGL error while warming up: {error}", path=self.doc.path)

    def render_corner(
        self,
        target: moderngl.Framebuffer,
        *,
        images: Mapping[str, moderngl.Texture],
        frame: FrameInfo,
        corner: int = 4,
    ) -> None:
        """One whole frame drawn as render() draws it (every pass, the pass buffers at their real sizes,
        the copy out of a pass buffer, the NaN count's query) with a scissor box of `corner` pixels on
        every framebuffer it touches, so the driver builds every shader and blit variant the show will
        use (the scissor is not part of them) while rasterising almost nothing: a staged build's first
        draws cost the frame they share a few milliseconds of CPU instead of a whole extra layer on the
        raster threads. The pixels the count saw are forgotten (no NaN is read into a corner)."""
        self._bind(target, {}, images, frame, {})  # the pass buffers exist now, at the sizes render() uses
        box = (0, 0, min(corner, target.size[0]), min(corner, target.size[1]))
        fbos = [target, *(f for buf in self._buffers.values() for f in (buf.front_fbo, buf.back_fbo) if f)]
        for fbo in fbos:
            fbo.scissor = box
        try:
            self.render(target, values={}, images=images, frame=frame, audio={})
        finally:
            for fbo in fbos:
                fbo.scissor = None
            target.use()  # the scissor test off again for whatever draws next
            self._forget_count()

    def adopt_state(self, old: IsfProgram) -> None:
        """Carry the persistent buffers of the version this one replaces (trails survive a reload)."""
        persistent = {p.target for p in self.doc.passes if p.persistent and p.target}
        for name in persistent:
            new, prev = self._buffers.get(name), old._buffers.get(name)
            if new is None or prev is None or prev.front_fbo is None or new.front_fbo is None:
                continue
            if new.size == prev.size and new.float == prev.float:
                self.ctx.copy_framebuffer(new.front_fbo, prev.front_fbo)

    def _bind(
        self,
        target: moderngl.Framebuffer,
        values: Mapping[str, object],
        images: Mapping[str, moderngl.Texture],
        frame: FrameInfo,
        audio: Mapping[str, float],
        size: tuple[int, int] | None = None,
    ) -> list[tuple[int, int]]:
        """Set every uniform and texture for a frame; return each pass's size (buffers allocated)."""
        size = size or target.size
        if self._u_time is not None:
            self._u_time.value = frame.time
        if self._u_timedelta is not None:
            self._u_timedelta.value = frame.timedelta
        if self._u_frameindex is not None:
            self._u_frameindex.value = frame.frame_index
        if self._u_date is not None:
            self._u_date.value = frame.date

        for entry in self._values:
            raw = values.get(entry[1], entry[3])
            if raw is not entry[4] and raw != entry[4]:
                entry[4] = raw
                try:
                    entry[0].value = entry[2](raw)
                except (TypeError, ValueError, IndexError):
                    if entry[3] is not None:
                        entry[0].value = entry[3]
        for entry in self._events:
            # An event fires on the render where its value turns truthy or changes (a counter).
            raw = values.get(entry[1])
            fire = bool(raw) and raw != entry[2]
            entry[2] = raw
            if fire != entry[3]:
                entry[0].value = fire
                entry[3] = fire
        for uni, name in self._hl:
            uni.value = audio.get(name, 0.0)

        blank = self._blank
        for entry in self._images:
            tex = images.get(entry[0])
            if tex is None and entry[2] is not None:
                tex = images.get(entry[2])
            tex = tex or blank
            tex.use(location=entry[1])
            if entry[3] and tex.size != entry[4]:
                entry[4] = tex.size
                _set_info(entry[3], tex.size)
        for tex, unit in self._imported:
            tex.use(location=unit)

        if self._needs_env:
            env = {"WIDTH": float(size[0]), "HEIGHT": float(size[1])}
            for name, default in self._expr_inputs:
                v = values.get(name, default)
                if isinstance(v, int | float):
                    env[name] = float(v)
            sizes = [
                size if w is None and h is None else (_dim(w, env, size[0]), _dim(h, env, size[1]))
                for _, _, w, h in self._passes
            ]
        else:
            sizes = [size] * len(self._passes)
        if sizes != self._last_sizes:
            self._last_sizes = sizes
            for (_, buf, _, _), psize in zip(self._passes, sizes, strict=True):
                if buf is not None:
                    buf.ensure(psize, target)
            for buf, info in self._buffer_info:
                if buf.size is not None:
                    _set_info(info, buf.size)
        for buf in self._sampled_buffers:
            if buf.front is None:  # sampled but never written: keep it blank at output size
                buf.ensure(size, target)
            buf.front.use(location=buf.unit)
        return sizes

    def release(self) -> None:
        """Free GL objects; the program is unusable afterwards. Safe to call twice."""
        if self._released:
            return
        self._released = True
        for buf in self._buffers.values():
            buf.release()
        self._buffers.clear()
        for tex in self._textures:
            tex.release()
        self._textures.clear()
        self._vao.release()
        self._vbo.release()
        self._prog.release()
        if self._finite_query is not None:
            _SPARE_QUERIES.setdefault(self.ctx, []).append(self._finite_query)
            self._finite_query = None


def _compile(ctx: moderngl.Context, doc: IsfDocument) -> moderngl.Program:
    """Compile as GLSL 330 core; if that fails, retry as 4.50 (or the context's newest), which
    allows the implicit int/uint/float conversions NVIDIA drivers accept in older versions."""
    try:
        return ctx.program(vertex_shader=doc.vertex, fragment_shader=doc.fragment)
    except moderngl.Error as exc:
        error = exc
    version = min(ctx.version_code, 450)
    if version >= 400:
        newer = f"#version {version} core"
        try:
            return ctx.program(
                vertex_shader=doc.vertex.replace("#version 330 core", newer, 1),
                fragment_shader=doc.fragment.replace("#version 330 core", newer, 1),
            )
        except moderngl.Error:
            pass
    raise parse_compile_error(doc, str(error)) from None


def _size_expr(src: str | None, doc: IsfDocument) -> Callable | None:
    if src is None or not src.strip():
        return None
    try:
        return compile_size_expr(src)
    except ValueError as exc:
        raise ShaderError(f"bad pass size expression: {exc}", path=doc.path, line=doc.header_line) from None


def _set_info(info: tuple, size: tuple[int, int]) -> None:
    for suffix, uni in info:
        if suffix == "imgRect":
            uni.value = (0.0, 0.0, float(size[0]), float(size[1]))
        elif suffix == "imgSize":
            uni.value = (float(size[0]), float(size[1]))
        else:
            uni.value = False


def _dim(expr: Callable | None, env: Mapping[str, float], full: int) -> int:
    if expr is None:
        return full
    try:
        v = expr(env)
    except (ArithmeticError, ValueError, TypeError):
        return full
    if v != v or v in (float("inf"), float("-inf")):
        return full
    return max(1, min(16384, int(v)))


def _array_bytes(values: tuple[float, ...]) -> bytes:
    import struct

    return struct.pack(f"{len(values)}f", *values)


def _load_image(ctx: moderngl.Context, path, doc: IsfDocument) -> moderngl.Texture:
    """Load an IMPORTED image into an RGBA8 texture, bottom row first as GL expects."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGBA").transpose(Image.Transpose.FLIP_TOP_BOTTOM)
            tex = ctx.texture(img.size, 4, img.tobytes())
    except (OSError, ValueError) as exc:
        raise ShaderError(
            f"cannot load IMPORTED image {path}: {exc}", path=doc.path, line=doc.header_line
        ) from None
    tex.repeat_x = tex.repeat_y = False
    return tex
