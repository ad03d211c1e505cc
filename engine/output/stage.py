"""The stage file: the venue's outputs (projectors), kept apart from presets because it belongs to the room.

Each `[[output]]` says where a picture goes and how it is fitted to the surface: its monitor, its pixel
size (the render size stays `--size`), which region of the canvas it shows and how (fit / fill / stretch),
a four-corner keystone, an optional grid mesh warp, a soft edge blend per edge, polygon masks, brightness
and gamma, and a test pattern for setting up. `[safety] flash_limit` sets the flash-safety limiter.

Coordinates are 0..1 with y down everywhere: the canvas region in the canvas, mesh points in the picture
(before keystone), keystone corners and mask points in the output. Validation names the file and line of
the first bad key or value, with what to do, so a typo made at the venue is one clear line.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from engine.errors import HalationError
from engine.show.tomlpos import close_to, locate, read_toml, unknown_key_error

FITS = ("fit", "fill", "stretch")
FLASH_LIMITS = ("standard", "strict", "off")
PATTERNS = ("off", "grid", "circles", "ramp", "bars")
INTERPOLATIONS = ("bilinear", "smooth")
EDGES = ("left", "top", "right", "bottom")
Point = tuple[float, float]
UNIT_CORNERS: tuple[Point, ...] = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))  # TL, TR, BR, BL


class StageError(HalationError):
    """A stage file that failed to parse or validate; `line` is a line of the stage file."""


@dataclass(frozen=True)
class EdgeBlend:
    """One edge's soft blend (the Cinder-Warping / Smode parametrisation): over `width` (0..1 of the
    picture) the picture fades out along a curve of exponent `curve`; `centre` is the level at the middle
    of the ramp (0.5: the two projectors' ramps add up to one), and `gamma` compensates the projector's
    light response (the fade is raised to 1/gamma)."""

    width: float = 0.0
    curve: float = 2.0
    gamma: float = 2.2
    centre: float = 0.5

    def factor(self, a):
        """The level at `a` (0 at the edge, 1 at the ramp's inner end; a number or a numpy array) — what
        the blend table holds and the attenuation bake's shader computes."""
        a = np.clip(a, 0.0, 1.0)
        f = np.where(
            a < 0.5,
            self.centre * (2.0 * a) ** self.curve,
            1.0 - (1.0 - self.centre) * (2.0 * (1.0 - a)) ** self.curve,
        )
        return f ** (1.0 / self.gamma)


@dataclass(frozen=True)
class Mesh:
    """A grid of `columns` × `rows` points in the picture (row by row, top row first), bilinear or smooth
    (Catmull-Rom) between them; the keystone is applied on top."""

    columns: int
    rows: int
    points: tuple[Point, ...]
    interpolation: str = "bilinear"

    @classmethod
    def regular(cls, columns: int, rows: int, interpolation: str = "bilinear") -> Mesh:
        points = tuple((c / (columns - 1), r / (rows - 1)) for r in range(rows) for c in range(columns))
        return cls(columns, rows, points, interpolation)


@dataclass(frozen=True)
class Mask:
    """A polygon of the output (0..1, y down) that is blacked out; `invert`: only its inside shows."""

    points: tuple[Point, ...]
    invert: bool = False


@dataclass(frozen=True)
class OutputSpec:
    """One output of the stage: a projector (or the laptop's window when `monitor` is None)."""

    name: str
    size: tuple[int, int]
    monitor: int | str | None = None
    fit: str = "fill"
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # x, y, w, h of the canvas
    keystone: tuple[Point, ...] = UNIT_CORNERS
    mesh: Mesh | None = None
    blend: dict[str, EdgeBlend] = field(default_factory=dict)
    masks: tuple[Mask, ...] = ()
    brightness: float = 1.0
    gamma: float = 1.0
    pattern: str = "off"

    def edge(self, name: str) -> EdgeBlend:
        return self.blend.get(name, EdgeBlend())


@dataclass(frozen=True)
class Stage:
    outputs: tuple[OutputSpec, ...]
    flash_limit: str = "standard"
    path: Path | None = None

    def output(self, name: str) -> OutputSpec:
        for out in self.outputs:
            if out.name == name:
                return out
        names = [o.name for o in self.outputs]
        raise StageError(
            f"--output {name}: the stage has no such output{close_to(name, names)}"
            f" (outputs: {', '.join(names)})",
            path=self.path,
        )

    def replace_output(self, spec: OutputSpec) -> Stage:
        return replace(self, outputs=tuple(spec if o.name == spec.name else o for o in self.outputs))


def default_stage(size: tuple[int, int], monitor: int | None = None) -> Stage:
    """No stage file: one output at the render size, no warp, on `monitor` (--monitor) or the laptop."""
    return Stage((OutputSpec("main", tuple(size), monitor=monitor),))


# --- reading ---------------------------------------------------------------------------------------

_OUTPUT_KEYS = (
    "name",
    "monitor",
    "size",
    "fit",
    "region",
    "keystone",
    "mesh",
    "blend",
    "mask",
    "brightness",
    "gamma",
    "pattern",
)
_EDGE_KEYS = ("width", "curve", "gamma", "centre")


class _Reader:
    """Validates one parsed stage file, raising StageError at the offending line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def fail(self, keys: tuple, message: str) -> StageError:
        return StageError(message, path=self.path, line=locate(self.text, keys))

    def known(self, table: Any, allowed, keys: tuple, where: str) -> dict:
        if not isinstance(table, dict):
            raise self.fail(keys, f"{where} must be a table")
        error = unknown_key_error(self.path, self.text, table, allowed, keys, where)
        if error is not None:
            raise StageError(error.message, path=error.path, line=error.line)
        return table

    def number(self, table: dict, keys: tuple, default: float, lo: float, hi: float) -> float:
        value = table.get(keys[-1], default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(keys, f"'{keys[-1]}' must be a number, not {value!r}")
        if not lo <= value <= hi:
            raise self.fail(keys, f"'{keys[-1]}' = {value:g}: use {lo:g}..{hi:g}")
        return float(value)

    def choice(self, table: dict, keys: tuple, options, default: str) -> str:
        value = table.get(keys[-1], default)
        if value not in options:
            raise self.fail(
                keys,
                f"'{keys[-1]}' must be one of: {', '.join(options)}"
                f" (not {value!r}){close_to(value, options)}",
            )
        return value

    def points(self, value: Any, keys: tuple, count: int | None, lo: float = -1.0, hi: float = 2.0) -> tuple:
        """A list of [x, y] pairs (exactly `count` of them when given)."""
        what = f"{count} [x, y] points" if count else "a list of [x, y] points"
        ok = isinstance(value, list) and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
            for p in value
        )
        if not ok or (count is not None and len(value) != count):
            raise self.fail(keys, f"'{keys[-1]}' must be {what}, e.g. [[0.0, 0.0], [1.0, 0.0], ...]")
        if any(not lo <= v <= hi for p in value for v in p):
            raise self.fail(keys, f"'{keys[-1]}': points are 0..1 of the output ({lo:g}..{hi:g} allowed)")
        return tuple((float(x), float(y)) for x, y in value)

    def size(self, table: dict, keys: tuple) -> tuple[int, int]:
        value = table.get("size")
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        if not ok:
            raise self.fail((*keys, "size"), "'size' must be [width, height] in pixels, e.g. [1920, 1080]")
        w, h = value
        if not (2 <= w <= 8192 and 2 <= h <= 8192 and w % 2 == 0 and h % 2 == 0):
            raise self.fail((*keys, "size"), f"'size' = [{w}, {h}]: width and height must be even, 2..8192")
        return w, h

    def region(self, table: dict, keys: tuple) -> tuple[float, float, float, float]:
        value = table.get("region", [0.0, 0.0, 1.0, 1.0])
        ok = (
            isinstance(value, list)
            and len(value) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        x, y, w, h = value if ok else (0, 0, 0, 0)
        if not ok or w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > 1.0 + 1e-9 or y + h > 1.0 + 1e-9:
            raise self.fail(
                (*keys, "region"),
                "'region' must be [x, y, width, height] inside the canvas, 0..1, e.g. [0.5, 0.0, 0.5, 1.0]",
            )
        return float(x), float(y), float(w), float(h)

    def keystone(self, table: dict, keys: tuple) -> tuple[Point, ...]:
        if "keystone" not in table:
            return UNIT_CORNERS
        corners = self.points(table["keystone"], (*keys, "keystone"), 4)
        if not convex(corners):
            raise self.fail(
                (*keys, "keystone"),
                "'keystone' corners must form a convex quad in the order TL, TR, BR, BL (y down)",
            )
        return corners

    def mesh(self, value: Any, keys: tuple) -> Mesh:
        table = self.known(value, ("size", "points", "interpolation"), keys, "[output.mesh]")
        size = table.get("size")
        if not (
            isinstance(size, list)
            and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 33 for v in size)
        ):
            raise self.fail((*keys, "size"), "mesh 'size' must be [columns, rows] of points, each 2..33")
        interpolation = self.choice(table, (*keys, "interpolation"), INTERPOLATIONS, "bilinear")
        columns, rows = size
        if "points" not in table:
            return Mesh.regular(columns, rows, interpolation)
        points = self.points(table["points"], (*keys, "points"), columns * rows)
        return Mesh(columns, rows, points, interpolation)

    def blend(self, value: Any, keys: tuple) -> dict[str, EdgeBlend]:
        table = self.known(value, EDGES, keys, "[output.blend]")
        edges = {}
        for edge, spec in table.items():
            ek = (*keys, edge)
            spec = self.known(spec, _EDGE_KEYS, ek, f"blend.{edge}")
            edges[edge] = EdgeBlend(
                width=self.number(spec, (*ek, "width"), 0.0, 0.0, 0.5),
                curve=self.number(spec, (*ek, "curve"), 2.0, 0.1, 10.0),
                gamma=self.number(spec, (*ek, "gamma"), 2.2, 0.1, 5.0),
                centre=self.number(spec, (*ek, "centre"), 0.5, 0.0, 1.0),
            )
        return edges

    def masks(self, value: Any, keys: tuple) -> tuple[Mask, ...]:
        if not isinstance(value, list):
            raise self.fail(keys, "'mask' must be [[output.mask]] tables, each with points = [[x, y], ...]")
        masks = []
        for i, table in enumerate(value):
            mk = (*keys, i)
            table = self.known(table, ("points", "invert"), mk, "[[output.mask]]")
            points = self.points(table.get("points"), (*mk, "points"), None)
            if len(points) < 3:
                raise self.fail((*mk, "points"), "a mask needs at least 3 points")
            invert = table.get("invert", False)
            if not isinstance(invert, bool):
                raise self.fail((*mk, "invert"), "'invert' must be true or false")
            masks.append(Mask(points, invert))
        return tuple(masks)

    def monitor(self, table: dict, keys: tuple) -> int | str | None:
        value = table.get("monitor")
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        if isinstance(value, str) and value.strip():
            return value
        raise self.fail((*keys, "monitor"), "'monitor' is a monitor's index or name (see `halation devices`)")

    def output(self, i: int, table: Any, taken: set[str]) -> OutputSpec:
        keys = ("output", i)
        table = self.known(table, _OUTPUT_KEYS, keys, "[[output]]")
        name = table.get("name")
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            raise self.fail((*keys, "name"), "each [[output]] needs a name of letters, digits, '-' or '_'")
        if name in taken:
            raise self.fail((*keys, "name"), f"two outputs are named '{name}': give each its own name")
        taken.add(name)
        return OutputSpec(
            name=name,
            size=self.size(table, keys),
            monitor=self.monitor(table, keys),
            fit=self.choice(table, (*keys, "fit"), FITS, "fill"),
            region=self.region(table, keys),
            keystone=self.keystone(table, keys),
            mesh=self.mesh(table["mesh"], (*keys, "mesh")) if "mesh" in table else None,
            blend=self.blend(table["blend"], (*keys, "blend")) if "blend" in table else {},
            masks=self.masks(table["mask"], (*keys, "mask")) if "mask" in table else (),
            brightness=self.number(table, (*keys, "brightness"), 1.0, 0.0, 2.0),
            gamma=self.number(table, (*keys, "gamma"), 1.0, 0.2, 5.0),
            pattern=self.choice(table, (*keys, "pattern"), PATTERNS, "off"),
        )


def load_stage(path: str | Path) -> Stage:
    """Read and validate a stage file; the first problem is a StageError naming its line."""
    try:
        path, text, data = read_toml(path, "stage file")
    except HalationError as exc:
        raise StageError(exc.message, path=exc.path, line=exc.line) from None
    reader = _Reader(path, text)
    reader.known(data, ("output", "safety"), (), "the stage file")
    safety = reader.known(data.get("safety", {}), ("flash_limit",), ("safety",), "[safety]")
    flash_limit = reader.choice(safety, ("safety", "flash_limit"), FLASH_LIMITS, "standard")
    tables = data.get("output")
    if not isinstance(tables, list) or not tables:
        raise StageError("no outputs: add an [[output]] table with name and size", path=path, line=None)
    taken: set[str] = set()
    outputs = tuple(reader.output(i, t, taken) for i, t in enumerate(tables))
    return Stage(outputs, flash_limit, path)


def convex(corners) -> bool:
    """True for a convex quad, corners in order (either winding)."""
    signs = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]
        cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
        if abs(cross) < 1e-9:
            return False
        signs.append(cross > 0)
    return all(signs) or not any(signs)


# --- writing ---------------------------------------------------------------------------------------


def stage_data(stage: Stage) -> dict:
    """The stage as TOML data, only what differs from the defaults (a saved file stays readable)."""
    outputs = []
    for o in stage.outputs:
        table: dict[str, Any] = {"name": o.name, "size": list(o.size)}
        if o.monitor is not None:
            table["monitor"] = o.monitor
        table["fit"] = o.fit
        if o.region != (0.0, 0.0, 1.0, 1.0):
            table["region"] = [_r(v) for v in o.region]
        if o.keystone != UNIT_CORNERS:
            table["keystone"] = [[_r(x), _r(y)] for x, y in o.keystone]
        for key, default in (("brightness", 1.0), ("gamma", 1.0), ("pattern", "off")):
            if getattr(o, key) != default:
                table[key] = getattr(o, key)
        if o.mesh is not None:
            table["mesh"] = {
                "size": [o.mesh.columns, o.mesh.rows],
                "interpolation": o.mesh.interpolation,
                "points": [[_r(x), _r(y)] for x, y in o.mesh.points],
            }
        if o.blend:
            table["blend"] = {e: vars(b).copy() for e, b in o.blend.items()}
        if o.masks:
            table["mask"] = [
                {"points": [[_r(x), _r(y)] for x, y in m.points], "invert": m.invert} for m in o.masks
            ]
        outputs.append(table)
    return {"safety": {"flash_limit": stage.flash_limit}, "output": outputs}


def _r(v: float) -> float:
    return round(float(v), 5)


def save_stage(stage: Stage, path: str | Path) -> Path:
    """Write atomically (a temporary file renamed over the old one), keeping the previous file as .bak, so
    a crash or a full disk mid-save never leaves a half-written stage file."""
    path = Path(path)
    text = "# Halation stage file (saved by stage edit)\n" + tomli_w.dumps(stage_data(stage))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    os.replace(tmp, path)
    return path
