"""One decode worker per active clip: decodes the frames the player will need next into a bounded cache,
off the render thread (PyAV and snappy release the GIL, so workers scale over cores)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import numpy as np

from engine.clips.sources import FrameSource

log = logging.getLogger(__name__)


class DecodeWorker:
    """The render thread says which frames it wants next (`want`) and takes them (`get`) without waiting.

    The cache holds at most `capacity` frames; frames no longer wanted are dropped first, so memory stays
    bounded however long the show runs.
    """

    def __init__(self, source: FrameSource, capacity: int = 8):
        self.source = source
        self.capacity = capacity
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
                self._cond.notify()

    def get(self, index: int) -> bytes | np.ndarray | None:
        """The decoded frame if it is ready, else None (the caller keeps showing its last frame)."""
        with self._cond:
            frame = self._cache.get(index % self.source.frame_count)
        if frame is None:
            self.misses += 1
        return frame

    def _next_job(self) -> int | None:
        with self._cond:
            while self._running:
                missing = [i for i in self._wanted if i not in self._cache]
                if missing:
                    return missing[0]
                self._cond.wait()
        return None

    def _run(self) -> None:
        while (index := self._next_job()) is not None:
            try:
                frame = self.source.read(index)
            except Exception as exc:  # a damaged frame: stop decoding, the deck holds its last frame
                log.warning("clip decoding stopped at frame %d: %s", index, exc)
                return
            with self._cond:
                self._cache[index] = frame
                for old in [i for i in self._cache if i not in self._wanted]:
                    if len(self._cache) <= self.capacity:
                        break
                    del self._cache[old]

    def ready(self, index: int) -> bool:
        with self._cond:
            return index % self.source.frame_count in self._cache

    def close(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join(timeout=2.0)
        self.source.close()
