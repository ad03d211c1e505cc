"""What the operator must hear when an action fails or does nothing: said once, when it happens.

A cue past the last, an unknown preset or address, a value out of range: each is one console line (a flood of
the same complaint is summarised, never repeated a thousand times), the preview's banner and
`/hl/status/error` for the desk. Any thread may report; the render thread and feedback read the last one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("halation")
REPEAT_SECONDS = 2.0  # the same complaint is logged at most this often (the rest are counted)
BANNER_SECONDS = 6.0  # how long the preview shows it


@dataclass(frozen=True)
class Notice:
    text: str
    at: float  # time.monotonic() when it was said
    number: int  # 1, 2, 3… so feedback can tell a repeat from a new one


class Notices:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Notice | None = None
        self._said: dict[str, tuple[float, int]] = {}  # key → (when last logged, how many held back)
        self.count = 0

    def error(self, text: str, key: str | None = None, *, logged_already: bool = False) -> None:
        """Report a failed or void operator action. `key` groups a flood (e.g. one per unknown address).
        `logged_already`: the console has it (a guarded stage logs its own failure): banner and desk only."""
        now = self._clock()
        key = key or text
        with self._lock:
            self.count += 1
            self._last = Notice(text, now, self.count)
            if logged_already:
                return
            logged, held = self._said.get(key, (-1e9, 0))
            if now - logged < REPEAT_SECONDS:
                self._said[key] = (logged, held + 1)
                return
            if len(self._said) > 256:  # a flood of distinct keys must not grow memory
                self._said.clear()
            self._said[key] = (now, 0)
        log.warning("%s%s", text, f" (and {held} more like it)" if held else "")

    @property
    def last(self) -> Notice | None:
        return self._last

    def banner(self) -> list[str]:
        """The preview's line for the last notice, while it is fresh."""
        last = self._last
        if last is None or self._clock() - last.at > BANNER_SECONDS:
            return []
        return [last.text]
