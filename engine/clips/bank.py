"""A clip bank and how it picks the next clip: in order, shuffled without repeats, or matched to the music's
energy (bright, busy clips when the music is loud; calm ones in a breakdown).

Picks are deterministic for a given seed and history, so a rehearsal render shows what the gig will show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from engine.clips.manifest import ClipEntry, load_manifest
from engine.errors import MediaError

POLICIES = ("sequential", "shuffle", "energy")


@dataclass(frozen=True)
class BankClip:
    name: str
    path: Path
    intensity: float  # 0..1 from motion and brightness, relative to the bank
    mode: str = "loop"  # how prepare said it loops
    tags: tuple[str, ...] = ()


def intensities(entries: list[ClipEntry]) -> list[float]:
    """Rank-normalised mix of motion (mostly) and brightness: 0 = calmest in the bank, 1 = busiest."""
    if not entries:
        return []

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        for rank, i in enumerate(order):
            out[i] = rank / max(1, len(values) - 1)
        return out

    motion = ranks([e.descriptors.get("motion", 0.0) for e in entries])
    light = ranks([e.descriptors.get("brightness", 0.0) for e in entries])
    return [0.7 * m + 0.3 * b for m, b in zip(motion, light, strict=True)]


def load_bank(folder: Path, tags: tuple[str, ...] = ()) -> list[BankClip]:
    """The prepared clips of a folder (clips.json), optionally only those with all the given tags."""
    manifest = load_manifest(folder)
    entries = [e for e in manifest.clips.values() if set(tags) <= set(e.tags)]
    entries = [e for e in sorted(entries, key=lambda e: e.name) if (folder / e.file).is_file()]
    if not entries:
        raise MediaError("no prepared clips here (run `halation prepare SRC --out FOLDER`)", path=folder)
    return [
        BankClip(e.name, folder / e.file, i, e.loop.get("mode", "loop"), tuple(e.tags))
        for e, i in zip(entries, intensities(entries), strict=True)
    ]


class Selector:
    def __init__(self, clips: list[BankClip], policy: str = "sequential", seed: int = 0):
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}")
        self.clips = clips
        self.policy = policy
        self._rng = random.Random(seed)
        self._order: list[int] = []
        self._last: int | None = None

    def next(self, energy: float = 0.5) -> BankClip:
        """The clip to play next; `energy` (0..1, the analysis' energy value) steers the energy policy."""
        n = len(self.clips)
        if self.policy == "sequential":
            index = 0 if self._last is None else (self._last + 1) % n
        elif self.policy == "shuffle":
            if not self._order:
                self._order = list(range(n))
                self._rng.shuffle(self._order)
                if n > 1 and self._order[-1] == self._last:  # no repeat across reshuffles
                    self._order[0], self._order[-1] = self._order[-1], self._order[0]
            index = self._order.pop()
        else:
            candidates = [i for i in range(n) if i != self._last] or [0]
            index = min(candidates, key=lambda i: (abs(self.clips[i].intensity - energy), i))
        self._last = index
        return self.clips[index]


@dataclass(frozen=True)
class AutoAdvance:
    """When to move on: every N bars, and/or when a drop is detected (energy jumping above a threshold)."""

    bars: int | None = 8
    on_drop: bool = True
    drop_threshold: float = 0.65

    def due(self, bar: int, last_bar: int, energy: float, previous_energy: float) -> bool:
        if self.bars and bar - last_bar >= self.bars:
            return True
        return self.on_drop and previous_energy < self.drop_threshold <= energy
