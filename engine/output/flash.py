"""The flash-safety limiter, on by default on every output (ITU-R BT.1702, WCAG 2.3.1).

At most 3 general flashes and at most 3 red flashes in any one-second window over more than 25 % of the
frame (20 % with `strict`). A flash is a pair of opposing transitions: changes of relative luminance of at
least 0.1 where the darker state is below 0.8; a red transition is a change of at least 20 in
max(0, R − G − B) × 320 (linear RGB) involving a saturated red, R / (R + G + B) ≥ 0.8.

It runs on the GPU, on a grid of cells of the final picture (each the mean linear colour of its patch:
flashes are about areas, not single pixels), measured on a small copy of it (the output drawn again at
128 x 128, or the program itself when the output is plain), since the limit is about more than a fifth of
the frame. Per cell it keeps the last extreme and the direction of the last transition. Each frame the CPU
knows, from the transitions counted on earlier frames, whether a detector has used its budget (6
transitions = 3 flashes in the last second):

- Not (almost every frame): one small pass updates each cell's state from the picture as it is and marks
  the transitions it made; the full-resolution picture is never touched, not even copied, unless the budget
  is one transition from used (then a memory copy keeps it, to damp the next frame toward).
- Used: A. per cell, would this frame make a transition, and the largest blend k in [0, 1] from the
  previous output toward the new picture that would not (a bisection on the cell's taps of both);
  mipmapped, so its top level is the area fraction. K. per cell, the blend it gets, 8-bit, rounded down.
  B. the picture is copied into the target (a blit: memory, not a drawn pass, between textures of one
  format; a window's framebuffer is BGRA, so outputs damp into the limiter's own texture); when the would-be
  transitions cover more than the area limit, the pixels of the cells that would transition get the
  previous output blended over them by 1 - k (fixed-function blending, in the picture's own values); in a
  frame where nothing would flash the pass's quad collapses and no pixel is drawn. Every other pixel is
  the copy of the picture, bit for bit. C. per cell: the state after what was really shown (the same
  blend of the taps).

Why this shape: on llvmpipe a drawn full-frame pass costs ~15 times a blit, each texture fetch a pixel
several milliseconds at 720p, and pow most of a pass; while a strobe has used its budget every frame takes
this path, and most of them would not flash at all.

The CPU reads the transitions one frame later (by then they are done) and counts them.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import moderngl
import numpy as np

from engine.render.quad import FULLSCREEN_VS, quad_buffer

log = logging.getLogger(__name__)

AREA = {"standard": 0.25, "strict": 0.20}
MAX_TRANSITIONS = 6  # 3 flashes: 6 opposing transitions in any one second
WINDOW = 1.0  # seconds
LUMA_STEP, LUMA_DARK = 0.1, 0.8
RED_STEP = 20.0
SATURATED_RED = 0.8
MARGIN = 0.85  # damp to this fraction of a step, so 8-bit rounding cannot make one
SAFE_DARK = LUMA_DARK + (1 - MARGIN) * LUMA_STEP  # nor push a bright state under the darker-state limit
CELLS = (64, 64)  # a power of two each way: the mip chain's top level is the exact mean
# The cells' textures hold the grid as two halves side by side, the picture's bottom half on the left
# (128 x 32 texels): llvmpipe gives each 64 x 64 tile of a pass to one rasteriser thread, so a grid in one
# tile kept the other thread idle while the frame waited for it (a measuring pass at 720p, 1.32 -> 0.79 ms
# of wall time at load ~5, the same CPU time). Every pass indexes the textures by texel and the picture by
# cell (cell_at).
LAYOUT = (2 * CELLS[0], CELLS[1] // 2)
# where another program's pass draws the picture into the cells (see measure_with): each half's viewport,
# and its clip-space y scale and offset (the bottom half of the picture, y -1..0, into the left one)
HALVES = (
    ((0, 0, CELLS[0], CELLS[1] // 2), (2.0, 1.0)),
    ((CELLS[0], 0, CELLS[0], CELLS[1] // 2), (2.0, -1.0)),
)
LAYOUT_GLSL = f"""
const ivec2 CELL_GRID = ivec2({CELLS[0]}, {CELLS[1]});
ivec2 cell_at(ivec2 texel) {{  // the cell that a texel of the cells' textures holds (see LAYOUT)
    return ivec2(texel.x % CELL_GRID.x, texel.y + CELL_GRID.y / 2 * (texel.x / CELL_GRID.x));
}}
ivec2 texel_of(ivec2 cell) {{
    return ivec2(cell.x + CELL_GRID.x * (cell.y / (CELL_GRID.y / 2)), cell.y % (CELL_GRID.y / 2));
}}
"""
TAPS = 2  # bilinear taps per cell each way (each averages 2 x 2 pixels)
NOTICE = {
    "strict": "flash limiter STRICT: at most 3 flashes/s over 20 % of the frame",
    "off": "flash limiter OFF: flashing content reaches the audience unlimited",
}


def _fit(curve, lo: float, degree: int) -> tuple[float, ...]:
    """Least-squares (Chebyshev) fit of `curve` on [lo, 1]: power-basis coefficients, lowest first."""
    x = np.linspace(lo, 1.0, 4001)
    fit = np.polynomial.Chebyshev.fit(x, curve(x), degree).convert(kind=np.polynomial.Polynomial)
    return tuple(float(c) for c in fit.coef)


_DEC = _fit(lambda c: ((c + 0.055) / 1.055) ** 2.4, 0.04045, 6)  # sRGB -> linear above the linear toe

STATE_GLSL = f"""
{LAYOUT_GLSL}
const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);
vec3 linear(vec3 c) {{
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c));
}}
float redness(vec3 c) {{  // WCAG's red measure: (R - G - B) x 320 when the colour is a saturated red
    float sum = c.r + c.g + c.b;
    return (sum > 0.0 && c.r / sum >= {SATURATED_RED}) ? max(0.0, c.r - c.g - c.b) * 320.0 : 0.0;
}}
// (new extreme, new direction, 1 when this value makes a transition)
vec3 detect(float v, float ref, float dir, float step_, float dark) {{
    float d = v - ref;
    if (dir > 0.5 && d >= 0.0) return vec3(v, dir, 0.0);   // still rising: follow the peak
    if (dir < -0.5 && d <= 0.0) return vec3(v, dir, 0.0);  // still falling: follow the trough
    if (abs(d) >= step_ && min(v, ref) < dark) return vec3(v, sign(d), 1.0);
    return vec3(ref, dir, 0.0);
}}
uniform sampler2D state;    // per cell: luminance extreme, its direction, red extreme, its direction
uniform bool first;
// the cell's next state once `c` (its mean linear colour) is shown, and the transitions that makes
void advance(vec3 c, ivec2 texel, out vec4 next_state, out vec4 made) {{
    vec4 s = texelFetch(state, texel, 0);
    float l = dot(c, LUMA), r = redness(c);
    if (first) {{
        next_state = vec4(l, 0.0, r, 0.0);
        made = vec4(0.0);
    }} else {{
        vec3 dl = detect(l, s.x, s.y, {LUMA_STEP}, {LUMA_DARK});
        vec3 dr = detect(r, s.z, s.w, {RED_STEP}, 1e9);
        next_state = vec4(dl.xy, dr.xy);
        made = vec4(dl.z, dr.z, 0.0, 1.0);
    }}
}}
"""

# sRGB -> linear as a polynomial above the linear toe (within 1.7e-5 of the curve): pass A's bisection
# decodes each tap of the blend it tries, ten times over, where pow would be most of the pass's cost
_SRGB_FAST = f"""
vec3 fast_linear(vec3 c) {{
    vec3 p = {_DEC[6]} * c + {_DEC[5]};
    p = p * c + {_DEC[4]}; p = p * c + {_DEC[3]}; p = p * c + {_DEC[2]}; p = p * c + {_DEC[1]};
    p = p * c + {_DEC[0]};
    return mix(c / 12.92, p, step(0.04045, c));
}}
"""
_COMMON = f"""
{STATE_GLSL}
{_SRGB_FAST}
uniform sampler2D picture;
uniform sampler2D previous; // last frame's output (filtered: its taps are 2 x 2 means, as the picture's)
uniform sampler2D flags;    // pass A's output; its top mip level is the area fraction
uniform sampler2D blends;   // pass K's output: the blend each cell gets
uniform int top_level;
uniform bool lock_luma;
uniform bool lock_red;
uniform float area;
const int N_TAPS = {TAPS * TAPS};
vec2 tap(ivec2 cell, ivec2 cells, int n) {{  // the n-th of the cell's TAPS x TAPS bilinear taps
    return (vec2(cell) + (vec2(n % {TAPS}, n / {TAPS}) + 0.5) / {float(TAPS)}) / vec2(cells);
}}
vec3 cell_colour(ivec2 cell, ivec2 cells) {{  // mean linear colour of the cell
    vec3 sum = vec3(0.0);
    for (int n = 0; n < N_TAPS; n++) sum += linear(texture(picture, tap(cell, cells, n)).rgb);
    return sum / float(N_TAPS);
}}
// the cell's mean linear colour once each of its pixels is mix(previous, picture, k): the damped pixels
// are blended in their own (sRGB) values, so a tap of the damped picture is that blend of the two taps
vec3 blended_colour(vec3 before[N_TAPS], vec3 after[N_TAPS], float k) {{
    vec3 sum = vec3(0.0);
    for (int n = 0; n < N_TAPS; n++) sum += fast_linear(mix(before[n], after[n], k));
    return sum / float(N_TAPS);
}}
float applied_k(vec4 f) {{  // the blend this cell gets (1: the picture as it is)
    vec4 total = textureLod(flags, vec2(0.5), float(top_level));
    float k = 1.0;
    if (lock_luma && total.x > area && f.x > 0.5) k = min(k, f.z);
    if (lock_red && total.y > area && f.y > 0.5) k = min(k, f.w);
    return k;
}}
"""

_PASS_A = f"""#version 330 core
{_COMMON}
layout(location = 0) out vec4 color;
void main() {{
    ivec2 texel = ivec2(gl_FragCoord.xy);
    ivec2 cell = cell_at(texel);
    ivec2 cells = CELL_GRID;
    vec3 before[N_TAPS], after[N_TAPS];
    vec3 v = vec3(0.0);
    for (int n = 0; n < N_TAPS; n++) {{
        vec2 p = tap(cell, cells, n);
        after[n] = texture(picture, p).rgb;
        before[n] = texture(previous, p).rgb;
        v += linear(after[n]);
    }}
    v /= float(N_TAPS);
    vec4 s = texelFetch(state, texel, 0);
    float would_l = first ? 0.0 : detect(dot(v, LUMA), s.x, s.y, {LUMA_STEP}, {LUMA_DARK}).z;
    float would_r = first ? 0.0 : detect(redness(v), s.z, s.w, {RED_STEP}, 1e9).z;
    // per detector that used its budget (a uniform branch), the largest k whose blend makes no
    // transition (bisection; k = 0 is what is shown now)
    float lo_l = lock_luma ? 0.0 : 1.0, hi_l = 1.0, lo_r = lock_red ? 0.0 : 1.0, hi_r = 1.0;
    for (int n = 0; n < (lock_luma ? 10 : 0); n++) {{
        float m = 0.5 * (lo_l + hi_l);
        float l = dot(blended_colour(before, after, m), LUMA);
        if (detect(l, s.x, s.y, {LUMA_STEP * MARGIN}, {SAFE_DARK}).z > 0.5) hi_l = m;
        else lo_l = m;
    }}
    for (int n = 0; n < (lock_red ? 10 : 0); n++) {{
        float m = 0.5 * (lo_r + hi_r);
        float r = redness(blended_colour(before, after, m));
        if (detect(r, s.z, s.w, {RED_STEP * MARGIN}, 1e9).z > 0.5) hi_r = m;
        else lo_r = m;
    }}
    color = vec4(would_l, would_r, lo_l, lo_r);
}}
"""

# Pass B's vertex shader makes the frame's one decision (a detector that used its budget, and would-be
# transitions over the area limit) from the top mip level, once per corner: when nothing would flash, the
# quad collapses and the pass shades no pixel at all (the picture was copied into the target before it).
_PASS_B_VS = """#version 330 core
in vec2 in_pos;
out vec2 uv;
flat out vec2 damps;  // x: the luminance detector damps this frame; y: the red one
uniform sampler2D flags;
uniform int top_level;
uniform bool lock_luma;
uniform bool lock_red;
uniform float area;
void main() {
    vec4 total = textureLod(flags, vec2(0.5), float(top_level));
    damps = vec2(lock_luma && total.x > area, lock_red && total.y > area);
    uv = in_pos * 0.5 + 0.5;
    gl_Position = (damps.x + damps.y > 0.0) ? vec4(in_pos, 0.0, 1.0) : vec4(2.0, 2.0, 0.0, 1.0);
}
"""
# Pass K: each cell's blend once, 8-bit and rounded down (toward what was shown, so never past the
# bisection's k; 1 stays exactly 1), for pass B (an 8-bit fetch a pixel costs llvmpipe a fifth of a float
# one) and for pass C, which so counts exactly the blend B showed.
_PASS_K = f"""#version 330 core
{_COMMON}
out vec4 color;
void main() {{  // drawn cell for cell (64 x 64: pass B reads it at the picture's position)
    ivec2 cell = ivec2(gl_FragCoord.xy);
    color = vec4(floor(applied_k(texelFetch(flags, texel_of(cell), 0)) * 255.0) / 255.0);
}}
"""
# Pass B's fragments: the previous output with alpha 1 - k, blended over the copy of the picture in the
# target (previous (1 - k) + picture k); a pixel of a cell it does not damp is discarded, so the copy
# stays there bit for bit. Two fetches and no arithmetic a pixel: the fixed-function blend reads the
# picture from the target, cheaper than a texture fetch on llvmpipe.
_PASS_B = """#version 330 core
uniform sampler2D previous;  // point-sampled: a pixel is its texel
uniform sampler2D blends;    // pass K's output, per cell (point-sampled)
in vec2 uv;
flat in vec2 damps;
out vec4 color;
void main() {
    float k = texture(blends, uv).x;
    if (k >= 1.0) discard;
    color = vec4(texture(previous, uv).rgb, 1.0 - k);
}
"""

_PASS_C = f"""
{_COMMON}
layout(location = 0) out vec4 next_state;
layout(location = 1) out vec4 made;
void main() {{
    ivec2 texel = ivec2(gl_FragCoord.xy);
    ivec2 cell = cell_at(texel);
    ivec2 cells = CELL_GRID;
#if MEASURE  // nothing was damped: measure the picture here (pass A did not run)
    vec3 c = cell_colour(cell, cells);
#else  // what pass B showed: each tap the blend of the previous output's and the picture's by the cell's k
    float k = first ? 1.0 : texelFetch(blends, cell, 0).x;  // as pass B blended it
    vec3 c = vec3(0.0);
    for (int n = 0; n < N_TAPS; n++) {{
        vec2 p = tap(cell, cells, n);
        c += linear(mix(texture(previous, p).rgb, texture(picture, p).rgb, k));
    }}
    c /= float(N_TAPS);
#endif
    advance(c, texel, next_state, made);
}}
"""
STATE_UNIT = 3  # where a measuring pass of another program finds the cells' state (see measure_with)
# the texture units of the limiter's passes
_UNITS = ("picture", "state", "flags", "previous", "blends")
MEASURE_SIZE = (2 * CELLS[0], 2 * CELLS[1])  # the small copy a warped output is measured on: 2 x 2 per cell


@dataclass
class FlashStats:
    """What the limiter did, for the bench, the log and the preview."""

    frames: int = 0
    damped: int = 0  # frames in which it damped something
    luma_transitions: int = 0
    red_transitions: int = 0


class FlashLimiter:
    """Damps what would exceed the flash limit in a stream of output pictures (one per frame).

    A frame goes: `begin(time)` (is a detector's budget used?); when it is not, `measure(picture)` (or
    `measure_with` another program's pass drawing into the cells), the picture goes out as it is, and
    `keep(fbo)` where it went; when it is, `measure(small)` with the picture or a small copy of it, and
    `damp(picture, fbo)` writes the damped picture into `fbo`; `finish` does the last step for a picture
    in a texture (headless outputs, renders)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], mode: str = "standard"):
        self.ctx = ctx
        self.size = tuple(size)
        self.mode = mode
        self.area = AREA[mode]
        self.stats = FlashStats()
        self.damping = False  # this frame: a detector has used its budget
        self._luma: deque[float] = deque()  # show times of the transitions in the last second
        self._red: deque[float] = deque()
        self._pending: float | None = None  # the time of the frame whose transitions are not read yet
        self._top = int(np.log2(max(LAYOUT)))
        self._vbo = quad_buffer(ctx)

        def program(fs, measure=False, vs=FULLSCREEN_VS):
            fs = f"#version 330 core\n#define MEASURE {int(measure)}\n{fs}"
            prog = ctx.program(vertex_shader=vs, fragment_shader=fs)
            return prog, ctx.vertex_array(prog, [(self._vbo, "2f", "in_pos")])

        self._a, self._a_vao = program(_PASS_A.removeprefix("#version 330 core\n"))
        self._b, self._b_vao = program(_PASS_B.removeprefix("#version 330 core\n"), vs=_PASS_B_VS)
        self._c, self._c_vao = program(_PASS_C)
        self._m, self._m_vao = program(_PASS_C, measure=True)
        self._k, self._k_vao = program(_PASS_K.removeprefix("#version 330 core\n"))
        self._programs = (self._a, self._k, self._b, self._c, self._m)
        for prog in self._programs:  # where each program finds its textures: the same every frame
            for unit, name in enumerate(_UNITS):
                if name in prog:
                    prog[name].value = unit
        self._mean = np.full(CELLS[0] * CELLS[1], 1.0 / (CELLS[0] * CELLS[1]), np.float32)

        def cells():
            tex = ctx.texture(LAYOUT, 4, dtype="f4")
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            return tex

        self._state = [cells(), cells()]
        self._flags, self._made = cells(), cells()
        self._flags.build_mipmaps()
        self._flags.filter = (moderngl.LINEAR_MIPMAP_NEAREST, moderngl.NEAREST)
        self._flags_fbo = ctx.framebuffer(color_attachments=[self._flags])
        self._blends = ctx.texture(CELLS, 4)  # RGBA8, cell for cell (not LAYOUT: pass B samples it)
        self._blends.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._blends_fbo = ctx.framebuffer(color_attachments=[self._blends])
        self._c_fbo = [ctx.framebuffer(color_attachments=[self._state[i], self._made]) for i in (0, 1)]
        self._out = ctx.texture(self.size, 4)  # the damped picture, for finish()
        self._prev = ctx.texture(self.size, 4)  # what was shown last frame (a copy: plain memory)
        for tex in (self._out, self._prev):  # filtered taps clamp at the edge (GL's default repeats)
            tex.repeat_x = tex.repeat_y = False
        # pass B reads the previous output texel for pixel: point sampling (half a filtered fetch on
        # llvmpipe); passes A and C take filtered taps of it, as of the picture
        self._exact = ctx.sampler(filter=(moderngl.NEAREST, moderngl.NEAREST), repeat_x=False, repeat_y=False)
        self._out_fbo = ctx.framebuffer(color_attachments=[self._out])
        self._prev_fbo = ctx.framebuffer(color_attachments=[self._prev])
        self._picture_fbos: dict[int, moderngl.Framebuffer] = {}  # to copy a picture from
        self._i = 0
        self._first = True
        self._kept = False  # _prev holds the last frame's output
        self._locks = (False, False)

    def set_mode(self, mode: str) -> None:
        """standard or strict, live: only the area limit changes; what was counted stays counted."""
        self.mode, self.area = mode, AREA[mode]

    def locked(self, now: float) -> tuple[bool, bool]:
        """Whether the luminance and the red detector have used their budget for the second up to now."""
        for times in (self._luma, self._red):
            if times and times[-1] > now:  # show time went back (a new take): the past second is unknown
                times.clear()
            while times and times[0] <= now - WINDOW:
                times.popleft()
        return len(self._luma) >= MAX_TRANSITIONS, len(self._red) >= MAX_TRANSITIONS

    @property
    def keeps_previous(self) -> bool:
        """Whether this frame's output must be kept: the next frame may be damped toward it. A detector
        can only lock at the next frame when this one's transition (not counted yet) uses its budget."""
        return max(len(self._luma), len(self._red)) >= MAX_TRANSITIONS - 1

    def _collect(self) -> None:
        """Count the last frame's transitions (its passes are done by now: the loop presented it)."""
        if self._pending is None:
            return
        made = np.frombuffer(self._made.read(), np.float32).reshape(-1, 4)
        # a 64 KB read: cheaper than a mip chain, and exact; the mean as one product (numpy's mean down
        # a 4096 x 4 array's columns took 0.15 ms, this 4 us)
        fractions = self._mean @ made
        for fraction, times, kind in ((fractions[0], self._luma, "luma"), (fractions[1], self._red, "red")):
            if fraction > self.area:
                times.append(self._pending)
                setattr(self.stats, f"{kind}_transitions", getattr(self.stats, f"{kind}_transitions") + 1)
        self._pending = None

    def begin(self, time: float) -> bool:
        """Start the frame at show time `time`; True when it may be damped (a detector used its budget)."""
        self._collect()
        self._locks = self.locked(time)
        self._pending = time
        self.damping = any(self._locks) and self._kept and not self._first
        self.stats.frames += 1
        if self.damping:
            self.stats.damped += 1
        return self.damping

    def measure(self, small: moderngl.Texture) -> None:
        """The cells' colours from `small` (the picture, or a small copy of it): when the frame is not
        damped, the cells' next state too, in one small pass."""
        lock_luma, lock_red = self._locks if self.damping else (False, False)
        for prog in (self._a, self._k, self._b, self._c) if self.damping else (self._m,):  # this frame's
            for name, value in (
                ("lock_luma", lock_luma),
                ("lock_red", lock_red),
                ("area", self.area),
                ("first", self._first),
                ("top_level", self._top),
            ):
                if name in prog:
                    prog[name].value = value
        self._bind(small)
        if self.damping:
            self._flags_fbo.use()
            self._a_vao.render(moderngl.TRIANGLE_STRIP)
            self._flags.build_mipmaps()
            return
        self._advance(self._m_vao)

    def measure_with(self, prog: moderngl.Program, draw) -> None:
        """Measure and advance the cells in someone else's pass (an output's geometry drawn into the cells,
        each fragment a cell's mean: STATE_GLSL's advance()), in a frame that is not damped. `draw` is
        called once per half of the cells (HALVES), its viewport set and `prog`'s `cell_view` uniform the
        half's clip-space y scale and offset, which its vertex shader applies."""
        if "first" in prog:
            prog["first"].value = self._first
        if "state" in prog:
            prog["state"].value = STATE_UNIT
        self._state[self._i].use(STATE_UNIT)
        fbo = self._c_fbo[1 - self._i]
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0)  # cells the geometry does not reach are black, and stay so
        for viewport, view in HALVES:  # each half of the picture into its half of the texels
            fbo.viewport = viewport
            prog["cell_view"].value = view
            draw(fbo)
        fbo.viewport = (0, 0, *LAYOUT)
        self._i = 1 - self._i
        self._first = False

    def _advance(self, vao) -> None:
        self._c_fbo[1 - self._i].use()
        vao.render(moderngl.TRIANGLE_STRIP)
        self._i = 1 - self._i
        self._first = False

    def damp(self, picture: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        """Write this frame's damped `picture` into `target` (after measure(), when begin() said so).

        The picture goes into `target` as a memory copy (a blit: a tenth of a drawn copy on llvmpipe, when
        `target` is an RGBA texture: into a window's BGRA framebuffer a blit is a drawn pass);
        then pass B shades only the pixels of the cells it damps, and none at all in the frames (most of
        them, while a strobe has used its budget) in which nothing would flash. Every other pixel is the
        copy, bit for bit."""
        self._bind(picture)
        self._blends_fbo.use()
        self._k_vao.render(moderngl.TRIANGLE_STRIP)
        self.ctx.copy_framebuffer(target, self._fbo_of(picture))
        previous = _UNITS.index("previous")
        self._exact.use(previous)
        target.use()
        self.ctx.enable(moderngl.BLEND)  # previous (1 - k) + picture k; the picture's alpha kept
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ZERO, moderngl.ONE
        self._b_vao.render(moderngl.TRIANGLE_STRIP)
        self.ctx.disable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.DEFAULT_BLENDING
        self._exact.clear(previous)
        self._advance(self._c_vao)  # the cells' state after what B showed (reads `_prev` before keep())
        self.keep(target)

    def keep(self, shown: moderngl.Framebuffer) -> None:
        """`shown` holds this frame's output: keep a copy when the next frame may be damped toward it."""
        self._kept = self.keeps_previous or self.damping
        if self._kept:
            self.ctx.copy_framebuffer(self._prev_fbo, shown)

    def finish(self, picture: moderngl.Texture, damping: bool) -> moderngl.Texture:
        """The measured frame's output: `picture` damped (when begin() said so) or as it is."""
        if damping:
            self.damp(picture, self._out_fbo)
            return self._out
        self.keep(self._fbo_of(picture))
        return picture

    def _fbo_of(self, texture: moderngl.Texture) -> moderngl.Framebuffer:
        fbo = self._picture_fbos.get(texture.glo)
        if fbo is None:
            fbo = self._picture_fbos[texture.glo] = self.ctx.framebuffer(color_attachments=[texture])
        return fbo

    def _bind(self, picture) -> None:
        i = self._i
        textures = (picture, self._state[i], self._flags, self._prev, self._blends)
        for unit, tex in enumerate(textures):
            tex.use(unit)  # in _UNITS' order

    def release(self) -> None:
        things = [
            self._exact,
            *self._picture_fbos.values(),
            self._out_fbo,
            self._prev_fbo,
            *self._c_fbo,
            self._flags_fbo,
            self._blends_fbo,
            self._blends,
            self._out,
            self._prev,
            *self._state,
            self._flags,
            self._made,
            self._a_vao,
            self._k_vao,
            self._b_vao,
            self._c_vao,
            self._m_vao,
            *self._programs,
            self._vbo,
        ]
        for thing in things:
            thing.release()


# --- counting flashes in rendered frames (benches and tests) ----------------------------------------


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of 8-bit sRGB pixels."""
    c = rgb[..., :3].astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)


def red_measure(rgb: np.ndarray) -> np.ndarray:
    c = rgb[..., :3].astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    total = lin.sum(-1)
    saturated = (total > 0) & (lin[..., 0] >= SATURATED_RED * np.maximum(total, 1e-9))
    return np.where(saturated, np.maximum(0.0, lin[..., 0] - lin[..., 1] - lin[..., 2]) * 320.0, 0.0)


@dataclass(frozen=True)
class FlashCount:
    luma_flashes_max: float  # the most flashes in any one-second window
    red_flashes_max: float
    luma_transitions: int
    red_transitions: int


class FlashCounter:
    """Counts flashes in a sequence of rendered frames, as a viewer would see them: the frame's mean over
    the part that changed, when that part is more than the area limit. Independent of the GPU limiter
    (whole-frame numpy), so a test of one against the other can fail."""

    def __init__(self, fps: float, area: float = AREA["standard"]):
        self.fps = fps
        self.area = area
        self._state: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._times: dict[str, list[int]] = {"luma": [], "red": []}
        self._n = 0

    def add(self, rgba: np.ndarray) -> None:
        small = rgba[::4, ::4]  # every 4th pixel each way: areas, not pixels
        for kind, value, step, dark in (
            ("luma", relative_luminance(small), LUMA_STEP, LUMA_DARK),
            ("red", red_measure(small), RED_STEP, np.inf),
        ):
            if kind not in self._state:
                self._state[kind] = (value.copy(), np.zeros_like(value))
                continue
            ref, direction = self._state[kind]
            d = value - ref
            follow = ((direction > 0.5) & (d >= 0)) | ((direction < -0.5) & (d <= 0))
            made = ~follow & (np.abs(d) >= step) & (np.minimum(value, ref) < dark)
            ref = np.where(follow | made, value, ref)
            direction = np.where(made, np.sign(d), direction)
            self._state[kind] = (ref, direction)
            if made.mean() > self.area:
                self._times[kind].append(self._n)
        self._n += 1

    def result(self) -> FlashCount:
        window = round(self.fps * WINDOW)

        def most(frames: list[int]) -> float:
            best = 0
            for k, start in enumerate(frames):
                best = max(best, sum(1 for f in frames[k:] if f < start + window))
            return best / 2.0

        return FlashCount(
            most(self._times["luma"]),
            most(self._times["red"]),
            len(self._times["luma"]),
            len(self._times["red"]),
        )
