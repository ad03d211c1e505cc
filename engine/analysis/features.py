"""The `Features` snapshot: everything the analysis hears at one moment, immutable, handed to the renderer.

Units: levels, hits, presence, energy, onset are 0..1; `time` values are seconds; loudness is dBFS;
centroid is Hz; bpm is beats per minute. Flat names ("bass.level", "beat_phase") are what presets bind and
shaders read (as hl_bass_level, hl_beat_phase). docs/listening.md describes every value.

The musical clock is a `BeatGrid` (last and next beat, tempo, bar): `values(at)` evaluates it at any audio
time, so the render thread gets beat phases for the frame's own time, ahead of the analysis if need be.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from engine.analysis.structure import StructureState

BAND_FIELDS = ("level", "hits", "presence", "time")
SPECTRUM_BINS = 64
WAVEFORM_SAMPLES = 512
ON_BEAT_DECAY = 0.1  # seconds: how fast the on_beat / downbeat spikes fall
# BPM-locked oscillators: name suffix → cycles per beat (×1, ×½, ×¼, ×2)
LFO_RATES = {"": 1.0, "_half": 0.5, "_quarter": 0.25, "_double": 2.0}


@dataclass(frozen=True)
class BandFeatures:
    level: float = 0.0  # auto-gain normalised, attack/release smoothed
    hits: float = 0.0  # transient spike with decay
    presence: float = 0.0  # slow level: is this band part of the music right now
    time: float = 0.0  # seconds that run faster while the band is loud


class Bands(Mapping[str, BandFeatures]):
    """A snapshot's bands, name → BandFeatures, each made when it is first read. The analysis takes a
    snapshot every hop (~190 a second) and the renderer reads one a frame: building six BandFeatures per hop
    was a twentieth of the analysis chain's cost, for values most hops' snapshots never show."""

    __slots__ = ("_made", "_names", "_rows")

    def __init__(self, names: tuple[str, ...], rows: tuple[tuple[float, ...], ...]):
        self._names = names  # band names, in order
        self._rows = rows  # per band field (BAND_FIELDS order), the value of every band
        self._made: dict[str, BandFeatures] = {}

    def __getitem__(self, name: str) -> BandFeatures:
        band = self._made.get(name)
        if band is None:
            if name not in self._names:
                raise KeyError(name)
            i = self._names.index(name)
            band = self._made[name] = BandFeatures(*(row[i] for row in self._rows))
        return band

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return repr(dict(self.items()))


@dataclass(frozen=True)
class Onset:
    """An onset: `time` when it happened in the audio, `known_at` when the analysis knew it."""

    time: float
    known_at: float
    strength: float
    band: str = ""  # which detector heard it: "low" (kick, bass) or "high" (snare, hats, notes)
    attack: bool = True  # a new attack: over ATTACK_GAP (30 ms) after the last attack of any band (a kick
    # with a hat, a chord, a flam's grace note and its stroke are one attack, heard by both bands or twice)


@dataclass(frozen=True)
class BeatGrid:
    """The beat as the analysis predicts it: the beat numbered `count` falls at `next_beat` (audio seconds),
    the one before it fell at `last_beat`, and beats continue every 60/bpm seconds after that."""

    bpm: float = 0.0  # 0 until a tempo is known
    confidence: float = 0.0  # 0..1
    last_beat: float = 0.0
    next_beat: float = 0.0
    count: int = 0  # number of the beat at next_beat (the first beat of the stream is 0)
    beats_per_bar: int = 4
    downbeat: int = 0  # beats whose number ≡ this (mod beats_per_bar) start a bar
    locked: bool = False  # the operator holds the tempo (manual BPM or lock)
    runner_up: float = 0.0  # the metrical level with the most evidence after `bpm` (BPM; 0: none)
    runner_up_share: float = 0.0  # its evidence over the tempo's, 0..1 (near 1: a dancer may tap either)

    @property
    def period(self) -> float:
        return 60.0 / self.bpm if self.bpm > 0 else 0.0

    def beat_position(self, at: float) -> tuple[int, float]:
        """(number of the beat at or before `at`, fraction 0..1 of the way to the next beat)."""
        if self.bpm <= 0:
            return 0, 0.0
        if self.last_beat <= at < self.next_beat:
            return self.count - 1, (at - self.last_beat) / (self.next_beat - self.last_beat)
        beats = (at - self.next_beat) / self.period
        whole = math.floor(beats)
        return self.count + whole, beats - whole

    def values(self, at: float) -> dict[str, float]:
        """The musical-clock values at audio time `at` (see docs/listening.md)."""
        out = dict.fromkeys(CLOCK_NAMES, 0.0)
        out["bpm_confidence"] = self.confidence
        out["beats_per_bar"] = float(self.beats_per_bar)
        if self.bpm <= 0:
            return out
        count, phase = self.beat_position(at)
        n = self.beats_per_bar
        in_bar = (count - self.downbeat) % n
        since_beat = phase * self.period
        out.update(
            bpm=self.bpm,
            beat_phase=phase,
            beat_count=float(count),
            bar_phase=(in_bar + phase) / n,
            bar_beat=float(in_bar),
            bar_count=float((count - self.downbeat) // n),
            on_beat=math.exp(-since_beat / ON_BEAT_DECAY),
            downbeat=math.exp(-since_beat / ON_BEAT_DECAY) if in_bar == 0 else 0.0,
            toggle_beat=float(count % 2),
            random_beat=_unit_hash(count),
            tempo_locked=float(self.locked),
            bpm_runner_up=self.runner_up,
            bpm_runner_up_ratio=self.runner_up / self.bpm,
            bpm_runner_up_share=self.runner_up_share,
        )
        beats_in_bar = in_bar + phase
        for suffix, rate in LFO_RATES.items():
            cycle = (beats_in_bar * rate) % 1.0
            out["beat_sine" + suffix] = 0.5 + 0.5 * math.cos(2.0 * math.pi * cycle)
            out["beat_tri" + suffix] = 1.0 - 2.0 * min(cycle, 1.0 - cycle)
            out["beat_saw" + suffix] = cycle
        return out


CLOCK_NAMES = (
    "bpm",
    "bpm_confidence",
    "beat_phase",
    "beat_count",
    "bar_phase",
    "bar_beat",
    "bar_count",
    "on_beat",
    "downbeat",
    "toggle_beat",
    "random_beat",
    "tempo_locked",
    "beats_per_bar",
    "bpm_runner_up",
    "bpm_runner_up_ratio",
    "bpm_runner_up_share",
    *(f"beat_{shape}{suffix}" for shape in ("sine", "tri", "saw") for suffix in LFO_RATES),
)


def _unit_hash(n: int) -> float:
    """A fixed pseudo-random value in 0..1 per beat number (same on every run and machine)."""
    x = (n * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    return x / 0xFFFFFFFF


@dataclass(frozen=True)
class Features:
    time: float  # audio time (s) of the last sample analysed
    bands: Mapping[str, BandFeatures]  # a dict, or the analysis's Bands (made when read)
    rms: float = 0.0
    loudness: float = -120.0
    centroid: float = 0.0
    flux: float = 0.0
    energy: float = 0.5  # short-term loudness against the last ~30 s: 0.5 steady, →1 at a drop
    silence: bool = True
    onset: float = 0.0  # spike on each onset, decaying
    onset_count: int = 0
    spectrum: np.ndarray = field(default_factory=lambda: np.zeros(SPECTRUM_BINS, np.float32))
    waveform: np.ndarray = field(default_factory=lambda: np.zeros(WAVEFORM_SAMPLES, np.float32))
    grid: BeatGrid = field(default_factory=BeatGrid)
    structure: StructureState = field(default_factory=StructureState)  # the song's form (structure.py)

    @property
    def bpm(self) -> float:
        """The tempo (0 until one is known)."""
        return self.grid.bpm

    @property
    def beat(self) -> int:
        """Number of the beat at this snapshot's time."""
        return self.grid.beat_position(self.time)[0] if self.grid.bpm > 0 else 0

    @property
    def bar(self) -> int:
        """Number of the bar at this snapshot's time."""
        return (self.beat - self.grid.downbeat) // self.grid.beats_per_bar if self.grid.bpm > 0 else 0

    def values(self, at: float | None = None) -> dict[str, float]:
        """Flat name → value for modulation and shader uniforms, beat values at audio time `at` (default:
        this snapshot's time). Pass the frame's time so beats land on the frame they fall in."""
        out: dict[str, float] = {
            "rms": self.rms,
            "loudness": self.loudness,
            "centroid": self.centroid,
            "flux": self.flux,
            "energy": self.energy,
            "silence": float(self.silence),
            "onset": self.onset,
            "onset_count": float(self.onset_count),
            "audio_time": self.time,
        }
        for name, band in self.bands.items():
            out[f"{name}.level"] = band.level
            out[f"{name}.hits"] = band.hits
            out[f"{name}.presence"] = band.presence
            out[f"{name}.time"] = band.time
        out.update(self.grid.values(self.time if at is None else at))
        out.update(self.structure.values(self.grid, self.time if at is None else at))
        return out


def silent_features(band_names: tuple[str, ...], time: float = 0.0) -> Features:
    return Features(time=time, bands={name: BandFeatures() for name in band_names})
