"""A stage's adjustable values as show parameters `stage.<output>.<key>`, so desks reach them over OSC at
/hl/stage/<output>/<key> (and OSCQuery lists them), the preview's stage edit sets them the same way, and a
preset recall keeps them (Show.recall keeps `stage.` names). Parameters are the one source of truth: each
frame an output adopts what they say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from engine.output.stage import EDGES, PATTERNS, OutputSpec, Stage
from engine.params.store import Param, ParamValue

CORNERS = ("tl", "tr", "br", "bl")


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
        for edge in EDGES:
            params.append(
                Param(
                    f"{p}.blend.{edge}.width",
                    "float",
                    o.edge(edge).width,
                    0.0,
                    0.5,
                    f"Output {o.name}: {edge} edge blend width",
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
        width = float(get(f"blend.{edge}.width", spec.edge(edge).width))
        if width != spec.edge(edge).width:
            blend[edge] = replace(spec.edge(edge), width=width)
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
    )
