"""The OSCQuery namespace (VIDVOX proposal): every address as JSON with FULL_PATH, TYPE, RANGE, VALUE, ACCESS,
DESCRIPTION, so VDMX, MadMapper, Chataigne or ossia score can discover the show and build a UI for it.

Pure functions of the address space and the current values; the server lives in oscquery_server.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.control.address import AddressSpace, Target
from engine.params.store import Param, ParamValue

EXTENSIONS = {
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "TAGS": False,
    "CLIPMODE": True,
    "UNIT": False,
    "CRITICAL": False,
    "EXTENDED_TYPE": False,
    "HTML": False,
    "LISTEN": True,
    "PATH_CHANGED": False,
    "PATH_RENAMED": False,
    "PATH_ADDED": False,
    "PATH_REMOVED": False,
}
_TYPES = {"float": "f", "long": "i", "bool": "T", "event": "N", "color": "r", "point2D": "ff"}


def osc_type(param: Param) -> str:
    return _TYPES.get(param.kind, "f")


def color_string(value: tuple[float, ...]) -> str:
    rgba = [*value, 1.0, 1.0, 1.0, 1.0][:4]
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgba)


def json_value(param: Param, value: ParamValue) -> list[Any]:
    """The VALUE array for a parameter's current value."""
    if param.kind == "bool":
        return [bool(value)]
    if param.kind == "long":
        return [round(float(value))]  # type: ignore[arg-type]
    if param.kind == "color":
        return [color_string(tuple(value))]  # type: ignore[arg-type]
    if isinstance(value, tuple):
        return [float(v) for v in value]
    return [float(value)]


def _param_node(target: Target, param: Param, value: ParamValue | None, read_only: bool) -> dict[str, Any]:
    node: dict[str, Any] = {
        "FULL_PATH": target.address,
        "TYPE": osc_type(param),
        "DESCRIPTION": param.description or param.name,
    }
    if param.kind == "event":
        node["ACCESS"] = 0 if read_only else 2
        return node
    node["ACCESS"] = 1 if read_only else 3
    if value is not None:
        node["VALUE"] = json_value(param, value)
    if param.kind in ("float", "long"):
        node["RANGE"] = [{"MIN": param.min, "MAX": param.max}]
        node["CLIPMODE"] = ["both"]
    elif param.kind == "point2D":
        node["RANGE"] = [{"MIN": param.min, "MAX": param.max}] * 2
        node["CLIPMODE"] = ["both", "both"]
    return node


def _action_node(target: Target, read_only: bool) -> dict[str, Any]:
    spec = target.action
    assert spec is not None
    return {
        "FULL_PATH": target.address,
        "TYPE": spec.arg or "N",
        "ACCESS": 0 if read_only else 2,
        "DESCRIPTION": spec.description,
    }


def leaf(target: Target, values: Mapping[str, ParamValue], read_only: bool) -> dict[str, Any]:
    if target.param is not None:
        return _param_node(target, target.param, values.get(target.param.name), read_only)
    return _action_node(target, read_only)


def namespace(
    space: AddressSpace, values: Mapping[str, ParamValue], read_only: bool = False
) -> dict[str, Any]:
    """The whole tree from the root: containers hold CONTENTS, methods their attributes."""
    root: dict[str, Any] = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": "Halation", "CONTENTS": {}}
    for address, target in space.targets.items():
        parts = address.strip("/").split("/")
        node = root
        for depth, part in enumerate(parts[:-1]):
            contents = node.setdefault("CONTENTS", {})
            node = contents.setdefault(
                part, {"FULL_PATH": "/" + "/".join(parts[: depth + 1]), "ACCESS": 0, "DESCRIPTION": ""}
            )
        node.setdefault("CONTENTS", {})[parts[-1]] = leaf(target, values, read_only)
    return root


def find(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The node at an HTTP path ('/' or '/hl/master/level'), or None."""
    node = tree
    for part in (p for p in path.strip("/").split("/") if p):
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


def host_info(name: str, osc_port: int | None, osc_ip: str | None, tcp: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {"NAME": name, "EXTENSIONS": EXTENSIONS}
    if osc_port:
        info["OSC_PORT"] = osc_port
        info["OSC_TRANSPORT"] = "TCP" if tcp else "UDP"
    if osc_ip and osc_ip not in ("0.0.0.0", "::"):
        info["OSC_IP"] = osc_ip
    return info
