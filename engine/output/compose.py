"""One output's picture, drawn on the GPU from the program: fit and region, keystone and mesh warp, soft
edge blend, masks, brightness and gamma (or a test pattern in place of the program), then the flash-safety
limiter.

One full-screen pass per output does it all, straight into the output's window: the geometry (keystone as
a projective position, the mesh tessellated) samples the program once; brightness and gamma are arithmetic.
The edge blends are a lookup table of a few kilobytes (a row: the left x right level along x, the top x
bottom level along y), fetched only by the triangles of the blend bands, so the middle of the picture costs
what a plain blit does. Masks are a second, small pass over the masks' box in the output that multiplies
what is there by the mask (the triangles are never cut for them: llvmpipe shades a tile that one triangle
covers whole several times faster than one that triangle edges cut). The limiter measures a 64 x 64 grid
of cells of the output drawn by the output's coarse geometry, the blend and masks baked in (its limit is
about a fifth of the frame or more, so the cells are as good as the whole), and touches the full picture
only while it damps. What asks for nothing is skipped: an output that changes nothing is the program
itself, copied point-sampled into its window (as is every output whose pixels are program texels one for
one: the same picture at half a filtered fetch's cost).
"""

from __future__ import annotations

import functools
import logging

import moderngl
import numpy as np
from PIL import Image, ImageDraw

from engine.output.flash import CELLS, LAYOUT, LAYOUT_GLSL, MEASURE_SIZE, STATE_GLSL, FlashLimiter
from engine.output.stage import EDGES, PATTERNS, UNIT_CORNERS, OutputSpec
from engine.output.warp import fit_mapping, keystone_matrix, mask_box, tessellate
from engine.render.quad import FULLSCREEN_VS, Blit, quad_buffer

log = logging.getLogger(__name__)

MASK_SUPERSAMPLE = 2  # masks are drawn at twice the size and scaled down: soft, not jagged, edges
MAX_MARKERS = 64
BLEND_LUT = 4096  # entries of the blend table along each axis (the nearest is read)
GAMMA_TERMS = 6  # terms of the output gamma's polynomial (degree 5: within a quarter level for gamma >= 0.6)
GAMMA_TOLERANCE = 0.25 / 255  # how far it may stray from c^gamma: a quarter of an 8-bit level
# the polynomial in Horner's form, written out (every index a constant: no loop for the compiler to keep)
_HORNER = (
    "(" * (GAMMA_TERMS - 1)
    + f"gamma_poly[{GAMMA_TERMS - 1}]"
    + "".join(f" * (x) + gamma_poly[{i}])" for i in range(GAMMA_TERMS - 2, -1, -1))
)
# what a shader variant is compiled with (a key's entries, in order)
_FEATURES = (
    "PATTERN",
    "GAMMA",
    "BLEND",
    "MASK",
    "MARKERS",
    "ATTENUATE",
    "SMALL",
    "BRIGHTNESS",
    "MEASURE",
    "BAND_X",
    "BAND_Y",
)

_VS = """#version 330 core
uniform mat3 keystone;     // picture (0..1, y down) -> output (0..1, y down)
uniform vec4 region;       // x, y, w, h of the canvas (y down)
uniform vec4 fitmap;       // scale.xy, offset.xy: picture -> region
uniform vec2 cell_view;    // clip-space y scale and offset: (1, 0), or half the limiter's cells (HALVES)
in vec2 in_pos;            // the picture position after the mesh warp
in vec2 in_uv;             // where it samples the picture
out vec2 uv;
out vec2 canvas;           // where that is in the program texture: affine in uv, so exact per vertex
out vec2 band_x;           // where the blend table's rows are read, each its own varying: llvmpipe's
out vec2 band_y;           // fast path takes only texture coordinates that come straight from one
void main() {
    vec3 p = keystone * vec3(in_pos, 1.0);
    uv = in_uv;
    band_x = vec2(in_uv.x, 0.25);
    band_y = vec2(in_uv.y, 0.75);
    vec2 c = region.xy + (in_uv * fitmap.xy + fitmap.zw) * region.zw;
    canvas = vec2(c.x, 1.0 - c.y);
    // a projective position: the GPU interpolates uv perspective-correctly, so the warp is exact
    gl_Position = vec4(2.0 * p.x - p.z, (p.z - 2.0 * p.y) * cell_view.x + cell_view.y * p.z, 0.0, p.z);
}
"""

_FS = """
uniform sampler2D program;
uniform sampler2D mask;
uniform sampler2D bands;   // the blend table: row 0, the left x right level along x; row 1, top x bottom
uniform sampler2D attenuation;  // blend x mask, baked at each stage change
uniform sampler2D attenuation_taps;  // the same at each cell's 2 x 2 taps, one channel a tap (see _TAPS_FS)
uniform vec2 out_size;
uniform vec4 edge_width;   // left, top, right, bottom
uniform vec4 edge_curve;
uniform vec4 edge_gamma;
uniform vec4 edge_centre;
uniform float brightness;
uniform float out_gamma;
uniform float gamma_poly[GAMMA_TERMS];  // the output gamma's polynomial, lowest power first
uniform vec2 view_size;    // the small copy's size
uniform vec2 markers[MAX_MARKERS];  // stage edit: the points that can be dragged (0..1 of the output)
uniform int n_markers;
uniform int selected;
in vec2 uv;
in vec2 canvas;
in vec2 band_x;
in vec2 band_y;
#if MEASURE  // the limiter's cells: drawn straight into its state (STATE_GLSL's advance)
layout(location = 0) out vec4 next_state;
layout(location = 1) out vec4 made;
#else
out vec4 color;
#endif

float ramp(float a, float curve, float gamma, float centre) {
    a = clamp(a, 0.0, 1.0);
    float f = a < 0.5 ? centre * pow(2.0 * a, curve) : 1.0 - (1.0 - centre) * pow(2.0 * (1.0 - a), curve);
    return pow(f, 1.0 / gamma);
}

vec3 source(vec2 p, vec2 canvas) {  // what the output shows at picture point p (canvas: its texel)
    vec2 px = p * out_size;
#if PATTERN == 1  // grid: lines every 1/16, a border and a centre cross
    vec2 cell = abs(fract(p * 16.0 + 0.5) - 0.5) * out_size / 16.0;
    float line = step(min(cell.x, cell.y), 1.0);
    float border = step(min(min(px.x, px.y), min(out_size.x - px.x, out_size.y - px.y)), 2.0);
    float cross = step(min(abs(px.x - out_size.x * 0.5), abs(px.y - out_size.y * 0.5)), 1.5);
    return vec3(max(max(line, border), cross));
#elif PATTERN == 2  // circles: concentric rings round the centre, true circles on the output
    float r = length(px - out_size * 0.5) / (out_size.y * 0.5);
    return vec3(step(abs(fract(r * 4.0 + 0.5) - 0.5), 0.02) + step(r, 0.01));
#elif PATTERN == 3  // blend ramp: white (shows the edge blends), a grey ramp across the middle band
    return (p.y > 0.4 && p.y < 0.6) ? vec3(p.x) : vec3(1.0);
#elif PATTERN == 5  // white: what the blend and mask bake starts from
    return vec3(1.0);
#elif PATTERN == 4  // colour bars: white, yellow, cyan, green, magenta, red, blue, black
    int i = int(clamp(p.x * 8.0, 0.0, 7.0));
    return vec3(i == 0 || i == 1 || i == 4 || i == 5, i <= 3, i == 0 || i == 2 || i == 4 || i == 6);
#else  // the program: straight from the interpolated coordinate (a fit's bars are not drawn at all)
    return texture(program, canvas).rgb;
#endif
}

vec3 shade(vec2 p, vec2 canvas) {
    vec3 c = source(p, canvas);
#if GAMMA == 1  // a curve no short polynomial follows closely enough (see gamma_curve)
    c = pow(c, vec3(out_gamma));
#elif GAMMA >= 2  // c^gamma as a polynomial in c's (GAMMA - 2)th square root: a fraction of pow's cost
    vec3 root = c;
#if GAMMA >= 3
    root = sqrt(max(root, 0.0));
#endif
#if GAMMA == 4
    root = sqrt(root);
#endif
    c = GAMMA_HORNER(root);
#endif
#if BRIGHTNESS
    c *= brightness;
#endif
    return c;
}

#if MEASURE
void main() {  // one fragment per cell: the mean of 2 x 2 taps across it, in linear light
    vec2 du = dFdx(uv), dv = dFdy(uv), dx = dFdx(canvas), dy = dFdy(canvas);
    vec3 sum = vec3(0.0);
#if ATTENUATE  // the taps' levels in one unfiltered fetch (four filtered ones at computed points cost
    vec4 taps = texelFetch(attenuation_taps, ivec2(gl_FragCoord.xy), 0);  // llvmpipe half the pass)
#endif
    for (int j = 0; j < 2; j++) for (int i = 0; i < 2; i++) {
        vec2 o = vec2(i, j) * 0.5 - 0.25;
        vec3 c = shade(uv + o.x * du + o.y * dv, canvas + o.x * dx + o.y * dy);
#if ATTENUATE
        c *= taps[j * 2 + i];
#endif
        sum += linear(clamp(c, 0.0, 1.0));
    }
    advance(sum / 4.0, ivec2(gl_FragCoord.xy), next_state, made);
}
#else
void main() {
    vec3 c = shade(uv, canvas);
#if BLEND  // the blend is light: after the gamma
    vec4 a = vec4(uv.x, uv.y, 1.0 - uv.x, 1.0 - uv.y) / max(edge_width, vec4(1e-6));
    for (int e = 0; e < 4; e++) {
        if (edge_width[e] > 0.0 && a[e] < 1.0) c *= ramp(a[e], edge_curve[e], edge_gamma[e], edge_centre[e]);
    }
#endif
#if BAND_X  // the blend bands' triangles: the table's level (the blend is light: after the gamma)
    c *= texture(bands, band_x).r;
#endif
#if BAND_Y
    c *= texture(bands, band_y).r;
#endif
#if MASK  // the bake, and stage edit (the markers stay in sight over a mask): else a pass of its own
    c *= texture(mask, gl_FragCoord.xy / out_size).r;
#endif
#if ATTENUATE  // the small copy the limiter measures while it damps: every fragment takes its level
    c *= texture(attenuation, gl_FragCoord.xy / view_size).r;
#endif
#if MARKERS
    vec2 px = vec2(gl_FragCoord.x, out_size.y - gl_FragCoord.y);
    for (int i = 0; i < n_markers; i++) {
        float d = length(px - markers[i] * out_size);
        if (d > 8.0 && d < 14.0) c = i == selected ? vec3(1.0, 0.8, 0.0) : vec3(0.0, 0.9, 1.0);
    }
#endif
    color = vec4(c, 1.0);
}
#endif
"""

# the masks' pass: what the output shows there, multiplied by the mask (the blend function does it)
_MASK_VS = """#version 330 core
uniform vec4 box;  // x0, y0, x1, y1: 0..1 of the output, y down
in vec2 in_pos;
void main() {
    vec2 p = mix(box.xy, box.zw, in_pos);
    gl_Position = vec4(2.0 * p.x - 1.0, 1.0 - 2.0 * p.y, 0.0, 1.0);
}
"""
_MASK_FS = """#version 330 core
uniform sampler2D mask;
out vec4 color;
void main() { color = vec4(texelFetch(mask, ivec2(gl_FragCoord.xy), 0).rrr, 1.0); }
"""


# the attenuation at each limiter cell's 2 x 2 taps (where the measuring pass takes them), a channel a tap:
# baked with the attenuation, so the measuring pass fetches one texel a cell instead of four filtered taps
_TAPS_FS = f"""#version 330 core
uniform sampler2D attenuation;
out vec4 color;
{LAYOUT_GLSL}
void main() {{  // at the limiter's texels (see flash.LAYOUT): each the taps of the cell it holds
    vec2 centre = vec2(cell_at(ivec2(gl_FragCoord.xy))) + 0.5;
    vec4 taps;
    for (int j = 0; j < 2; j++) for (int i = 0; i < 2; i++) {{
        taps[j * 2 + i] = texture(attenuation, (centre + vec2(i, j) * 0.5 - 0.25) / vec2(CELL_GRID)).r;
    }}
    color = taps;
}}
"""
TAPS_UNIT = 5  # where the measuring pass finds the taps' levels


class OutputCompositor:
    """Draws one output's final picture (its size) from the program texture (the render size).

    The shader is compiled per feature set (pattern, gamma, brightness, attenuation, stage-edit markers,
    the limiter's small copy or cells), so an output pays only for what its stage asks; an output that
    asks for nothing is the program itself, untouched. The flash limit can change live
    (`set_flash_limit`), taking effect at the next draw in this output's own context."""

    def __init__(self, ctx: moderngl.Context, spec: OutputSpec, canvas: tuple[int, int], flash_limit: str):
        self.ctx = ctx
        self.canvas = tuple(canvas)
        self._programs: dict[tuple, moderngl.Program] = {}
        self._vaos: dict[tuple, moderngl.VertexArray] = {}
        self._buffers: list[moderngl.Buffer] = []
        self._mask: moderngl.Texture | None = None
        self.spec = spec
        self.markers: tuple[list, int] | None = None  # stage edit: (points, selected) drawn on the picture
        self.want_picture = False  # the preview shows this output: keep its picture drawn into a window
        self._picture = ctx.texture(spec.size, 4)
        self._picture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._picture.repeat_x = self._picture.repeat_y = False  # see clamped_sampler
        self._fbo = ctx.framebuffer(color_attachments=[self._picture])
        self._atten = ctx.texture(spec.size, 4)  # RGBA8: llvmpipe fetches one-channel textures slowly
        self._atten.repeat_x = self._atten.repeat_y = False
        self._atten_fbo = ctx.framebuffer(color_attachments=[self._atten])
        self._bands = ctx.texture((BLEND_LUT, 2), 4)
        self._bands.repeat_x = self._bands.repeat_y = False
        # the nearest entry (1/8192 of the picture away at most): a filtered fetch cost the band triangles
        # half a plain pass more on llvmpipe (keystone+blend +0.8-1.1 ms CPU a 720p frame, now +0.05)
        self._bands.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._mask_prog = ctx.program(vertex_shader=_MASK_VS, fragment_shader=_MASK_FS)
        self._mask_prog["mask"].value = 1
        self._mask_quad = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], "f4").tobytes())
        self._mask_vao = ctx.vertex_array(self._mask_prog, [(self._mask_quad, "2f", "in_pos")])
        self._taps = ctx.texture(LAYOUT, 4)  # the attenuation at the limiter cells' taps (see _TAPS_FS)
        self._taps.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._taps_fbo = ctx.framebuffer(color_attachments=[self._taps])
        self._taps_prog = ctx.program(vertex_shader=FULLSCREEN_VS, fragment_shader=_TAPS_FS)
        self._taps_prog["attenuation"].value = 2
        self._taps_quad = quad_buffer(ctx)
        self._taps_vao = ctx.vertex_array(self._taps_prog, [(self._taps_quad, "2f", "in_pos")])
        self._small = ctx.texture(MEASURE_SIZE, 4)  # what the limiter measures (a warped output)
        self._small.repeat_x = self._small.repeat_y = False
        self._small_fbo = ctx.framebuffer(color_attachments=[self._small])
        self._blit = Blit(ctx)
        # point sampling where each output pixel is one program texel at its centre: the same picture
        # at half a filtered fetch's cost on llvmpipe (a 720p copy 6.9 -> 3.5 ms CPU)
        self._exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
        self._filtered = clamped_sampler(ctx)  # every other fetch of the program (see clamped_sampler)
        self.limiter: FlashLimiter | None = None
        self.flash_limit = flash_limit
        self._limit_now = "off"
        self._rebuild()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def size(self) -> tuple[int, int]:
        return self.spec.size

    def update(self, spec: OutputSpec) -> None:
        """Adopt an edited spec (same size). The geometry, mask and uniforms are rebuilt at the next draw,
        in the context this output draws with (an edit may come from another window's key callback)."""
        if spec.size != self.spec.size:
            raise ValueError("an output's size is fixed while it runs")
        self.spec = spec
        self._dirty = True

    def set_flash_limit(self, mode: str) -> None:
        """standard, strict or off from the next frame (the limiter is made or let go at the next draw)."""
        self.flash_limit = mode

    def _prepare(self) -> None:
        if self._dirty:
            self._rebuild()
        if self.flash_limit == self._limit_now:
            return
        if self.flash_limit == "off":
            self.limiter.release()
            self.limiter = None
        elif self.limiter is None:
            self.limiter = FlashLimiter(self.ctx, self.spec.size, self.flash_limit)
        else:
            self.limiter.set_mode(self.flash_limit)
        self._limit_now = self.flash_limit

    def _rebuild(self) -> None:
        self._dirty = False
        spec = self.spec
        for thing in (*self._buffers, *self._vaos.values()):
            thing.release()
        self._vaos = {}
        # the output's geometry, and a coarser one for the limiter's cells and its small copy
        self._geometry = (tessellate(spec, self.canvas), tessellate(spec, self.canvas, MEASURE_SIZE))
        self._buffers = [
            self.ctx.buffer(a.tobytes()) for g in self._geometry for a in (g.vertices, g.indices)
        ]
        self._gamma = gamma_curve(spec.gamma)
        self._set_mask(spec)
        self._bands.write(blend_table(spec).tobytes())
        if spec.masks:
            self._mask_prog["box"].value = mask_box(spec.masks, spec.size)
        self._bake()

    def _variant(
        self, small: bool = False, measure: bool = False, band_x: bool = False, band_y: bool = False
    ) -> tuple:
        """The features (see _FEATURES): the blend is never computed per frame (the band triangles fetch
        the table); the coarse passes (the limiter's cells, its small copy) fetch the blend and the masks
        baked together into the attenuation texture."""
        s = self.spec
        coarse = small or measure
        editing = self.markers is not None and not coarse  # on the picture only
        return (
            PATTERNS.index(s.pattern),
            self._gamma[0],
            False,
            editing and bool(s.masks),
            editing,
            coarse and self._attenuates,
            small,
            s.brightness != 1.0,
            measure,
            band_x,
            band_y,
        )

    @property
    def _attenuates(self) -> bool:
        return bool(self.spec.masks) or any(e.width > 0 for e in self.spec.blend.values())

    @property
    def _one_to_one(self) -> bool:
        """Each output pixel shows one program texel, at its centre: no keystone, no mesh, the region at
        the output's own pixel size and on whole pixels (so point sampling is the filtered picture)."""
        s = self.spec
        x, y, w, h = (s.region[i] * self.canvas[i % 2] for i in range(4))
        whole = all(abs(v - round(v)) < 1e-6 for v in (x, y))
        return s.keystone == UNIT_CORNERS and s.mesh is None and (round(w), round(h)) == s.size and whole

    @property
    def _covers(self) -> bool:
        """The geometry covers the whole output (no keystone, no mesh, no fit's bars): nothing to clear."""
        s = self.spec
        fitted = fit_mapping(s, self.canvas)[2:] != (0.0, 0.0) and s.fit == "fit"
        return s.keystone == UNIT_CORNERS and s.mesh is None and not fitted

    def _bake(self) -> None:
        """Draw the blend and the mask over white into the attenuation texture (per stage change)."""
        if not self._attenuates:
            return
        key = (
            len(PATTERNS),
            False,
            True,
            bool(self.spec.masks),
            False,
            False,
            False,
            False,
            False,
            False,
            False,
        )
        self._atten_fbo.use()
        self._atten_fbo.clear(0.0, 0.0, 0.0, 0.0)
        if self._mask is not None:
            self._mask.use(1)
        self._vao(key).render(moderngl.TRIANGLES)
        self._taps_fbo.use()
        self._atten.use(2)
        self._taps_vao.render(moderngl.TRIANGLE_STRIP)

    def _vao(self, key: tuple) -> moderngl.VertexArray:
        """The geometry bound to the program for these features, its uniforms set (once per stage change)."""
        vao = self._vaos.get(key)
        if vao is not None:
            return vao
        prog = self._programs.get(key)
        if prog is None:
            defines = "".join(f"#define {n} {int(v)}\n" for n, v in zip(_FEATURES, key, strict=True))
            state = STATE_GLSL if key[8] else ""  # MEASURE: the limiter's detection, in this pass
            fs = (
                f"#version 330 core\n#define MAX_MARKERS {MAX_MARKERS}\n#define GAMMA_TERMS {GAMMA_TERMS}\n"
                f"#define GAMMA_HORNER(x) {_HORNER}\n{defines}{state}{_FS}"
            )
            prog = self._programs[key] = self.ctx.program(vertex_shader=_VS, fragment_shader=fs)
        small = key[6] or key[8]
        vbo, ibo = self._buffers[2:] if small else self._buffers[:2]  # SMALL, MEASURE: the coarse geometry
        vao = self._vaos[key] = self.ctx.vertex_array(
            prog, [(vbo, "2f 2f", "in_pos", "in_uv")], index_buffer=ibo
        )
        self._set_uniforms(prog, CELLS if key[8] else MEASURE_SIZE)
        return vao

    def _set_uniforms(self, p: moderngl.Program, view_size: tuple[int, int]) -> None:
        spec = self.spec
        edges = [spec.edge(e) for e in EDGES]
        values = {
            "keystone": keystone_matrix(spec).T.astype("f4").tobytes(),  # GLSL matrices are column-major
            "out_size": spec.size,
            "view_size": view_size,
            "region": spec.region,
            "cell_view": (1.0, 0.0),
            "fitmap": fit_mapping(spec, self.canvas),
            "edge_width": tuple(e.width for e in edges),
            "edge_curve": tuple(e.curve for e in edges),
            "edge_gamma": tuple(e.gamma for e in edges),
            "edge_centre": tuple(e.centre for e in edges),
            "brightness": spec.brightness,
            "out_gamma": spec.gamma,
            "gamma_poly": np.array(self._gamma[1], "f4").tobytes(),
            "program": 0,
            "mask": 1,
            "attenuation": 2,
            "bands": 4,
            "attenuation_taps": TAPS_UNIT,
        }
        for name, value in values.items():
            if name in p:  # the compiler drops what a variant does not use
                if isinstance(value, bytes):
                    p[name].write(value)
                else:
                    p[name].value = value

    def _set_mask(self, spec: OutputSpec) -> None:
        if self._mask is not None:
            self._mask.release()
            self._mask = None
        if spec.masks:  # RGBA8: llvmpipe fetches one-channel textures slowly
            levels = np.repeat(mask_pixels(spec)[..., None], 4, axis=-1)
            self._mask = self.ctx.texture(spec.size, 4, levels.tobytes())
            self._mask.filter = (moderngl.LINEAR, moderngl.LINEAR)

    @property
    def plain(self) -> bool:
        """Nothing to change: the output shows the program as it is (no pass at all; bit for bit)."""
        s = self.spec
        return (
            s.size == self.canvas
            and s.region == (0.0, 0.0, 1.0, 1.0)
            and s.keystone == UNIT_CORNERS
            and s.mesh is None
            and not s.masks
            and all(e.width <= 0 for e in s.blend.values())
            and (s.brightness, s.gamma, s.pattern) == (1.0, 1.0, "off")
            and self.markers is None
        )

    def _limit(self, program: moderngl.Texture, time: float) -> bool:
        """Start the limiter's frame and measure it; True when this frame is damped. A plain output is
        measured on the program itself; a warped one by drawing its geometry once into the limiter's cells
        (a cell a fragment), except while it damps: then on a small copy, as the damping passes need."""
        limiter = self.limiter
        if limiter is None:
            return False
        damping = limiter.begin(time)
        if self.plain:
            limiter.measure(program)
        elif damping:
            self._compose(program, self._small_fbo, small=True)
            limiter.measure(self._small)
        else:
            vao = self._vao(self._variant(measure=True))
            limiter.measure_with(vao.program, lambda fbo: self._compose(program, fbo, measure=True))
        return damping

    def draw(self, program: moderngl.Texture, time: float) -> moderngl.Texture:
        """The output's final picture for the frame at show time `time`, limiter applied."""
        self._prepare()
        damping = self._limit(program, time)
        picture = program if self.plain else self._compose(program, self._fbo)
        return picture if self.limiter is None else self.limiter.finish(picture, damping)

    def draw_into(
        self, program: moderngl.Texture, time: float, target: moderngl.Framebuffer
    ) -> moderngl.Texture | None:
        """Draw the final picture into `target` (an output window's framebuffer, its viewport set) and
        return it as a texture (for the preview). When the target is the output's size, the one pass draws
        straight into it (and, only while the preview shows this output, a copy keeps the picture: None
        otherwise); the limiter adds a pass of 64 x 64 fragments. In the frames it may damp, the damped
        picture is made in the limiter's own texture (memory copies and a pass over just the pixels it
        damps) and drawn into the target once: a window's framebuffer is BGRA on llvmpipe, so a blit into
        or out of it is a drawn pass, not a memory copy (damping straight into the window took two: a
        damping-path frame in an Xvfb window 15.0 -> 11.7 ms at 720p)."""
        self._prepare()
        if tuple(target.viewport) != (0, 0, *self.spec.size):
            return self._copy_into(self.draw(program, time), target)
        damping = self._limit(program, time)
        if damping:
            picture = program if self.plain else self._compose(program, self._fbo)
            return self._copy_into(self.limiter.finish(picture, True), target)
        if self.plain:
            self._copy_into(program, target)
            return program if self.limiter is None else self.limiter.finish(program, False)
        self._compose(program, target)
        if self.limiter is not None:
            self.limiter.keep(target)
        if not self.want_picture:  # a copy of a window's picture costs a wait for it: only when shown
            return None
        self.ctx.copy_framebuffer(self._fbo, target)
        return self._picture

    def _copy_into(self, final: moderngl.Texture, target: moderngl.Framebuffer) -> moderngl.Texture:
        """Draw `final` into the target's viewport (texel for pixel when it is the same size)."""
        sampler = self._exact if final.size == tuple(target.viewport[2:]) else self._filtered
        sampler.use(0)
        self._blit.draw(final, target)
        sampler.clear(0)
        return final

    def _compose(
        self,
        program: moderngl.Texture,
        target: moderngl.Framebuffer,
        small: bool = False,
        measure: bool = False,
    ) -> moderngl.Texture:
        """The one pass: the triangles outside the blend bands, then those in them, then the masks' pass
        (the small copy and the limiter's cells draw the coarse geometry in one go, the blend and the masks
        baked in)."""
        target.use()
        if not self._covers and not measure:  # the limiter clears its cells itself
            self.ctx.clear(0.0, 0.0, 0.0, 1.0, viewport=target.viewport)
        program.use(0)
        coarse = small or measure
        exact = not coarse and self._one_to_one
        sampler = self._exact if exact else self._filtered
        sampler.use(0)
        if self._mask is not None:
            self._mask.use(1)
        self._atten.use(2)
        self._bands.use(4)
        self._taps.use(TAPS_UNIT)
        g = self._geometry[coarse]
        runs = [(False, False, 0, len(g.indices))] if coarse else g.runs()
        for band_x, band_y, first, count in runs:
            vao = self._vao(self._variant(small, measure, band_x, band_y))
            if self.markers is not None and not coarse:
                self._set_markers(vao.program)
            vao.render(moderngl.TRIANGLES, vertices=count, first=first)
        if self.spec.masks and not coarse and self.markers is None:
            self._draw_masks()
        sampler.clear(0)
        return self._picture

    def _draw_masks(self) -> None:
        """Multiply what the output shows over the masks' box by the mask (where it is 1, bit for bit)."""
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.ZERO, moderngl.SRC_COLOR
        self._mask_vao.render(moderngl.TRIANGLE_STRIP)
        self.ctx.disable(moderngl.BLEND)

    def _set_markers(self, prog: moderngl.Program) -> None:
        points, selected = self.markers
        points = points[:MAX_MARKERS]
        prog["n_markers"].value = len(points)
        if points:
            flat = np.zeros((MAX_MARKERS, 2), "f4")
            flat[: len(points)] = points
            prog["markers"].write(flat.tobytes())
            prog["selected"].value = selected

    def release(self) -> None:
        self._blit.release()
        self._exact.release()
        self._filtered.release()
        things = (
            *self._vaos.values(),
            *self._buffers,
            self._mask,
            self._fbo,
            self._picture,
            self._atten_fbo,
            self._atten,
            self._bands,
            self._mask_vao,
            self._mask_quad,
            self._mask_prog,
            self._small_fbo,
            self._small,
            self._taps_vao,
            self._taps_quad,
            self._taps_prog,
            self._taps_fbo,
            self._taps,
        )
        for thing in things:
            if thing is not None:
                thing.release()
        for prog in self._programs.values():
            prog.release()
        if self.limiter is not None:
            self.limiter.release()


def clamped_sampler(ctx: moderngl.Context) -> moderngl.Sampler:
    """Filtered fetches of a picture clamped to its edge texels. A texture's own state repeats (GL's
    default), which is wrong at a warped picture's border (a half-texel there blends in the opposite
    edge) and, for pictures that are not a power of two wide, costs llvmpipe a modulo per tap: bound over
    it, a 720p keystone's frame took ~0.4-0.7 ms less CPU (see docs/stage.md)."""
    return ctx.sampler(filter=(moderngl.LINEAR, moderngl.LINEAR), repeat_x=False, repeat_y=False)


@functools.lru_cache(maxsize=64)
def gamma_curve(gamma: float) -> tuple[int, tuple[float, ...]]:
    """How the pass raises the picture to the output gamma: (GAMMA, polynomial). 0: gamma 1, nothing to do;
    2-4: c^gamma as a GAMMA_TERMS-term polynomial in c, its square root or its fourth root (whichever
    follows the curve best), used when it stays within GAMMA_TOLERANCE of it over 0..1 (a square root and
    a few multiply-adds a channel cost llvmpipe a fraction of pow's exp2 and log2); else 1: pow itself."""
    if gamma == 1.0:
        return 0, (0.0,) * GAMMA_TERMS
    x = np.linspace(0.0, 1.0, 4097)
    best = (np.inf, 1, (0.0,) * GAMMA_TERMS)
    for roots in range(3):
        s = x ** (0.5**roots)
        fit = np.polynomial.Chebyshev.fit(s, x**gamma, GAMMA_TERMS - 1).convert(kind=np.polynomial.Polynomial)
        coef = np.zeros(GAMMA_TERMS)
        coef[: len(fit.coef)] = fit.coef
        error = float(np.abs(np.polynomial.polynomial.polyval(s, coef) - x**gamma).max())
        if error < best[0]:
            best = (error, 2 + roots, tuple(float(c) for c in coef))
    error, variant, coef = best
    return (variant, coef) if error <= GAMMA_TOLERANCE else (1, (0.0,) * GAMMA_TERMS)


def mask_pixels(spec: OutputSpec) -> np.ndarray:
    """The output's mask as 8-bit levels, bottom row first (GL's order): 255 shows, 0 is masked."""
    w, h = spec.size[0] * MASK_SUPERSAMPLE, spec.size[1] * MASK_SUPERSAMPLE
    image = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(image)
    for m in spec.masks:
        polygon = [(x * w, y * h) for x, y in m.points]
        if m.invert:
            inside = Image.new("L", (w, h), 0)
            ImageDraw.Draw(inside).polygon(polygon, fill=255)
            image = Image.fromarray(np.minimum(np.asarray(image), np.asarray(inside)))
            draw = ImageDraw.Draw(image)
        else:
            draw.polygon(polygon, fill=0)
    image = image.resize(spec.size, Image.Resampling.BOX)
    return np.ascontiguousarray(np.asarray(image)[::-1])


def blend_table(spec: OutputSpec) -> np.ndarray:
    """The edge blends as a table of BLEND_LUT levels along the picture (at its entries' centres; the
    nearest is read), two rows: the left and right blends' product along x, the top and bottom ones'
    along y (8-bit, as shown)."""
    t = (np.arange(BLEND_LUT) + 0.5) / BLEND_LUT
    table = np.full((2, BLEND_LUT, 4), 255, np.uint8)
    for row, (near, far) in enumerate((("left", "right"), ("top", "bottom"))):
        level = np.ones(BLEND_LUT)
        for edge, a in ((near, t), (far, 1.0 - t)):
            blend = spec.edge(edge)
            if blend.width > 0:
                inside = a < blend.width
                level[inside] *= blend.factor(a[inside] / blend.width)
        table[row, :, :3] = np.round(level * 255)[:, None]
    return table


def read_pixels(ctx: moderngl.Context, texture: moderngl.Texture) -> np.ndarray:
    """RGBA pixels of a texture, top row first (for PNGs and video)."""
    w, h = texture.size
    data = np.frombuffer(texture.read(alignment=1), np.uint8).reshape(h, w, texture.components)
    return np.ascontiguousarray(data[::-1])
