"""The DMX fixture as an Open Fixture Library definition, so a desk's fixture editor imports Halation instead
of the programmer typing in its channels.

OFL's format (schemas/fixture.json in OpenLightingProject/open-fixture-library) is read by the OFL website,
which converts it for QLC+, grandMA2/3, ETC, ChamSys, Onyx, D-Light and others, and by tools that import
OFL directly. Each channel gets the capability a desk understands: the master is an Intensity, the blackout
a shutter (closed from 50 %), the manual BPM a Speed in bpm, buttons fire from 50 %, value channels pick a
cue or preset by number; a 16-bit channel has its fine channel as an alias.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from engine.control.fixture import Channel, Fixture
from engine.control.targets import Resolved, resolve
from engine.params.store import Param

SCHEMA = (
    "https://raw.githubusercontent.com/OpenLightingProject/open-fixture-library/master/schemas/fixture.json"
)


def channel_name(target: str) -> str:
    """`master.level` → `Master Level`, `shader.kick_gain` → `Shader Kick Gain` (OFL channel keys)."""
    return " ".join(word.capitalize() for word in re.split(r"[._]+", target) if word)


def _switch(off: dict[str, Any], on: dict[str, Any], top: int) -> list[dict[str, Any]]:
    """Two halves: buttons fire and switches are on from 50 %."""
    half = (top + 1) // 2
    return [{"dmxRange": [0, half - 1], **off}, {"dmxRange": [half, top], **on}]


def _capabilities(channel: Channel, target: Resolved | None) -> dict[str, Any]:
    """The channel's OFL capability (one) or capabilities (ranges)."""
    top = 65535 if channel.bits == 16 else 255
    text = channel.description or channel_name(channel.target)
    param = target.param if target else None
    if channel.value:
        return {
            "capabilities": [
                {"dmxRange": [0, 0], "type": "NoFunction"},
                {"dmxRange": [1, top], "type": "Generic", "comment": text},
            ]
        }
    if target is not None and target.is_trigger:
        return {"capabilities": _switch({"type": "NoFunction"}, {"type": "Generic", "comment": text}, top)}
    if param is not None and param.kind == "bool":
        if param.name == "master.blackout":
            shutter = "ShutterStrobe"
            on, off = {"type": shutter, "shutterEffect": "Closed"}, {"type": shutter, "shutterEffect": "Open"}
        else:
            on, off = {"type": "Generic", "comment": text}, {"type": "NoFunction"}
        return {"capabilities": _switch(off, on, top)}
    if param is not None and param.name == "master.level":
        return {"capability": {"type": "Intensity", "brightnessStart": "off", "brightnessEnd": "bright"}}
    if param is not None and param.name == "tempo.bpm":
        first = max(1, round(top / param.max)) if param.max > 0 else 1  # below 1 BPM: follow the music
        return {
            "capabilities": [
                {"dmxRange": [0, first - 1], "type": "NoFunction", "comment": "Follow the music's tempo"},
                {
                    "dmxRange": [first, top],
                    "type": "Speed",
                    "speedStart": f"{first * param.max / top:g}bpm",
                    "speedEnd": f"{param.max:g}bpm",
                },
            ]
        }
    return {"capability": {"type": "Generic", "comment": text}}


def ofl_fixture(fixture: Fixture, params: Mapping[str, Param], today: datetime.date | None = None) -> dict:
    """The fixture as an OFL fixture definition (a dict ready for json.dumps)."""
    date = (today or datetime.date.today()).isoformat()
    channels: dict[str, dict[str, Any]] = {}
    layout: list[str | None] = [None] * fixture.footprint
    for channel in sorted(fixture.channels, key=lambda c: c.offset):
        key = channel_name(channel.target)
        while key in channels:  # two channels on one target (rare): keep both, distinctly named
            key += " 2"
        entry: dict[str, Any] = {}
        if channel.bits == 16:
            entry["fineChannelAliases"] = [f"{key} fine"]
            layout[channel.offset] = f"{key} fine"
        entry.update(_capabilities(channel, resolve(channel.target, params)))
        channels[key] = entry
        layout[channel.offset - 1] = key
    mode = re.sub(r"(?i)\bmode\b", "", fixture.mode).strip() or f"{fixture.footprint}ch"
    return {
        "$schema": SCHEMA,
        "name": fixture.name,
        "shortName": re.sub(r"\W+", "", fixture.name) or "Halation",
        "categories": ["Effect"],
        "meta": {"authors": ["Halation"], "createDate": date, "lastModifyDate": date},
        "comment": "Halation audio-reactive visuals engine, patched as a DMX fixture (sACN or Art-Net). "
        "See docs/control.md.",
        "availableChannels": channels,
        "modes": [{"name": mode, "shortName": f"{fixture.footprint}ch", "channels": layout}],
    }
