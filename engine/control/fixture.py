"""The fixture Halation presents to a lighting desk over sACN: a channel list a programmer can patch.

A channel drives a parameter (8-bit, or 16-bit with the fine channel next) or an action. Levels map the
DMX range onto the parameter's range; bools are on from 50 %; triggers fire when the channel crosses 50 %
upwards; a "value" action (cue.goto) takes the DMX value itself as its argument (0 does nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import HalationError
from engine.show.tomlpos import read_toml, unknown_key_error


@dataclass(frozen=True)
class Channel:
    offset: int  # 1-based within the fixture's footprint
    target: str  # a parameter (master.level) or an action (cue.go)
    bits: int = 8  # 8, or 16 (offset = coarse, offset + 1 = fine)
    value: bool = False  # the DMX value is the action's argument (cue.goto 12)
    description: str = ""


@dataclass(frozen=True)
class Fixture:
    name: str
    mode: str
    channels: tuple[Channel, ...]

    @property
    def footprint(self) -> int:
        return max((c.offset + (1 if c.bits == 16 else 0) for c in self.channels), default=0)


DEFAULT = Fixture(
    "Halation",
    "Standard 16ch",
    (
        Channel(1, "master.level", 16, description="Master level (16-bit, 1 coarse / 2 fine)"),
        Channel(3, "master.blackout", description="Blackout: on from 50 %"),
        Channel(4, "master.freeze", description="Freeze: on from 50 %"),
        Channel(5, "clips.crossfade", 16, description="A/B crossfade (16-bit, 5 coarse / 6 fine)"),
        Channel(7, "tempo.bpm", 16, description="Manual BPM: 0–65535 = 0–300 BPM (0 = follow the music)"),
        Channel(9, "tempo.tap", description="Tap tempo: fires crossing 50 % upwards"),
        Channel(10, "tempo.resync", description="Resync (this is beat 1): fires crossing 50 %"),
        Channel(11, "tempo.lock", description="Hold the current BPM: on from 50 %"),
        Channel(12, "cue.go", description="Go: fires crossing 50 %"),
        Channel(13, "cue.back", description="Back: fires crossing 50 %"),
        Channel(14, "cue.goto", value=True, description="Go to cue number = DMX value (0 = nothing)"),
        Channel(15, "transition.fire", description="Crossfade to the other deck: fires crossing 50 %"),
        Channel(
            16, "preset.recall", value=True, description="Recall preset number = DMX value (0 = nothing)"
        ),
    ),
)


FIXTURE_KEYS = ("name", "mode", "footprint", "channel")
CHANNEL_KEYS = ("offset", "target", "bits", "value", "description")


def _known(error: HalationError | None) -> None:
    if error is not None:
        raise error


def load_fixture(path: Path) -> Fixture:
    path, text, data = read_toml(path, "fixture file")
    _known(unknown_key_error(path, text, data, FIXTURE_KEYS, (), "the fixture file"))
    channels = []
    for i, entry in enumerate(data.get("channel", [])):
        if isinstance(entry, dict):
            _known(unknown_key_error(path, text, entry, CHANNEL_KEYS, ("channel", i), f"[[channel]] {i + 1}"))
        try:
            channel = Channel(
                int(entry["offset"]),
                str(entry["target"]),
                int(entry.get("bits", 8)),
                bool(entry.get("value", False)),
                str(entry.get("description", "")),
            )
        except (KeyError, ValueError, TypeError):
            raise HalationError(f"channel entry {i + 1}: needs offset and target", path=path) from None
        if channel.bits not in (8, 16) or not 1 <= channel.offset <= 512:
            raise HalationError(f"channel entry {i + 1}: offset 1–512, bits 8 or 16", path=path)
        channels.append(channel)
    return Fixture(str(data.get("name", "Halation")), str(data.get("mode", path.stem)), tuple(channels))


def fixture_toml(fixture: Fixture) -> str:
    """The fixture as a TOML channel list (what docs/fixtures/halation-sacn.toml holds)."""
    lines = [
        "# Halation as a DMX fixture over sACN (E1.31). Patch it at any start address; see docs/control.md.",
        "# Edit a copy and pass it with --sacn-fixture to drive other parameters (target = 'shader.zoom').",
        f'name = "{fixture.name}"',
        f'mode = "{fixture.mode}"',
        f"footprint = {fixture.footprint}",
    ]
    for c in fixture.channels:
        lines += ["", "[[channel]]", f"offset = {c.offset}", f'target = "{c.target}"', f"bits = {c.bits}"]
        if c.value:
            lines.append("value = true")
        if c.description:
            lines.append(f'description = "{c.description}"')
    return "\n".join(lines) + "\n"
