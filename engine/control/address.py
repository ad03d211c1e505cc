"""The OSC address space, generated from the live show's parameters: name-based, so it never moves.

`master.level` answers at `/hl/master/level`, shader input `zoom` at `/hl/shader/zoom`: names, not
positions, so reordering clips or inputs never breaks a desk's programmed cues (Resolume's weakness). A
Resolume-compatible alias layer maps the common Resolume addresses onto the same targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.control.commands import ACTIONS, ActionSpec
from engine.control.pattern import compile_pattern, is_pattern
from engine.control.status import STATUS, SentNode, StatusNode
from engine.errors import HalationError
from engine.params.store import Param, ParamValue

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-~]")  # OSC reserves space # * , / ? [ ] { }


@dataclass(frozen=True, slots=True)
class Target:
    """Where an address leads: a parameter or an action, and how numbers are read for it."""

    address: str
    param: Param | None = None
    action: ActionSpec | None = None
    profile: str | None = None  # forced profile (Resolume aliases are always 0–1); None = the source's
    span: tuple[float, float] | None = None  # a 0–1 level maps onto this span instead of the param's range
    status: StatusNode | None = None  # a read-only node of /hl/status/ (what the show reports)
    sent: SentNode | None = None  # an address the show only sends (the feature stream)
    value: ParamValue | None = None  # a button: it sets the param to this value when it fires
    read: Callable[[float], float] | None = None  # the number → the param's value (Resolume's tempo)


def normalize_prefix(prefix: str) -> str:
    """'' or '/hl'-style: one leading slash, none trailing, no wildcard characters."""
    prefix = "/" + prefix.strip().strip("/") if prefix.strip().strip("/") else ""
    if prefix and (is_pattern(prefix) or _UNSAFE.search(prefix.replace("/", ""))):
        raise HalationError(f"--osc-prefix '{prefix}': use letters, digits, '-', '_' and '/' only")
    return prefix


def param_path(name: str) -> str:
    """`shader.zoom` → `shader/zoom`; characters OSC reserves become `_`."""
    return "/".join(_UNSAFE.sub("_", part) for part in name.split("."))


class AddressSpace:
    """Address → targets. Exact addresses are one dict lookup; patterns are matched once, then cached."""

    def __init__(
        self,
        params: Mapping[str, Param],
        prefix: str = "/hl",
        actions: tuple[ActionSpec, ...] = ACTIONS,
        resolume: bool = True,
        aliases: Mapping[str, Target] | None = None,
        status: tuple[StatusNode, ...] = STATUS,
        sent: tuple[SentNode, ...] = (),
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
        for node in status:
            address = f"{self.prefix}/status/{node.key}"
            self.targets.setdefault(address, Target(address, status=node))
        for sent_node in sent:
            self.targets.setdefault(sent_node.address, Target(sent_node.address, sent=sent_node))
        from engine.control import resolume as _resolume  # the Resolume layer builds on Target

        self._resolume = _resolume if resolume else None
        resolume_targets = _resolume.resolume_targets(params) if resolume else {}
        self.aliases = {**resolume_targets, **(aliases or {})}
        self.resolume = resolume
        self.feedback_aliases = _resolume.feedback_targets(resolume_targets)  # param → Resolume addresses
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
        if self._resolume is not None and address.startswith("/composition/"):
            dynamic = self._resolume.resolume_dynamic(address)
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
