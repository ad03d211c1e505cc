"""Warp geometry for an output: the keystone homography, the mesh tessellation and the fit mapping.

The keystone is a homography H (picture 0..1 → output 0..1, y down) applied in the vertex shader as a
projective position, so the GPU's perspective-correct interpolation makes the warp exact everywhere, not
only at the corners. A mesh warp adds a grid of displaced points in the picture; it is tessellated here,
on the CPU, once per change (never per frame).
"""

from __future__ import annotations

import numpy as np

from engine.output.stage import UNIT_CORNERS, Mesh, OutputSpec

SUBDIVIDE = 4  # tessellation steps per mesh cell (a triangle costs; 4 follows a smooth mesh closely)


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

    def at(r, c):
        return grid[np.clip(r, 0, mesh.rows - 1), np.clip(c, 0, mesh.columns - 1)]

    rows = [
        _catmull_rom(at(iy + k, ix - 1), at(iy + k, ix), at(iy + k, ix + 1), at(iy + k, ix + 2), tx)
        for k in (-1, 0, 1, 2)
    ]
    return _catmull_rom(*rows, ty)


def tessellate(spec: OutputSpec) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, indices) for the picture's geometry: per vertex x, y (picture position after the mesh
    warp) and u, v (where it samples the picture). Without a mesh, one quad."""
    mesh = spec.mesh
    if mesh is None:
        n_u = n_v = 2
    else:
        n_u, n_v = (mesh.columns - 1) * SUBDIVIDE + 1, (mesh.rows - 1) * SUBDIVIDE + 1
    u, v = np.meshgrid(np.linspace(0, 1, n_u), np.linspace(0, 1, n_v))
    pos = np.stack([u, v], -1) if mesh is None else _sample_mesh(mesh, u, v)
    verts = np.concatenate([pos, np.stack([u, v], -1)], -1).reshape(-1, 4).astype("f4")
    quads = []
    for r in range(n_v - 1):
        for c in range(n_u - 1):
            i = r * n_u + c
            quads.extend([i, i + 1, i + n_u, i + 1, i + n_u + 1, i + n_u])
    return verts, np.array(quads, dtype="i4")


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
