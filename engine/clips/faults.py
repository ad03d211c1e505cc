"""Clip faults the operator must hear about, once: a clip missing, unreadable, truncated or damaged under
the show. Decks never stop for them: they keep their last good frame and the bank moves on."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
MAX_REMEMBERED = 512  # distinct faults remembered for say-once; a longer show may hear an old one again


class ClipFaults:
    """Thread-safe: decode workers report from their threads; the render thread drains the new ones."""

    def __init__(self, sink: Callable[[str], None] | None = None):
        self._lock = threading.Lock()
        self._said: dict[tuple[str, str], None] = {}
        self._new: deque[str] = deque(maxlen=32)
        self.sink = sink  # where the operator hears it (the show's guards: the banner…); else the log

    def report(self, path: Path | str | None, problem: str, kind: str = "") -> bool:
        """Say it once per clip and kind of problem (`kind` groups e.g. every frame of one truncation);
        True when it was new."""
        key = (str(path), kind or problem)
        with self._lock:
            if key in self._said:
                return False
            if len(self._said) >= MAX_REMEMBERED:
                self._said.pop(next(iter(self._said)))
            self._said[key] = None
            text = f"clip {Path(path).name if path else '?'}: {problem}"
            self._new.append(text)
        if self.sink is not None:
            self.sink(text)
        else:
            log.warning("%s", text)
        return True

    def drain(self) -> list[str]:
        """The faults reported since the last call (for the preview banner and /hl/status/error)."""
        with self._lock:
            new, self._new = list(self._new), deque(maxlen=32)
        return new
