"""What a desk can read about the show: read-only nodes under `/hl/status/`.

Built on the render thread once a frame from what it just showed (pure, cheap); feedback sends the nodes
that changed, and all of them again on `/hl/status/refresh`; OSCQuery lists them with their VALUE.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StatusNode:
    key: str  # the address under <prefix>/status/
    type: str  # OSC type tag
    description: str


STATUS: tuple[StatusNode, ...] = (
    StatusNode("cue", "s", "The cue running: number and name ('3 Drop')"),
    StatusNode("cue_number", "i", "The number of the cue running (0: none)"),
    StatusNode("cue_next", "s", "The next cue: number and name ('' after the last)"),
    StatusNode("preset", "s", "The preset on screen"),
    StatusNode("bpm", "f", "The tempo the show follows (BPM)"),
    StatusNode("confidence", "f", "How sure the tempo is, 0..1"),
    StatusNode("beat", "i", "Beat count of the song"),
    StatusNode("bar", "i", "Bar count of the song"),
    StatusNode("fps", "f", "Frames shown per second, over the last second or so"),
    StatusNode("dropped", "i", "Frames that took over twice the usual frame time, since the start"),
    StatusNode("error", "s", "The last operator action that failed or did nothing, or the last fault"),
    *(
        StatusNode(f"macro/{n}", "s", f"What macro {n} drives in this look ('not mapped')")
        for n in range(1, 9)
    ),
    # from the sync stages (engine/sync), present with --link / --follow
    StatusNode("link/mode", "s", "Ableton Link: off, follow, lead or auto"),
    StatusNode("link/role", "s", "What Link is doing now (auto: lead or follow)"),
    StatusNode("link/peers", "i", "Other Link peers in the session"),
    StatusNode("link/bpm", "f", "The Link session's tempo"),
    StatusNode("follow/leader", "s", "Render node: the leader's stream (HOST:PORT)"),
    StatusNode("follow/connected", "i", "Render node: 1 while the leader's frames arrive"),
)
STATUS_KEYS = tuple(n.key for n in STATUS)


@dataclass(frozen=True)
class SentNode:
    """An address the show sends and never takes (the feature stream's): listed on OSCQuery with ACCESS 0,
    so a desk programmer can find what to listen for."""

    address: str
    type: str
    description: str


class FrameMeter:
    """Frame rate and late frames, from when frames were published (the render thread's own clock)."""

    def __init__(self, window: int = 120):
        self._intervals: deque[float] = deque(maxlen=window)
        self._last: float | None = None
        self._typical = 0.0
        self.dropped = 0

    def tick(self, now: float) -> None:
        if self._last is not None:
            interval = now - self._last
            if len(self._intervals) >= 30 and interval > 2.0 * self._typical:
                self.dropped += 1
            self._intervals.append(interval)
            if len(self._intervals) % 30 == 0 or not self._typical:
                self._typical = statistics.median(self._intervals)
        self._last = now

    @property
    def fps(self) -> float:
        if not self._intervals:
            return 0.0
        total = sum(list(self._intervals)[-60:])
        return min(len(self._intervals), 60) / total if total > 0 else 0.0


def show_status(features: Any, operator: Any, meter: FrameMeter, error: str) -> dict[str, Any]:
    """The status values for a frame. `operator` may be None (no setlist, no operator attached)."""
    shown = operator.status() if operator is not None else {}
    cue = shown.get("cue", "")
    number = cue.split(" ", 1)[0]
    grid = getattr(features, "grid", None)
    return {
        "cue": cue,
        "cue_number": int(number) if number.isdigit() else 0,
        "cue_next": shown.get("cue_next", ""),
        "preset": shown.get("preset", ""),
        "bpm": round(float(getattr(features, "bpm", 0.0)), 2),
        "confidence": round(float(getattr(grid, "confidence", 0.0)), 2),
        "beat": int(getattr(features, "beat", 0)),
        "bar": int(getattr(features, "bar", 0)),
        "fps": round(meter.fps, 1),
        "dropped": meter.dropped,
        "error": error,
    }
