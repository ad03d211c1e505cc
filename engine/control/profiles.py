"""Level profiles: how a source's numbers map onto a parameter's range.

Desks disagree: ETC Eos and grandMA3 think in percent (0–100), QLC+ sends 0–1 (older versions 0–255),
ChamSys sends floats 0–1 or ints 0–100. A profile is chosen per source network, so two desks can differ.
`native` means the parameter's own units, the RANGE that OSCQuery advertises (0–1 for levels).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from engine.errors import HalationError

# Full scale of each profile; None = native units, "auto" = ints are percent, floats are 0–1.
SCALES: dict[str, float | None] = {"native": None, "0-1": 1.0, "0-100": 100.0, "0-255": 255.0, "auto": 0.0}
DESKS = {
    "eos": "0-100",
    "ma3": "0-100",
    "grandma3": "0-100",
    "chamsys": "auto",
    "magicq": "auto",
    "qlcplus": "0-1",
    "qlcplus-legacy": "0-255",
    "resolume": "0-1",
    "touchosc": "0-1",
}
# Parameters whose value is a quantity, not a level: profiles never rescale them (a BPM is a BPM).
UNIT_PARAMS = frozenset({"tempo.bpm", "tempo.min", "tempo.max", "tempo.beats_per_bar"})


def profile_name(text: str) -> str:
    name = DESKS.get(text.lower(), text.lower())
    if name not in SCALES:
        known = ", ".join([*SCALES, *DESKS])
        raise HalationError(f"unknown level profile '{text}' (known: {known})")
    return name


def fraction(value: float, profile: str, is_int: bool) -> float | None:
    """The share of full scale a number stands for, or None under `native` (the value is used as is)."""
    scale = SCALES[profile]
    if scale is None:
        return None
    if scale == 0.0:  # auto
        return value / 100.0 if is_int else value
    return value / scale


@dataclass(frozen=True)
class ProfileRule:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    profile: str


def parse_rule(text: str) -> ProfileRule:
    """`PROFILE` (every source) or `SOURCE=PROFILE`, SOURCE an address or a network like 10.0.0.0/24."""
    source, _, profile = text.rpartition("=")
    try:
        network = ipaddress.ip_network(source.strip() or "0.0.0.0/0", strict=False)
    except ValueError:
        raise HalationError(f"--osc-profile '{text}': '{source}' is not an address or network") from None
    return ProfileRule(network, profile_name(profile.strip()))


class SourceProfiles:
    """Which profile a source address gets: the most specific matching rule, else the default."""

    def __init__(self, rules: tuple[ProfileRule, ...] = (), default: str = "native"):
        for rule in rules:
            if rule.network.prefixlen == 0:  # a rule without a source sets the default, IPv4 and IPv6 alike
                default = rule.profile
        specific = [r for r in rules if r.network.prefixlen]
        self.rules = tuple(sorted(specific, key=lambda r: r.network.prefixlen, reverse=True))
        self.default = default
        self._cache: dict[str, str] = {}

    def for_host(self, host: str) -> str:
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        profile = self.default
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        for rule in self.rules:
            if ip is not None and ip.version == rule.network.version and ip in rule.network:
                profile = rule.profile
                break
        if len(self._cache) > 1024:
            self._cache.clear()
        self._cache[host] = profile
        return profile
