"""Counters the operator (and the tests) read: packets, messages, and every rejection by reason."""

from __future__ import annotations

import threading
from collections import Counter

# Names that are not rejections; every other counter is one.
ACCEPTED = ("packets", "messages", "applied", "commands", "scheduled", "replies", "feedback")


class Counters:
    """Named counts shared by the receive threads; each add is one short lock."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def add_two(self, first: str, second: str, n: int) -> None:
        """One `first` and n `second` under one lock (a packet and its messages)."""
        with self._lock:
            self._counts[first] += 1
            self._counts[second] += n

    def __getitem__(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def rejected(self) -> dict[str, int]:
        return {k: v for k, v in self.snapshot().items() if k not in ACCEPTED and v}

    def summary(self) -> str:
        snap = self.snapshot()
        rejected = self.rejected()
        text = (
            f"{snap.get('packets', 0)} packets, {snap.get('messages', 0)} messages, "
            f"{snap.get('applied', 0)} values and {snap.get('commands', 0)} commands handed to the show"
        )
        if rejected:
            text += "; rejected: " + ", ".join(f"{k} {v}" for k, v in sorted(rejected.items()))
        return text
