"""The OSC address space, generated from the live show's parameters: name-based, so it never moves.

`master.level` answers at `/hl/master/level`, shader input `zoom` at `/hl/shader/zoom`: names, not
positions, so reordering clips or inputs never breaks a desk's programmed cues (Resolume's weakness). A
Resolume-compatible alias layer maps the common Resolume addresses onto the same targets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from engine.control.commands import ACTIONS, ActionSpec
from engine.control.pattern import compile_pattern, is_pattern
from engine.errors import HalationError
from engine.params.store import Param

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-~]")  # OSC reserves space # * , / ? [ ] { }
RESOLUME_BPM = (20.0, 500.0)  # Resolume sends its tempo normalized over this span
_DECKS = "ab"


@dataclass(frozen=True, slots=True)
class Target:
    """Where an address leads: a parameter or an action, and how numbers are read for it."""

    address: str
    param: Param | None = None
    action: ActionSpec | None = None
    profile: str | None = None  # forced profile (Resolume aliases are always 0–1); None = the source's
    span: tuple[float, float] | None = None  # a 0–1 level maps onto this span instead of the param's range


def normalize_prefix(prefix: str) -> str:
    """'' or '/hl'-style: one leading slash, none trailing, no wildcard characters."""
    prefix = "/" + prefix.strip().strip("/") if prefix.strip().strip("/") else ""
    if prefix and (is_pattern(prefix) or _UNSAFE.search(prefix.replace("/", ""))):
        raise HalationError(f"--osc-prefix '{prefix}': use letters, digits, '-', '_' and '/' only")
    return prefix


def param_path(name: str) -> str:
    """`shader.zoom` → `shader/zoom`; characters OSC reserves become `_`."""
    return "/".join(_UNSAFE.sub("_", part) for part in name.split("."))


def _resolume_targets(params: Mapping[str, Param]) -> dict[str, Target]:
    out: dict[str, Target] = {}

    def alias(address: str, name: str, span: tuple[float, float] | None = None) -> None:
        if name in params:
            out[address] = Target(address, params[name], profile="0-1", span=span)

    alias("/composition/crossfader/phase", "clips.crossfade")
    alias("/composition/video/opacity", "master.level")
    alias("/composition/tempocontroller/tempo", "tempo.bpm", RESOLUME_BPM)
    alias("/composition/tempocontroller/tempotap", "tempo.tap")
    alias("/composition/tempocontroller/resync", "tempo.resync")
    return out


_RESOLUME_CLIP = re.compile(r"^/composition/layers/([1-9][0-9]{0,3})/clips/([1-9][0-9]{0,3})/connect$")
_RESOLUME_COLUMN = re.compile(r"^/composition/columns/([1-9][0-9]{0,3})/connect$")


def _resolume_dynamic(address: str) -> Target | None:
    """Resolume's positional connects: layer N is deck A/B, clip M the M-th clip; column N is cue N."""
    m = _RESOLUME_CLIP.match(address)
    if m and int(m.group(1)) <= len(_DECKS):
        deck = _DECKS[int(m.group(1)) - 1]
        spec = ActionSpec("deck.select", "", "", f"Deck {deck.upper()} clip", (deck, float(m.group(2))))
        return Target(address, action=spec, profile="0-1")
    m = _RESOLUME_COLUMN.match(address)
    if m:
        spec = ActionSpec("cue.goto", "", "", "Go to cue", (float(m.group(1)),))
        return Target(address, action=spec, profile="0-1")
    return None


class AddressSpace:
    """Address → targets. Exact addresses are one dict lookup; patterns are matched once, then cached."""

    def __init__(
        self,
        params: Mapping[str, Param],
        prefix: str = "/hl",
        actions: tuple[ActionSpec, ...] = ACTIONS,
        resolume: bool = True,
        aliases: Mapping[str, Target] | None = None,
    ):
        self.prefix = normalize_prefix(prefix)
        self.targets: dict[str, Target] = {}  # the published, name-based space (what OSCQuery lists)
        self.by_param: dict[str, str] = {}
        for name, param in params.items():
            address = f"{self.prefix}/{param_path(name)}"
            self.targets[address] = Target(address, param)
            self.by_param[name] = address
        for spec in actions:
            address = f"{self.prefix}/{spec.path}"
            self.targets.setdefault(address, Target(address, action=spec))
        self.aliases = {**(_resolume_targets(params) if resolume else {}), **(aliases or {})}
        self.resolume = resolume
        self._all = {**self.aliases, **self.targets}
        self._lower = {a.lower(): t for a, t in self._all.items()}
        self._patterns: dict[str, tuple[Target, ...]] = {}

    def address_of(self, name: str) -> str | None:
        return self.by_param.get(name)

    def lookup(self, address: str) -> tuple[Target, ...]:
        """The targets an address (or pattern) selects; empty when none."""
        target = self._all.get(address) or self._lower.get(address.lower())
        if target is not None:
            return (target,)
        if is_pattern(address):
            return self._match(address)
        if self.resolume and address.startswith("/composition/"):
            dynamic = _resolume_dynamic(address)
            return (dynamic,) if dynamic else ()
        return ()

    def _match(self, pattern: str) -> tuple[Target, ...]:
        cached = self._patterns.get(pattern)
        if cached is not None:
            return cached
        regex = compile_pattern(pattern)
        found = tuple(t for a, t in self._all.items() if regex.match(a)) if regex else ()
        if len(self._patterns) >= 1024:  # a flood of distinct patterns must not grow memory
            self._patterns.clear()
        self._patterns[pattern] = found
        return found
