"""Guarded stages: an exception in one stage of a frame bypasses that stage for the frame, never the show.

Every stage of a frame (control drain, operator actions, tempo commands, the preset watcher, modulation,
each pipeline layer and effect, each output sink) runs inside `with guards.stage(name):`. A failure is
swallowed, counted, logged once per distinct message (with the stage's name and the traceback), kept as
the latest error for `/hl/status/error` and the preview banner, and, for stages that ask for it, the stage
is skipped for a while before it is retried (a sink that raised is not hammered every frame).

Only `Exception` is caught: Ctrl-C and SystemExit still end the show, because the operator asked.
The analysis thread records its failures here too, so the counters take a lock (only on failure).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

BANNER_SECONDS = 5.0  # a stage's error stays on the preview this long after it last failed
MAX_LOGGED = 256  # distinct (stage, message) pairs remembered for log-once; older ones may log again


@dataclass(frozen=True)
class StageError:
    """One failure as the operator sees it."""

    stage: str
    message: str  # "ZeroDivisionError: float division by zero"
    at: float  # time.monotonic() of the latest occurrence
    count: int  # how many times this stage has failed

    def __str__(self) -> str:
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.stage}: {self.message}{times}; bypassed, the show goes on"


class Stage:
    """A reusable guard for one named stage: `with stage:` swallows an Exception raised inside it.

    After the block, `ok` says whether it ran through. `skip()` is True while the stage is in its back-off
    (set with `backoff` seconds: the first retry waits that long, doubling up to `max_backoff`)."""

    __slots__ = ("_failing", "_retry_at", "_wait", "backoff", "guards", "max_backoff", "name", "ok")

    def __init__(self, guards: Guards, name: str, backoff: float = 0.0, max_backoff: float = 8.0):
        self.guards = guards
        self.name = name
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.ok = True
        self._failing = False
        self._retry_at = 0.0
        self._wait = backoff

    def skip(self) -> bool:
        """True while a stage that failed waits before its retry."""
        return self._retry_at > 0.0 and time.monotonic() < self._retry_at

    def __enter__(self) -> Stage:
        self.ok = True
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None:
            if self._failing:
                self._failing = False
                self._retry_at = 0.0
                self._wait = self.backoff
                self.guards.recovered(self.name)
            return False
        if not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, SystemExit: the operator's
        self.ok = False
        fresh, self._failing = not self._failing, True
        self.guards.record(self.name, exc, fresh=fresh)
        if self.backoff > 0.0:
            self._retry_at = time.monotonic() + self._wait
            self._wait = min(self.max_backoff, self._wait * 2.0)
        return True


class Guards:
    """The show's guards: one `Stage` per name, failure counts, and the errors to show the operator."""

    def __init__(self):
        self._stages: dict[str, Stage] = {}
        self._lock = threading.Lock()
        self._logged: dict[tuple[str, str], None] = {}
        self._errors: dict[str, StageError] = {}
        self.counts: dict[str, int] = {}
        self.total = 0
        self.last_error: StageError | None = None
        # told of a stage that starts failing (the show's operator notices: /hl/status/error), any thread
        self.on_failure: Callable[[StageError], None] | None = None

    def stage(self, name: str, *, backoff: float = 0.0) -> Stage:
        """The guard for `name` (made once, then reused every frame: no allocation on the frame path)."""
        stage = self._stages.get(name)
        if stage is None:
            stage = self._stages[name] = Stage(self, name, backoff)
        return stage

    def record(self, stage: str, exc: BaseException, fresh: bool = True) -> None:
        """Count a failure; log it once per distinct message, with where it happened. `fresh`: the stage
        ran through before this (a failure that starts now, or a new message, is told to `on_failure`)."""
        message = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        with self._lock:
            self.total += 1
            count = self.counts[stage] = self.counts.get(stage, 0) + 1
            error = StageError(stage, message, time.monotonic(), count)
            self._errors[stage] = error
            self.last_error = error
            key = (stage, message)
            first = key not in self._logged
            if first:
                if len(self._logged) >= MAX_LOGGED:
                    self._logged.pop(next(iter(self._logged)))
                self._logged[key] = None
        if first:
            where = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4))
            log.error("%s failed: %s (bypassed for this frame; the show goes on)\n%s", stage, message, where)
        if (first or fresh) and self.on_failure is not None:
            self.on_failure(error)

    def recovered(self, stage: str) -> None:
        """A stage that had failed ran through again (its banner goes a few seconds after its last
        failure, so a stage that fails every other frame does not flicker on the preview)."""
        log.info("%s runs again", stage)

    def errors(self, now: float | None = None) -> tuple[StageError, ...]:
        """The stages that failed in the last few seconds, for the preview banner."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return tuple(e for e in self._errors.values() if now - e.at <= BANNER_SECONDS)

    def clear(self, prefix: str) -> None:
        """Forget the errors of stages whose name starts with `prefix` (a recalled look's old layers)."""
        with self._lock:
            for name in [n for n in self._errors if n.startswith(prefix)]:
                del self._errors[name]
