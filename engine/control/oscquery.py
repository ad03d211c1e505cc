"""The OSCQuery namespace (VIDVOX proposal): every address as JSON with FULL_PATH, TYPE, RANGE, VALUE, ACCESS,
DESCRIPTION, so VDMX, MadMapper, Chataigne or ossia score can discover the show and build a UI for it.

Pure functions of the address space and the current values; the server lives in oscquery_server.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.control.address import AddressSpace, Target
from engine.control.commands import ActionSpec
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
    "PATH_CHANGED": True,
    "PATH_RENAMED": False,
    "PATH_ADDED": True,
    "PATH_REMOVED": True,
}
ATTRIBUTES = (
    "FULL_PATH",
    "CONTENTS",
    "TYPE",
    "ACCESS",
    "VALUE",
    "RANGE",
    "DESCRIPTION",
    "CLIPMODE",
    "TAGS",
    "EXTENDED_TYPE",
    "UNIT",
    "CRITICAL",
    "HOST_INFO",
)
# what a write-only node says it takes, as VALUE: clients (python-oscquery among them) need one to know the
# argument types even where there is nothing to read back
_PLACEHOLDER = {"s": "", "f": 0.0, "i": 0, "T": True, "N": None}
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
        if not read_only:
            node["VALUE"] = [None]
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


def choice_key(spec: ActionSpec) -> str:
    """Which list of names an action takes: "cue.goto", "preset.recall", "deck.a"…"""
    return f"deck.{spec.fixed[0]}" if spec.action == "deck.select" and spec.fixed else spec.action


def _action_node(target: Target, read_only: bool, choices: Mapping[str, list[str]]) -> dict[str, Any]:
    spec = target.action
    assert spec is not None
    kind = spec.arg or "N"
    node: dict[str, Any] = {
        "FULL_PATH": target.address,
        "TYPE": kind,
        "ACCESS": 0 if read_only else 2,
        "DESCRIPTION": spec.description,
    }
    if not read_only:
        node["VALUE"] = [_PLACEHOLDER.get(kind)]
    names = choices.get(choice_key(spec))
    if names:
        node["RANGE"] = [{"VALS": list(names)}]
    return node


def _status_node(target: Target, status: Mapping[str, Any]) -> dict[str, Any]:
    node = target.status
    assert node is not None
    value = status.get(node.key, _PLACEHOLDER.get(node.type))
    return {
        "FULL_PATH": target.address,
        "TYPE": node.type,
        "ACCESS": 1,
        "VALUE": [value],
        "DESCRIPTION": node.description,
    }


def leaf(
    target: Target,
    values: Mapping[str, ParamValue],
    read_only: bool,
    status: Mapping[str, Any] | None = None,
    choices: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    if target.param is not None:
        return _param_node(target, target.param, values.get(target.param.name), read_only)
    if target.status is not None:
        return _status_node(target, status or {})
    if target.sent is not None:
        node = target.sent
        return {"FULL_PATH": target.address, "TYPE": node.type, "ACCESS": 0, "DESCRIPTION": node.description}
    return _action_node(target, read_only, choices or {})


def namespace(
    space: AddressSpace,
    values: Mapping[str, ParamValue],
    read_only: bool = False,
    status: Mapping[str, Any] | None = None,
    choices: Mapping[str, list[str]] | None = None,
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
        node.setdefault("CONTENTS", {})[parts[-1]] = leaf(target, values, read_only, status, choices)
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
