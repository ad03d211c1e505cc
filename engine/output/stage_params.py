"""A stage's adjustable values as show parameters `stage.<output>.<key>`, so desks reach them over OSC at
/hl/stage/<output>/<key> (and OSCQuery lists them), the preview's stage edit sets them the same way, and a
preset recall keeps them (Show.recall keeps `stage.` names). Parameters are the one source of truth: each
frame an output adopts what they say.

Per output: brightness, gamma, pattern, the keystone corners (keystone/tl ...), every mesh point
(mesh/<column>/<row>, x y in the picture), and each edge's blend (blend/<edge>/width, curve, gamma,
centre). For the whole stage: flash_limit (0 standard, 1 strict, 2 off) and save (write the stage file
as it runs now, atomically, the previous one kept as .bak)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from engine.output.stage import EDGES, FLASH_LIMITS, PATTERNS, OutputSpec, Stage
from engine.params.store import Param, ParamValue

CORNERS = ("tl", "tr", "br", "bl")
FLASH_LIMIT, SAVE = "stage.flash_limit", "stage.save"
BLEND_KEYS = {"width": (0.0, 0.5), "curve": (0.1, 10.0), "gamma": (0.1, 5.0), "centre": (0.0, 1.0)}


def safety_params(flash_limit: str) -> list[Param]:
    """The stage-wide parameters: the flash limit in force (switchable live) and saving the stage file."""
    names = ", ".join(f"{i} {n}" for i, n in enumerate(FLASH_LIMITS))
    return [
        Param(
            FLASH_LIMIT,
            "long",
            float(FLASH_LIMITS.index(flash_limit)),
            0,
            len(FLASH_LIMITS) - 1,
            f"Flash-safety limiter on every output ({names}); a change is logged and shown on the preview",
        ),
        Param(SAVE, "event", description="Save the stage file as it runs now (the previous kept as .bak)"),
    ]


def flash_limit_of(values: Mapping[str, ParamValue], default: str) -> str:
    if FLASH_LIMIT not in values:
        return default
    return FLASH_LIMITS[int(min(max(float(values[FLASH_LIMIT]), 0), len(FLASH_LIMITS) - 1))]


def mesh_name(output: str, column: int, row: int) -> str:
    return f"stage.{output}.mesh.{column}.{row}"


def stage_params(stage: Stage) -> list[Param]:
    params = []
    for o in stage.outputs:
        p = f"stage.{o.name}"
        params += [
            Param(f"{p}.brightness", "float", o.brightness, 0.0, 2.0, f"Output {o.name}: brightness"),
            Param(f"{p}.gamma", "float", o.gamma, 0.2, 5.0, f"Output {o.name}: gamma"),
            Param(
                f"{p}.pattern",
                "long",
                float(PATTERNS.index(o.pattern)),
                0,
                len(PATTERNS) - 1,
                f"Output {o.name}: test pattern ({', '.join(f'{i} {n}' for i, n in enumerate(PATTERNS))})",
            ),
            Param(f"{p}.restore", "event", description=f"Output {o.name}: back to its monitor"),
        ]
        for corner, (x, y) in zip(CORNERS, o.keystone, strict=True):
            params.append(
                Param(
                    f"{p}.keystone.{corner}",
                    "point2D",
                    (x, y),
                    -1.0,
                    2.0,
                    f"Output {o.name}: {corner} corner",
                )
            )
        if o.mesh is not None:
            for i, (x, y) in enumerate(o.mesh.points):
                c, r = i % o.mesh.columns, i // o.mesh.columns
                params.append(
                    Param(
                        mesh_name(o.name, c, r),
                        "point2D",
                        (x, y),
                        -1.0,
                        2.0,
                        f"Output {o.name}: mesh point column {c}, row {r} (in the picture, before keystone)",
                    )
                )
        for edge in EDGES:
            for key, (lo, hi) in BLEND_KEYS.items():
                params.append(
                    Param(
                        f"{p}.blend.{edge}.{key}",
                        "float",
                        getattr(o.edge(edge), key),
                        lo,
                        hi,
                        f"Output {o.name}: {edge} edge blend {key}",
                    )
                )
    return params


def spec_from_values(spec: OutputSpec, values: Mapping[str, ParamValue]) -> OutputSpec:
    """The spec as the parameters say it is now (unchanged keys keep the spec's own values)."""
    p = f"stage.{spec.name}"

    def get(key, default):
        return values.get(f"{p}.{key}", default)

    corners = tuple(
        tuple(map(float, get(f"keystone.{c}", xy)))[:2] for c, xy in zip(CORNERS, spec.keystone, strict=True)
    )
    blend = dict(spec.blend)
    for edge in EDGES:
        now = spec.edge(edge)
        asked = {key: float(get(f"blend.{edge}.{key}", getattr(now, key))) for key in BLEND_KEYS}
        if asked != {key: getattr(now, key) for key in BLEND_KEYS}:
            blend[edge] = replace(now, **asked)
    mesh = spec.mesh
    if mesh is not None:
        points = tuple(
            tuple(map(float, get(f"mesh.{i % mesh.columns}.{i // mesh.columns}", xy)))[:2]
            for i, xy in enumerate(mesh.points)
        )
        if points != mesh.points:
            mesh = replace(mesh, points=points)
    pattern = PATTERNS[
        int(min(max(float(get("pattern", PATTERNS.index(spec.pattern))), 0), len(PATTERNS) - 1))
    ]
    return replace(
        spec,
        brightness=float(get("brightness", spec.brightness)),
        gamma=float(get("gamma", spec.gamma)),
        pattern=pattern,
        keystone=corners,
        blend=blend,
        mesh=mesh,
    )
