"""Warp geometry for an output: the keystone homography, the mesh tessellation and the fit mapping.

The keystone is a homography H (picture 0..1 → output 0..1, y down) applied in the vertex shader as a
projective position, so the GPU's perspective-correct interpolation makes the warp exact everywhere, not
only at the corners. A mesh warp adds a grid of displaced points in the picture; it is tessellated here,
on the CPU, once per change (never per frame), each column and row of mesh cells only as finely as its
curve needs (a CPU rasteriser pays for every triangle edge: llvmpipe shades a 64 x 64 tile that one
triangle covers whole several times faster than one that triangle edges cut). The tessellation also cuts
the picture along the edge blends' inner ends, so the blend bands' triangles are drawn apart from the
rest: the middle of the picture never fetches the blend. Masks cut nothing: they are a pass of their own
over their box in the output (see `mask_box`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.output.stage import EDGES, UNIT_CORNERS, Mesh, OutputSpec

MAX_SUBDIVIDE = 8  # tessellation steps per mesh cell at most
TOLERANCE_PX = 1.0  # how far the triangles may stray from the mesh's curve, in pixels of the target


def homography(src, dst) -> np.ndarray:
    """The 3×3 matrix taking the four `src` points to the four `dst` points (direct linear transform)."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    h = np.linalg.solve(np.array(a, float), np.array(b, float))
    return np.append(h, 1.0).reshape(3, 3)


def apply_homography(h: np.ndarray, points) -> np.ndarray:
    p = np.column_stack([np.asarray(points, float), np.ones(len(points))]) @ h.T
    return p[:, :2] / p[:, 2:3]


def keystone_matrix(spec: OutputSpec) -> np.ndarray:
    return homography(UNIT_CORNERS, spec.keystone)


def _catmull_rom(p0, p1, p2, p3, t):
    t2, t3 = t * t, t * t * t
    return 0.5 * (
        2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (3 * p1 - p0 - 3 * p2 + p3) * t3
    )


def _sample_mesh(mesh: Mesh, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mesh positions at picture coordinates (u, v): bilinear, or Catmull-Rom through the points."""
    grid = np.asarray(mesh.points, float).reshape(mesh.rows, mesh.columns, 2)
    fx, fy = u * (mesh.columns - 1), v * (mesh.rows - 1)
    ix = np.clip(np.floor(fx).astype(int), 0, mesh.columns - 2)
    iy = np.clip(np.floor(fy).astype(int), 0, mesh.rows - 2)
    tx, ty = (fx - ix)[..., None], (fy - iy)[..., None]
    if mesh.interpolation == "bilinear":
        top = grid[iy, ix] * (1 - tx) + grid[iy, ix + 1] * tx
        bottom = grid[iy + 1, ix] * (1 - tx) + grid[iy + 1, ix + 1] * tx
        return top * (1 - ty) + bottom * ty

    # beyond the edges, points continue the edge cells in a straight line, so a regular mesh is the
    # identity and an edge cell curves only as much as its points ask (clamping them would bow it)
    grid = np.concatenate([2 * grid[:1] - grid[1:2], grid, 2 * grid[-1:] - grid[-2:-1]], 0)
    grid = np.concatenate([2 * grid[:, :1] - grid[:, 1:2], grid, 2 * grid[:, -1:] - grid[:, -2:-1]], 1)

    def at(r, c):
        return grid[r + 1, c + 1]

    rows = [
        _catmull_rom(at(iy + k, ix - 1), at(iy + k, ix), at(iy + k, ix + 1), at(iy + k, ix + 2), tx)
        for k in (-1, 0, 1, 2)
    ]
    return _catmull_rom(*rows, ty)


@dataclass(frozen=True)
class Geometry:
    """Vertices (x, y: the picture position after the mesh warp; u, v: where it samples the picture) and
    triangle indices in four runs of `counts` indices: outside the blend bands, in a left or right band
    only, in a top or bottom band only, in both (the corners)."""

    vertices: np.ndarray
    indices: np.ndarray
    counts: tuple[int, int, int, int]

    def runs(self):
        """(band_x, band_y, first index, count) of each run that has triangles."""
        first = 0
        for n, (bx, by) in zip(self.counts, ((0, 0), (1, 0), (0, 1), (1, 1)), strict=True):
            if n:
                yield bool(bx), bool(by), first, n
            first += n


def _steps(mesh: Mesh, size: tuple[int, int], axis: int) -> list[int]:
    """For each column (axis 0) or row (axis 1) of mesh cells, the fewest steps (1, 2, 4, 8) whose straight
    pieces stay within TOLERANCE_PX of the mesh's curve across the whole picture."""
    cells = (mesh.columns if axis == 0 else mesh.rows) - 1
    fine = MAX_SUBDIVIDE * 2
    across = np.linspace(0.0, 1.0, ((mesh.rows if axis == 0 else mesh.columns) - 1) * fine + 1)
    scale = np.asarray(size, float)
    steps = []
    for c in range(cells):
        along = np.linspace(c / cells, (c + 1) / cells, fine + 1)
        a, b = np.meshgrid(along, across, indexing="ij")
        curve = _sample_mesh(mesh, a, b) if axis == 0 else _sample_mesh(mesh, b, a)  # along x across
        for n in (1, 2, 4, MAX_SUBDIVIDE):
            knots = curve[:: fine // n]
            t = np.linspace(0, n, fine + 1)
            k = np.minimum(t.astype(int), n - 1)
            f = (t - k)[:, None, None]
            straight = knots[k] * (1 - f) + knots[k + 1] * f
            if np.abs((curve - straight) * scale).max() <= TOLERANCE_PX or n == MAX_SUBDIVIDE:
                steps.append(n)
                break
    return steps


def _lines(spec: OutputSpec, axis: int, inside: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """Where the tessellation cuts the picture along u (axis 0) or v (axis 1); `inside`: the part that
    shows the canvas (a fit's bars are outside)."""
    lines = [0.0, 1.0, *inside]
    mesh = spec.mesh
    if mesh is not None:
        cells = (mesh.columns if axis == 0 else mesh.rows) - 1
        for c, n in enumerate(_steps(mesh, size, axis)):
            lines += list(np.linspace(c / cells, (c + 1) / cells, n + 1))
    near, far = ("left", "right") if axis == 0 else ("top", "bottom")
    if spec.edge(near).width > 0:
        lines.append(spec.edge(near).width)
    if spec.edge(far).width > 0:
        lines.append(1.0 - spec.edge(far).width)
    return np.unique(np.round(np.array(lines), 9))


def tessellate(spec: OutputSpec, canvas: tuple[int, int], size: tuple[int, int] | None = None) -> Geometry:
    """The picture's geometry: a grid cut where the mesh curves and where the blend bands start, its
    cells sorted by the bands they are in (see Geometry). A fit's bars get no triangles: they stay
    the cleared black. `size`: the pixels it is drawn at (the output's; the limiter's small copy needs far
    fewer triangles)."""
    size = size or spec.size
    sx, sy, ox, oy = fit_mapping(spec, canvas)
    inside = [(max(0.0, -o / s), min(1.0, (1 - o) / s)) for s, o in ((sx, ox), (sy, oy))]
    us, vs = _lines(spec, 0, inside[0], size), _lines(spec, 1, inside[1], size)
    u, v = np.meshgrid(us, vs)
    pos = np.stack([u, v], -1) if spec.mesh is None else _sample_mesh(spec.mesh, u, v)
    verts = np.concatenate([pos, np.stack([u, v], -1)], -1).reshape(-1, 4).astype("f4")
    widths = [spec.edge(e).width for e in EDGES]  # left, top, right, bottom
    n_u = len(us)
    runs: list[list[int]] = [[], [], [], []]  # no band, x band, y band, both
    for r in range(len(vs) - 1):
        for c in range(n_u - 1):
            i = r * n_u + c
            uc, vc = (us[c] + us[c + 1]) / 2, (vs[r] + vs[r + 1]) / 2
            if not (inside[0][0] <= uc <= inside[0][1] and inside[1][0] <= vc <= inside[1][1]):
                continue
            in_x = uc < widths[0] or uc > 1 - widths[2]
            in_y = vc < widths[1] or vc > 1 - widths[3]
            runs[in_x + 2 * in_y].extend([i, i + 1, i + n_u, i + 1, i + n_u + 1, i + n_u])
    indices = np.array([i for run in runs for i in run], dtype="i4")
    return Geometry(verts, indices, tuple(len(run) for run in runs))


def mask_box(masks, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Where the masks reach in the output (0..1, y down: x0, y0, x1, y1), two pixels wider for their
    soft edges and within the output; an inverted mask darkens everything outside it: the whole output."""
    if any(m.invert for m in masks):
        return (0.0, 0.0, 1.0, 1.0)
    pts = np.concatenate([np.asarray(m.points, float) for m in masks])
    pad = 2.0 / np.asarray(size, float)
    lo, hi = np.clip(pts.min(0) - pad, 0.0, 1.0), np.clip(pts.max(0) + pad, 0.0, 1.0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def fit_mapping(spec: OutputSpec, canvas: tuple[int, int]) -> tuple[float, float, float, float]:
    """(scale x, scale y, offset x, offset y) taking picture coordinates to coordinates of the canvas
    region (0..1; outside is black): `fit` shows the whole region letterboxed, `fill` crops it to cover the
    picture, `stretch` distorts it to the picture's shape."""
    rw, rh = spec.region[2] * canvas[0], spec.region[3] * canvas[1]
    content, picture = rw / rh, spec.size[0] / spec.size[1]
    if spec.fit == "stretch" or abs(content - picture) < 1e-9:
        return 1.0, 1.0, 0.0, 0.0
    wider = content > picture
    if spec.fit == "fit":  # the region's long side fills the picture; bars on the other
        f = picture / content if wider else content / picture
        s = 1.0 / f
        return (1.0, s, 0.0, (1 - s) / 2) if wider else (s, 1.0, (1 - s) / 2, 0.0)
    f = picture / content if wider else content / picture  # fill: crop the long side
    return (f, 1.0, (1 - f) / 2, 0.0) if wider else (1.0, f, 0.0, (1 - f) / 2)
