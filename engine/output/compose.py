"""One output's picture, drawn on the GPU from the program: fit and region, keystone and mesh warp, soft
edge blend, masks, brightness and gamma (or a test pattern in place of the program), then the flash-safety
limiter. Everything happens in the loop's GL context, in one pass plus the limiter's; the geometry and the
mask are rebuilt only when the stage changes.
"""

from __future__ import annotations

import logging

import moderngl
import numpy as np
from PIL import Image, ImageDraw

from engine.output.flash import FlashLimiter
from engine.output.stage import EDGES, PATTERNS, OutputSpec
from engine.output.warp import fit_mapping, keystone_matrix, tessellate

log = logging.getLogger(__name__)

MASK_SUPERSAMPLE = 2  # masks are drawn at twice the size and scaled down: soft, not jagged, edges

_VS = """#version 330 core
uniform mat3 keystone;     // picture (0..1, y down) -> output (0..1, y down)
in vec2 in_pos;            // the picture position after the mesh warp
in vec2 in_uv;             // where it samples the picture
out vec2 uv;
void main() {
    vec3 p = keystone * vec3(in_pos, 1.0);
    uv = in_uv;
    // a projective position: the GPU interpolates uv perspective-correctly, so the warp is exact
    gl_Position = vec4(2.0 * p.x - p.z, p.z - 2.0 * p.y, 0.0, p.z);
}
"""

_FS = """#version 330 core
uniform sampler2D program;
uniform sampler2D mask;
uniform bool masked;
uniform vec2 out_size;
uniform vec4 region;       // x, y, w, h of the canvas (y down)
uniform vec4 fitmap;       // scale.xy, offset.xy: picture -> region
uniform int pattern;       // 0 program, 1 grid, 2 circles, 3 ramp, 4 bars
uniform vec4 edge_width;   // left, top, right, bottom
uniform vec4 edge_curve;
uniform vec4 edge_gamma;
uniform vec4 edge_centre;
uniform float brightness;
uniform float out_gamma;
in vec2 uv;
out vec4 color;

float ramp(float a, float curve, float gamma, float centre) {
    a = clamp(a, 0.0, 1.0);
    float f = a < 0.5 ? centre * pow(2.0 * a, curve) : 1.0 - (1.0 - centre) * pow(2.0 * (1.0 - a), curve);
    return pow(f, 1.0 / gamma);
}

vec3 test_pattern(vec2 p) {
    vec2 px = p * out_size;
    if (pattern == 1) {  // grid: lines every 1/16, a border and a centre cross
        vec2 cell = abs(fract(p * 16.0 + 0.5) - 0.5) * out_size / 16.0;
        float line = step(min(cell.x, cell.y), 1.0);
        float border = step(min(min(px.x, px.y), min(out_size.x - px.x, out_size.y - px.y)), 2.0);
        float cross = step(min(abs(px.x - out_size.x * 0.5), abs(px.y - out_size.y * 0.5)), 1.5);
        return vec3(max(max(line, border), cross));
    }
    if (pattern == 2) {  // circles: concentric rings round the centre, true circles on the output
        float r = length(px - out_size * 0.5) / (out_size.y * 0.5);
        return vec3(step(abs(fract(r * 4.0 + 0.5) - 0.5), 0.02) + step(r, 0.01));
    }
    if (pattern == 3) {  // blend ramp: white (shows the edge blends), a grey ramp across the middle band
        return (p.y > 0.4 && p.y < 0.6) ? vec3(p.x) : vec3(1.0);
    }
    // colour bars: white, yellow, cyan, green, magenta, red, blue, black
    int i = int(clamp(p.x * 8.0, 0.0, 7.0));
    return vec3(i == 0 || i == 1 || i == 4 || i == 5, i <= 3, i == 0 || i == 2 || i == 4 || i == 6);
}

void main() {
    vec3 c;
    if (pattern == 0) {
        vec2 local = uv * fitmap.xy + fitmap.zw;  // 0..1 of the region
        bool inside = all(greaterThanEqual(local, vec2(0.0))) && all(lessThanEqual(local, vec2(1.0)));
        vec2 canvas = region.xy + local * region.zw;
        c = inside ? texture(program, vec2(canvas.x, 1.0 - canvas.y)).rgb : vec3(0.0);
    } else {
        c = test_pattern(uv);
    }
    vec4 a = vec4(uv.x, uv.y, 1.0 - uv.x, 1.0 - uv.y) / max(edge_width, vec4(1e-6));
    float level = 1.0;
    for (int e = 0; e < 4; e++) {
        if (edge_width[e] > 0.0 && a[e] < 1.0)
            level *= ramp(a[e], edge_curve[e], edge_gamma[e], edge_centre[e]);
    }
    c = brightness * pow(c, vec3(out_gamma)) * level;  // the blend is light: after the gamma
    if (masked) c *= texture(mask, gl_FragCoord.xy / out_size).r;
    color = vec4(c, 1.0);
}
"""


class OutputCompositor:
    """Draws one output's final picture (its size) from the program texture (the render size)."""

    def __init__(self, ctx: moderngl.Context, spec: OutputSpec, canvas: tuple[int, int], flash_limit: str):
        self.ctx = ctx
        self.canvas = tuple(canvas)
        self._prog = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self._vbo = self._ibo = self._vao = None
        self._mask: moderngl.Texture | None = None
        self.spec = spec
        self._picture = ctx.texture(spec.size, 4)
        self._picture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._fbo = ctx.framebuffer(color_attachments=[self._picture])
        self.limiter = FlashLimiter(ctx, spec.size, flash_limit) if flash_limit != "off" else None
        self.update(spec)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def size(self) -> tuple[int, int]:
        return self.spec.size

    def update(self, spec: OutputSpec) -> None:
        """Adopt an edited spec (same size): geometry, mask and uniforms are rebuilt, not the targets."""
        if spec.size != self.spec.size:
            raise ValueError("an output's size is fixed while it runs")
        self.spec = spec
        for thing in (self._vao, self._vbo, self._ibo):
            if thing is not None:
                thing.release()
        verts, indices = tessellate(spec)
        self._vbo = self.ctx.buffer(verts.tobytes())
        self._ibo = self.ctx.buffer(indices.tobytes())
        self._vao = self.ctx.vertex_array(
            self._prog, [(self._vbo, "2f 2f", "in_pos", "in_uv")], index_buffer=self._ibo
        )
        self._set_mask(spec)
        p = self._prog
        p["keystone"].write(keystone_matrix(spec).T.astype("f4").tobytes())  # GLSL matrices are column-major
        p["out_size"].value = spec.size
        p["region"].value = spec.region
        p["fitmap"].value = fit_mapping(spec, self.canvas)
        p["pattern"].value = PATTERNS.index(spec.pattern)
        edges = [spec.edge(e) for e in EDGES]
        p["edge_width"].value = tuple(e.width for e in edges)
        p["edge_curve"].value = tuple(e.curve for e in edges)
        p["edge_gamma"].value = tuple(e.gamma for e in edges)
        p["edge_centre"].value = tuple(e.centre for e in edges)
        p["brightness"].value = spec.brightness
        p["out_gamma"].value = spec.gamma

    def _set_mask(self, spec: OutputSpec) -> None:
        if self._mask is not None:
            self._mask.release()
            self._mask = None
        self._prog["masked"].value = bool(spec.masks)
        if not spec.masks:
            return
        self._mask = self.ctx.texture(spec.size, 1, mask_pixels(spec).tobytes())
        self._mask.filter = (moderngl.LINEAR, moderngl.LINEAR)

    def draw(self, program: moderngl.Texture, time: float) -> moderngl.Texture:
        """The output's final picture for the frame at show time `time`, limiter applied."""
        self._fbo.use()
        self._fbo.clear(0.0, 0.0, 0.0, 1.0)
        program.use(0)
        self._prog["program"].value = 0
        if self._mask is not None:
            self._mask.use(1)
            self._prog["mask"].value = 1
        self._vao.render(moderngl.TRIANGLES)
        if self.limiter is None:
            return self._picture
        return self.limiter.apply(self._picture, time)

    def release(self) -> None:
        for thing in (self._vao, self._vbo, self._ibo, self._mask, self._fbo, self._picture, self._prog):
            if thing is not None:
                thing.release()
        if self.limiter is not None:
            self.limiter.release()


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


def read_pixels(ctx: moderngl.Context, texture: moderngl.Texture) -> np.ndarray:
    """RGBA pixels of a texture, top row first (for PNGs and video)."""
    w, h = texture.size
    data = np.frombuffer(texture.read(alignment=1), np.uint8).reshape(h, w, texture.components)
    return np.ascontiguousarray(data[::-1])
