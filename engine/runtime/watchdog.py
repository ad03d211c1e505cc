"""The watchdog: a thread that notices when the frame loop stops beating and says where it is stuck.

The render thread calls `beat()` once a frame (one attribute write). The watchdog looks a few times a
second; when no beat came for `stall` seconds it logs the render thread's stack once for that stall (a
shader that takes seconds to draw, a blocking call that slipped in), and when the loop beats again it logs
how long the output was frozen. Stalls are counted and kept (bounded) for the show's summary. In a live
show it also hands freed heap memory back to the system now and then (engine/runtime/resources.py).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections import deque

from engine.runtime.resources import TRIM_EVERY, trim_heap

log = logging.getLogger(__name__)

STALL_SECONDS = 1.0
MAX_KEPT = 64  # the longest show keeps its latest stalls, not all of them


class Watchdog(threading.Thread):
    def __init__(
        self, thread: threading.Thread | None = None, stall: float = STALL_SECONDS, trim: bool = False
    ):
        """`thread`: the render thread to watch (default: the one creating the watchdog). `trim`: also
        hand the heap's freed memory back to the system every TRIM_EVERY seconds (a live show)."""
        super().__init__(name="halation-watchdog", daemon=True)
        self.trim = trim
        self.watched = thread or threading.current_thread()
        self.stall = stall
        self.stalls: deque[float] = deque(maxlen=MAX_KEPT)  # seconds each stall froze the output
        self.stall_count = 0
        self.last_stack = ""  # where the latest stall was stuck
        self._last_beat = time.monotonic()
        self._reported_at: float | None = None  # the beat time of the stall being reported
        self._halt = threading.Event()

    def beat(self) -> None:
        """A frame was finished (render thread; cheap)."""
        self._last_beat = time.monotonic()

    def run(self) -> None:
        trim_at = time.monotonic() + TRIM_EVERY
        while not self._halt.wait(min(0.25, self.stall / 4)):
            now = time.monotonic()
            self.check(now)
            if self.trim and now >= trim_at:  # the show's housekeeping, off the render thread
                trim_at = now + TRIM_EVERY
                trim_heap()

    def check(self, now: float) -> None:
        last = self._last_beat
        if self._reported_at is not None and last != self._reported_at:
            frozen = last - self._reported_at
            self.stalls.append(frozen)
            log.warning("the frame loop runs again after %.1f s frozen", frozen)
            self._reported_at = None
        if self._reported_at is None and now - last > self.stall:
            self._reported_at = last
            self.stall_count += 1
            self.last_stack = self._stack()
            stuck = now - last
            log.error("no frame finished for %.1f s; the render thread is here:\n%s", stuck, self.last_stack)

    def _stack(self) -> str:
        frame = sys._current_frames().get(self.watched.ident)
        return "".join(traceback.format_stack(frame, limit=12)) if frame is not None else "(no stack)"

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=1.0)
