"""The hand-off from receive threads to the render thread, and bundles held until their show time.

Values coalesce per parameter: a fader that sends a thousand positions a second needs only the newest one
per frame, so memory is bounded by the number of parameters, not by the traffic. Commands keep their order
in a bounded queue. Timed bundles wait in a bounded heap keyed by show time (audio time), never by sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.control.commands import ControlCommand
from engine.control.stats import Counters
from engine.params.store import ParamMessage, ParamValue

Effect = ParamMessage | ControlCommand


class ShowTimeMap:
    """Maps wall-clock time (OSC timetags) to show time, from what the render thread last published."""

    def __init__(self, wall: Callable[[], float] = time.time, mono: Callable[[], float] = time.monotonic):
        self._wall = wall
        self._mono = mono
        self._anchor = (0.0, mono(), wall())  # (show time, monotonic, wall) at the last published frame

    def observe(self, show_time: float) -> None:
        self._anchor = (show_time, self._mono(), self._wall())

    def now(self) -> float:
        show, mono, _ = self._anchor
        return show + (self._mono() - mono)

    def show_time_of(self, unix_time: float) -> float:
        show, _, wall = self._anchor
        return show + (unix_time - wall)


@dataclass
class Batch:
    """What one frame collects: the newest value per parameter and the commands in order."""

    values: list[ParamMessage] = field(default_factory=list)
    commands: list[ControlCommand] = field(default_factory=list)
    represented: int = 0  # messages these values stand for (coalesced ones included)


class Inbox:
    """Thread-safe: any thread puts, the render thread takes once a frame."""

    def __init__(
        self,
        counters: Counters | None = None,
        clock: ShowTimeMap | None = None,
        max_commands: int = 1024,
        max_scheduled: int = 8192,
        horizon: float = 3600.0,
    ):
        self.counters = counters or Counters()
        self.clock = clock or ShowTimeMap()
        self.max_scheduled = max_scheduled
        self.horizon = horizon
        self._values: dict[str, ParamValue] = {}
        self._represented = 0
        self._commands: deque[ControlCommand] = deque()
        self._max_commands = max_commands
        self._scheduled: list[tuple[float, int, Effect]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.last_put = 0.0  # monotonic time of the newest value or command (for latency checks)

    def put(self, effect: Effect) -> None:
        with self._lock:
            self._put(effect)

    def _put(self, effect: Effect) -> None:
        self.last_put = time.monotonic()
        if isinstance(effect, ParamMessage):
            self._values[effect.name] = effect.value
            self._represented += 1
        elif len(self._commands) < self._max_commands:
            self._commands.append(effect)
        else:
            self.counters.add("commands-overflow")

    def schedule(self, unix_time: float, effects: list[Effect]) -> bool:
        """Hold effects until the show reaches a bundle's time (at once if it has); False if refused."""
        due = self.clock.show_time_of(unix_time)
        ahead = due - self.clock.now()
        if ahead <= 0:
            with self._lock:
                for effect in effects:
                    self._put(effect)
            return True
        if ahead > self.horizon:
            self.counters.add("too-far-ahead", len(effects))
            return False
        with self._lock:
            if len(self._scheduled) + len(effects) > self.max_scheduled:
                self.counters.add("schedule-full", len(effects))
                return False
            for effect in effects:
                heapq.heappush(self._scheduled, (due, next(self._seq), effect))
        self.counters.add("scheduled", len(effects))
        return True

    def take(self) -> Batch:
        """Everything due by now (render thread, start of a frame)."""
        now = self.clock.now()
        with self._lock:
            while self._scheduled and self._scheduled[0][0] <= now:
                self._put(heapq.heappop(self._scheduled)[2])
            values, self._values = self._values, {}
            represented, self._represented = self._represented, 0
            commands = list(self._commands)
            self._commands.clear()
        batch = Batch([ParamMessage(n, v) for n, v in values.items()], commands, represented)
        if represented:
            self.counters.add("applied", represented)
        if commands:
            self.counters.add("commands", len(commands))
        return batch

    def pending(self) -> int:
        with self._lock:
            return len(self._values) + len(self._commands) + len(self._scheduled)
