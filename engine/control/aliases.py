"""User aliases: any address a desk already sends (a grandMA3 executor fader, a QLC+ DMX channel over OSC)
mapped onto a Halation target, so the desk needs no reprogramming. Loaded from TOML:

    [alias]
    "/gma3/Page1/Fader201" = "master.level"
    "/0/dmx/12" = { target = "shader.zoom", profile = "0-1" }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.control.address import Target
from engine.control.profiles import profile_name
from engine.control.targets import resolve
from engine.errors import HalationError
from engine.params.store import Param
from engine.show.tomlpos import read_toml, unknown_key_error


@dataclass(frozen=True)
class Alias:
    address: str
    target: str
    profile: str | None = None


def load_aliases(path: Path) -> tuple[Alias, ...]:
    path, text, data = read_toml(path, "alias file")
    errors = [unknown_key_error(path, text, data, ("alias",), (), "the alias file")]
    errors += [
        unknown_key_error(path, text, spec, ("target", "profile"), ("alias", address), address)
        for address, spec in data.get("alias", {}).items()
        if isinstance(spec, dict)
    ]
    if any(errors):
        raise next(e for e in errors if e)
    out = []
    for address, spec in data.get("alias", {}).items():
        if not address.startswith("/"):
            raise HalationError(f"alias '{address}': addresses start with '/'", path=path)
        if isinstance(spec, str):
            out.append(Alias(address, spec))
        elif isinstance(spec, dict) and isinstance(spec.get("target"), str):
            profile = profile_name(spec["profile"]) if "profile" in spec else None
            out.append(Alias(address, spec["target"], profile))
        else:
            raise HalationError(f"alias '{address}': give a target name or {{ target = ... }}", path=path)
    return tuple(out)


def alias_targets(
    aliases: tuple[Alias, ...], params: Mapping[str, Param]
) -> tuple[dict[str, Target], list[str]]:
    """Targets for the aliases this show can serve, and the names it cannot (to warn about)."""
    targets: dict[str, Target] = {}
    unknown: list[str] = []
    for alias in aliases:
        resolved = resolve(alias.target, params)
        if resolved is None:
            unknown.append(alias.target)
        else:
            targets[alias.address] = Target(alias.address, resolved.param, resolved.action, alias.profile)
    return targets, unknown
