"""Whole songs with exact sections, from the demo synthesizer's voices (engine/audio/synth.py).

Why: the structure tracker and the autopilot are measured against sections that are known to the sample.
A song is a plan of sections (intro, groove, build-up, drop, breakdown, outro) of whole bars; each kind
is arranged the way dance music arranges it, so what changes at a boundary is what changes in real tracks:
the kick and bass come in at a drop and go at a breakdown, a build-up has a snare roll and a riser over no
kick, and the drop is the loudest part.
"""

from __future__ import annotations

import numpy as np

from engine.audio.synth import (
    CHORDS,
    Section,
    Track,
    _bass_note,
    _crash,
    _duck,
    _Grid,
    _hat,
    _kick,
    _lowpass2,
    _master,
    _midi_hz,
    _pad_chord,
    _pan,
    _place,
    _pluck,
    _riser,
    _snare,
    _times,
)

KINDS = ("intro", "groove", "buildup", "drop", "breakdown", "outro")
LEVELS = {"intro": 0.7, "groove": 0.85, "buildup": 0.8, "drop": 1.0, "breakdown": 0.6, "outro": 0.75}

# Forms a DJ would recognise; the bench plays each at a few tempi.
FORMS: dict[str, tuple[tuple[str, int], ...]] = {
    "edm": (
        ("intro", 16),
        ("groove", 16),
        ("buildup", 8),
        ("drop", 16),
        ("breakdown", 16),
        ("buildup", 8),
        ("drop", 32),
        ("outro", 8),
    ),
    "house": (("intro", 16), ("groove", 32), ("breakdown", 16), ("groove", 32), ("outro", 16)),
    "short": (
        ("intro", 8),
        ("groove", 8),
        ("buildup", 4),
        ("drop", 8),
        ("breakdown", 8),
        ("buildup", 4),
        ("drop", 8),
        ("outro", 4),
    ),
}


def song(
    plan: tuple[tuple[str, int], ...] = FORMS["edm"],
    bpm: float = 128.0,
    sample_rate: int = 48000,
    seed: int = 0,
) -> Track:
    """Render a song of `plan` (section kind, bars of 4/4) at `bpm`; the Track's sections are exact."""
    unknown = [kind for kind, _ in plan if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown section kind {unknown[0]!r}; choose from {', '.join(KINDS)}")
    sr = sample_rate
    grid = _Grid(float(bpm), sr)
    rng = np.random.default_rng(seed)
    bar_kinds = [kind for kind, bars in plan for _ in range(bars)]
    total = len(bar_kinds)
    n = grid.index(total * 4)
    voices = _Voices(sr, rng, grid)
    sections, bar = [], 0
    for kind, bars in plan:
        sections.append(Section(kind, grid.time(bar * 4), grid.time((bar + bars) * 4)))
        bar += bars
    drums, bass, pad, lead, fx = (np.zeros((n, 2)) for _ in range(5))
    kicks: list[float] = []
    snares: list[float] = []
    hats: list[float] = []
    starts = {s.start for s in sections}
    for b, kind in enumerate(bar_kinds):
        b0 = 4 * b
        first = grid.time(b0) in starts
        within = b - next(i for i in range(b, -1, -1) if grid.time(4 * i) in starts)
        length = next(
            bars for (k, bars), s in zip(plan, sections, strict=True) if s.start <= grid.time(b0) < s.end
        )
        _, notes, root = CHORDS[b % 4]
        _place(pad, voices.pad(b % 4, kind, within, length), grid.index(b0))
        if kind in ("intro", "groove", "drop", "outro"):
            for q in range(4):
                _place(drums, voices.kick, grid.index(b0 + q))
                kicks.append(b0 + q)
        if kind in ("groove", "drop"):
            for q in (1, 3):
                _place(drums, voices.snare, grid.index(b0 + q), 0.55)
                snares.append(b0 + q)
            for q in range(4):
                _place(bass, voices.bass(root, kind == "drop"), grid.index(b0 + q + 0.5), 1.2)
        if kind == "buildup":  # a snare roll that doubles its rate halfway, then again in the last bar
            step = 1.0 if within < length // 2 else 0.5 if within < length - 1 else 0.25
            for s in np.arange(0.0, 4.0, step):
                _place(drums, voices.snare, grid.index(b0 + s), 0.25 + 0.35 * (within + 1) / length)
                snares.append(b0 + s)
        if kind in ("intro", "groove", "drop", "outro", "buildup"):
            for e in range(8):
                open_ = kind == "drop" and e % 2 == 1
                _place(
                    drums, _pan(voices.hat_open if open_ else voices.hat, 0.2), grid.index(b0 + e * 0.5), 0.3
                )
                hats.append(b0 + e * 0.5)
        if kind == "drop":
            if first:
                _place(drums, voices.crash, grid.index(b0), 1.0)
            for s in range(8):
                m = notes[s % len(notes)] + 12
                _place(lead, _pan(voices.pluck(m), -0.4 if s % 2 else 0.4), grid.index(b0 + s * 0.5), 0.2)
    for s in sections:
        if s.name == "buildup":
            i0, i1 = round(s.start * sr), round(s.end * sr)
            fx[i0:i1] += _riser(i1 - i0, sr, rng) * 0.35
    duck = _duck(n, [grid.index(k) for k in kicks], sr)[:, None]
    level = np.array([LEVELS[k] for k in bar_kinds])
    gain = np.interp(np.arange(n) / grid.index(4), np.arange(total) + 0.5, level)[:, None]
    mix = (drums * 0.9 + bass * duck * 0.55 + pad * (duck * 0.6 + 0.4) * 0.8 + lead * duck + fx) * gain
    beats = np.array([grid.time(k) for k in range(total * 4)])
    return Track(
        samples=_master(mix),
        sample_rate=sr,
        bpm=float(bpm),
        beats=beats,
        downbeats=beats[::4].copy(),
        kicks=_times(grid, kicks),
        snares=_times(grid, snares),
        hats=_times(grid, hats),
        sections=tuple(sections),
    )


class _Voices:
    """One-shot templates, rendered once per song (and cached per note or filter setting)."""

    def __init__(self, sr: int, rng: np.random.Generator, grid: _Grid):
        self.sr = sr
        self.rng = rng
        self.kick = _kick(sr, rng)
        self.snare = _snare(sr, rng)
        self.hat = _hat(sr, rng, 0.028, 0.1)
        self.hat_open = _hat(sr, rng, 0.16, 0.4)
        self.crash = _crash(sr, rng)
        self._bar = grid.index(4)
        self._xf = int(0.05 * sr)
        self._chords = [_pad_chord(c[1], self._bar + 2 + self._xf, sr, rng) for c in CHORDS]
        self._cache: dict[tuple, np.ndarray] = {}

    def _cached(self, key: tuple, make) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def pad(self, chord: int, kind: str, within: int, length: int) -> np.ndarray:
        """A bar of pad: filtered low in the intro, opening up through a breakdown, bright in a drop."""
        if kind == "breakdown":
            cutoff = round(400.0 * 2.0 ** (2.5 * within / max(1, length)), -1)
        else:
            cutoff = {"intro": 800.0, "groove": 1500.0, "buildup": 1200.0, "drop": 2600.0, "outro": 900.0}[
                kind
            ]
        gain = 1.6 if kind == "breakdown" else 1.0

        def make() -> np.ndarray:
            raw = self._chords[chord]
            fade = np.ones(raw.shape[0])
            fade[: self._xf] = np.linspace(0.0, 1.0, self._xf)
            fade[-self._xf :] = np.linspace(1.0, 0.0, self._xf)
            return _lowpass2(raw, cutoff, self.sr) * fade[:, None] * gain

        return self._cached(("pad", chord, cutoff, gain), make)

    def bass(self, midi: int, full: bool) -> np.ndarray:
        return self._cached(("bass", midi, full), lambda: _bass_note(_midi_hz(midi), 0.17, self.sr, full))

    def pluck(self, midi: int) -> np.ndarray:
        return self._cached(("pluck", midi), lambda: _pluck(_midi_hz(midi), self.sr, self.rng))
