"""The `Features` snapshot: everything the analysis hears at one moment, immutable, handed to the renderer.

Units: levels, hits, presence, energy, onset are 0..1; `time` values are seconds; loudness is dBFS;
centroid is Hz. Flat names ("bass.level", "onset") are what presets bind and shaders read (as hl_bass_level).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BAND_FIELDS = ("level", "hits", "presence", "time")
SPECTRUM_BINS = 64
WAVEFORM_SAMPLES = 512


@dataclass(frozen=True)
class BandFeatures:
    level: float = 0.0  # auto-gain normalised, attack/release smoothed
    hits: float = 0.0  # transient spike with decay
    presence: float = 0.0  # slow level: is this band part of the music right now
    time: float = 0.0  # seconds that run faster while the band is loud


@dataclass(frozen=True)
class Onset:
    """An onset: `time` when it happened in the audio, `known_at` when the analysis knew it."""

    time: float
    known_at: float
    strength: float


@dataclass(frozen=True)
class Features:
    time: float  # audio time (s) of the last sample analysed
    bands: dict[str, BandFeatures]
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

    def values(self) -> dict[str, float]:
        """Flat name → value for modulation and shader uniforms."""
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
        return out


def silent_features(band_names: tuple[str, ...], time: float = 0.0) -> Features:
    return Features(time=time, bands={name: BandFeatures() for name in band_names})
