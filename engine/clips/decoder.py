"""One decode worker per active clip: decodes the frames the player will need next into a bounded cache,
off the render thread (PyAV and snappy release the GIL, so workers scale over cores).

A frame that cannot be read (the file was truncated, overwritten or removed under the show) is marked bad
and never retried; the worker goes on with the other frames, and the deck keeps showing its last good one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np

from engine.clips.faults import ClipFaults
from engine.clips.sources import FrameSource

log = logging.getLogger(__name__)


class DecodeWorker:
    """The render thread says which frames it wants next (`want`) and takes them (`get`) without waiting.

    The cache holds at most `capacity` frames; frames no longer wanted are dropped first, so memory stays
    bounded however long the show runs.
    """

    def __init__(self, source: FrameSource, capacity: int = 8, faults: ClipFaults | None = None):
        self.source = source
        self.capacity = capacity
        self.faults = faults
        self.bad: set[int] = set()  # frames that failed to decode (not retried)
        self.error: str | None = None  # the first failure, as the operator was told
        self._cache: OrderedDict[int, bytes | np.ndarray] = OrderedDict()
        self._wanted: tuple[int, ...] = ()
        self._cond = threading.Condition()
        self._running = True
        self.misses = 0  # frames the render thread needed that were not decoded yet
        self._thread = threading.Thread(target=self._run, name="halation-clip", daemon=True)
        self._thread.start()

    def want(self, indices: tuple[int, ...]) -> None:
        """The frames needed next, most urgent first (the current one, then the ones after it)."""
        indices = tuple(dict.fromkeys(i % self.source.frame_count for i in indices))[: self.capacity]
        with self._cond:
            if indices != self._wanted:
                self._wanted = indices
                self._cond.notify_all()

    def get(self, index: int, wait: float = 0.0) -> bytes | np.ndarray | None:
        """The decoded frame if it is ready, else None (the caller keeps showing its last frame).

        `wait` > 0 blocks up to that many seconds: offline renders wait so their frames are deterministic.
        """
        index %= self.source.frame_count
        with self._cond:
            if wait > 0 and index not in self._cache:
                if index not in self._wanted:
                    self._wanted = (index, *self._wanted)[: self.capacity]
                    self._cond.notify_all()
                self._cond.wait_for(
                    lambda: index in self._cache or index in self.bad or not self._running, timeout=wait
                )
            frame = self._cache.get(index)
        if frame is None:
            self.misses += 1
        return frame

    def _next_job(self) -> int | None:
        with self._cond:
            while self._running:
                missing = [i for i in self._wanted if i not in self._cache and i not in self.bad]
                if missing:
                    return missing[0]
                self._cond.wait()
        return None

    def _run(self) -> None:
        while (index := self._next_job()) is not None:
            try:
                frame = self.source.read(index)
            except Exception as exc:  # a damaged frame: the deck holds its last good frame
                self._failed(index, exc)
                continue
            with self._cond:
                self._cache[index] = frame
                self._cond.notify_all()
                for old in [i for i in self._cache if i not in self._wanted]:
                    if len(self._cache) <= self.capacity:
                        break
                    del self._cache[old]

    def _failed(self, index: int, exc: Exception) -> None:
        with self._cond:
            self.bad.add(index)
            first = self.error is None
            if first:
                self.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._cond.notify_all()  # an offline render waiting for this frame stops waiting
        if first:
            path = getattr(self.source, "path", None)
            message = f"{self.error}; the deck keeps its last good frame"
            if self.faults is not None:
                self.faults.report(path, message, kind="decode")
            else:
                log.warning("clip %s: %s", path, message)

    @property
    def broken(self) -> bool:
        """Some frame failed: the file changed under the show."""
        return self.error is not None

    def ready(self, index: int) -> bool:
        with self._cond:
            return index % self.source.frame_count in self._cache

    def close(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self.source.close()
