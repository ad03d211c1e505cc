"""Resolume Arena's OSC addresses on Halation's targets, so a desk file written for Resolume runs a show.

Resolume's tree is positional; Halation's is by name. The addresses a Resolume desk sends most are mapped
onto the show-level targets that mean the same to an audience: the composition master is the master level,
columns are cues, layers 1 and 2 are decks A and B (their opacity is how much of that deck the crossfader
shows), the dashboard links are the eight macros, the tempo controller is the clock. Every Resolume address
reads levels as 0–1, whatever profile the desk's network has. docs/control.md has the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from engine.control.address import Target
from engine.control.codec import encode_message
from engine.control.commands import ActionSpec
from engine.params.store import Param, ParamValue

if TYPE_CHECKING:
    from engine.control.address import AddressSpace

RESOLUME_BPM = (20.0, 500.0)  # Resolume sends its tempo normalized over this span
DECKS = "ab"  # Resolume layer 1 is deck A, layer 2 deck B
NUDGE = 0.05  # tempopush / tempopull move the beat by this fraction of a beat per press
DASHBOARD_LINKS = 8


def resolume_bpm(value: float) -> float:
    """Resolume's tempo slider: 0–1 over 20–500 BPM. Its floor (0) is Halation's 'follow the music' (no
    set is played at 20 BPM), and a number above 1 is a BPM already (tools that send 128.0 as is)."""
    if value <= 0.0:
        return 0.0
    if value > 1.0:
        return value
    lo, hi = RESOLUME_BPM
    return lo + value * (hi - lo)


def _deck_targets(params: Mapping[str, Param]) -> dict[str, Target]:
    """Layer N opacity / master: how much of deck N the crossfader shows (deck A's is 1 − crossfade);
    bypassing or clearing layer N crossfades away from deck N (at once)."""
    out: dict[str, Target] = {}
    fade = params.get("clips.crossfade")
    if fade is None:
        return out
    for n, deck in enumerate(DECKS, start=1):
        shown = (1.0, 0.0) if deck == "a" else (0.0, 1.0)  # the crossfade at opacity 0 and at full
        away = shown[0]
        layer = f"/composition/layers/{n}"
        for suffix in ("video/opacity", "master"):
            out[f"{layer}/{suffix}"] = Target(f"{layer}/{suffix}", fade, profile="0-1", span=shown)
        for suffix in ("bypassed", "clear"):
            out[f"{layer}/{suffix}"] = Target(f"{layer}/{suffix}", fade, profile="0-1", value=away)
    return out


def _action(address: str, action: str, description: str) -> Target:
    return Target(address, action=ActionSpec(action, "", "", description), profile="0-1")


def resolume_targets(params: Mapping[str, Param]) -> dict[str, Target]:
    """The fixed Resolume addresses this show's parameters can answer."""
    out: dict[str, Target] = {}

    def alias(address: str, name: str, **how) -> None:
        if name in params:
            out[address] = Target(address, params[name], profile="0-1", **how)

    alias("/composition/master", "master.level")
    alias("/composition/video/opacity", "master.level")
    alias("/composition/bypassed", "master.blackout")  # Resolume: "Makes all output go black"
    alias("/composition/disconnectall", "master.blackout", value=True)  # every clip ejected: black
    alias("/composition/crossfader/phase", "clips.crossfade")
    alias("/composition/crossfader/sidea", "clips.crossfade", value=0.0)
    alias("/composition/crossfader/sideb", "clips.crossfade", value=1.0)
    tempo = "/composition/tempocontroller"
    alias(f"{tempo}/tempo", "tempo.bpm", span=RESOLUME_BPM, read=resolume_bpm)
    alias(f"{tempo}/tempotap", "tempo.tap")
    alias(f"{tempo}/resync", "tempo.resync")
    alias(f"{tempo}/tempo/multiply", "tempo.double")
    alias(f"{tempo}/tempo/divide", "tempo.half")
    alias(f"{tempo}/tempopush", "tempo.nudge", value=NUDGE)
    alias(f"{tempo}/tempopull", "tempo.nudge", value=-NUDGE)
    for slot in range(1, DASHBOARD_LINKS + 1):
        alias(f"/composition/dashboard/link{slot}", f"macro.{slot}")
    out.update(_deck_targets(params))
    for address, action, description in (
        ("/composition/connectnextcolumn", "cue.go", "Next column: the next cue"),
        ("/composition/connectprevcolumn", "cue.back", "Previous column: the previous cue"),
        ("/composition/selectedclip/connect", "transition.fire", "Selected clip: crossfade to the other"),
    ):
        out[address] = _action(address, action, description)
    return out


_CLIP = re.compile(r"^/composition/layers/([1-9][0-9]{0,3})/clips/([1-9][0-9]{0,3})/connect$")
_COLUMN = re.compile(r"^/composition/columns/([1-9][0-9]{0,3})/connect$")


def resolume_dynamic(address: str) -> Target | None:
    """Resolume's positional connects: layer N is deck A/B, clip M the M-th clip; column N is cue N."""
    m = _CLIP.match(address)
    if m and int(m.group(1)) <= len(DECKS):
        deck = DECKS[int(m.group(1)) - 1]
        spec = ActionSpec("deck.select", "", "", f"Deck {deck.upper()} clip", (deck, float(m.group(2))))
        return Target(address, action=spec, profile="0-1")
    m = _COLUMN.match(address)
    if m:
        spec = ActionSpec("cue.goto", "", "", "Go to cue", (float(m.group(1)),))
        return Target(address, action=spec, profile="0-1")
    return None


def feedback_targets(targets: Mapping[str, Target]) -> dict[str, tuple[Target, ...]]:
    """Parameter name → the Resolume addresses that read it back (buttons and events read nothing back; the
    tempo reads back the clock's BPM, from the status, not the manual BPM)."""
    out: dict[str, tuple[Target, ...]] = {}
    for target in targets.values():
        if target.read is resolume_bpm:
            continue
        if target.param is not None and feedback_value(target, target.param.default) is not None:
            out[target.param.name] = (*out.get(target.param.name, ()), target)
    return out


def feedback_value(target: Target, value: ParamValue) -> float | None:
    """What a Resolume address reads back for a parameter's value (0–1; the tempo as Resolume's slider);
    None for addresses that only fire."""
    param = target.param
    if param is None or target.value is not None or param.kind == "event":
        return None
    if param.kind == "bool":
        return 1.0 if value else 0.0
    if not isinstance(value, int | float):
        return None
    number = float(value)
    if target.read is resolume_bpm:
        lo, hi = RESOLUME_BPM
        return 0.0 if number <= 0 else min(max((number - lo) / (hi - lo), 0.0), 1.0)
    lo, hi = target.span or (param.min, param.max)
    return min(max((number - lo) / (hi - lo), 0.0), 1.0) if hi != lo else None


def resolume_feedback(space: AddressSpace, name: str, value: ParamValue) -> Iterator[bytes]:
    """The Resolume addresses' feedback for a parameter that changed: a desk file written for Resolume
    hears its faders and buttons follow the show at the addresses it sends to."""
    for target in space.feedback_aliases.get(name, ()):
        share = feedback_value(target, value)
        if share is not None:
            yield encode_message(target.address, (share,))


def resolume_status(space: AddressSpace, key: str, value: object) -> Iterator[bytes]:
    """The tempo controller's slider reads back the tempo the clock runs at (heard, tapped or set), as a
    Resolume template's BPM display expects, 0–1 over 20–500 BPM."""
    address = "/composition/tempocontroller/tempo"
    if key == "bpm" and isinstance(value, int | float) and value > 0 and address in space.aliases:
        lo, hi = RESOLUME_BPM
        yield encode_message(address, (min(max((float(value) - lo) / (hi - lo), 0.0), 1.0),))


def query_replies(targets: tuple[Target, ...], values: Mapping[str, ParamValue]) -> list[bytes]:
    """Resolume's "?" query: each parameter target's current value, sent back at the address asked (0–1 at
    Resolume's addresses, the parameter's own units at Halation's)."""
    out = []
    for target in targets:
        param = target.param
        if param is None or param.name not in values:
            continue
        value = values[param.name]
        if target.address.startswith("/composition/"):
            share = feedback_value(target, value)
            args: tuple = () if share is None else (share,)
        elif isinstance(value, tuple):
            args = tuple(float(v) for v in value)
        else:
            args = (float(value),)  # bools as 1.0 / 0.0, as feedback sends them
        if args:
            out.append(encode_message(target.address, args))
    return out
