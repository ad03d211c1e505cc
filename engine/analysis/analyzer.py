"""The analyzer: causal, hop by hop, identical live and offline.

Feed it mono samples in any chunk size; it processes every complete hop (FFT, bands, onsets, tempo, beat)
and keeps running state. `snapshot()` builds the immutable `Features` the renderer reads. The result does
not depend on how the samples were chunked: the per-hop arithmetic is the same whether a call brings one
hop (live) or a whole file (offline).

Operator tempo controls arrive from other threads through `command()` (a queue) and are applied by the
analysis thread before the next hop, so the clock is only ever touched by one thread.
"""

from __future__ import annotations

import math
import queue
from collections import deque

import numpy as np

from engine.analysis.bands import DEFAULT_BANDS, BandTracker, coeff
from engine.analysis.beatclock import BeatClock, ClockSettings, ClockSetup, TempoCommand
from engine.analysis.beats import Beat
from engine.analysis.features import (
    SPECTRUM_BINS,
    WAVEFORM_SAMPLES,
    BandFeatures,
    Features,
    Onset,
)
from engine.analysis.harmony import Chroma
from engine.analysis.odf import ACCENT_BANDS, Accent, LinearRise, SpectralFlux, bin_range
from engine.analysis.onsets import OnsetDetector
from engine.analysis.structure import StructureEvent, StructureTracker

SILENCE_DB = -60.0
MAX_PENDING_EVENTS = 4096


def log_bin_matrix(n_out: int, fft_size: int, sample_rate: int, lo=30.0, hi=16000.0) -> np.ndarray:
    """(n_out, bins) averaging weights for a log-frequency spectrum (what the eye expects of an analyser)."""
    freqs = np.fft.rfftfreq(fft_size, 1.0 / sample_rate)
    edges = np.geomspace(lo, hi, n_out + 1)
    m = np.zeros((n_out, len(freqs)), np.float32)
    for i in range(n_out):
        sel = (freqs >= edges[i]) & (freqs < edges[i + 1])
        if not sel.any():  # low bins narrower than one FFT bin: take the nearest bin
            sel = np.zeros_like(sel)
            sel[int(np.argmin(np.abs(freqs - np.sqrt(edges[i] * edges[i + 1]))))] = True
        m[i, sel] = 1.0 / sel.sum()
    return m


class Analyzer:
    def __init__(
        self,
        sample_rate: int = 48000,
        hop: int = 256,
        fft_size: int = 1024,
        bands: dict[str, tuple[float, float]] | None = None,
        clock: ClockSettings | None = None,
    ):
        self.sample_rate = sample_rate
        self.hop = hop
        self.fft_size = fft_size
        self.band_edges = dict(bands or DEFAULT_BANDS)
        self.band_names = tuple(self.band_edges)
        self.dt = hop / sample_rate
        self._freqs = np.fft.rfftfreq(fft_size, 1.0 / sample_rate)
        self._band_bins = tuple(bin_range(self._freqs, lo, hi) for lo, hi in self.band_edges.values())
        self._log_bins = log_bin_matrix(SPECTRUM_BINS, fft_size, sample_rate)
        self._window = np.hanning(fft_size).astype(np.float32)
        self._norm = np.float32(4.0 / fft_size)  # a full-scale sine reads as amplitude ~1
        self._history = np.zeros(fft_size - hop, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._tracker = BandTracker(len(self.band_names), self.dt)
        self._odf = SpectralFlux(self._freqs)
        self._rise = LinearRise(self._freqs, ACCENT_BANDS)
        self._accent = Accent(len(ACCENT_BANDS), self.dt)
        self._onsets = OnsetDetector(self.dt)
        self._chroma = Chroma(sample_rate)
        self.clock = BeatClock(self.dt, clock, self._chroma)
        self.structure = StructureTracker()  # build-ups, drops, breakdowns, phrases (structure.py)
        self._form_bands = tuple(
            self.band_names.index(b) if b in self.band_names else 0 for b in ("bass", "high")
        )
        self._commands: queue.SimpleQueue[TempoCommand | ClockSetup] = queue.SimpleQueue()
        self._k_spec = coeff(0.08, self.dt)
        self._k_short = coeff(1.0, self.dt)
        self._k_long = coeff(30.0, self.dt)
        self._onset_fall = float(np.exp(-self.dt / 0.12))
        self._flux_fall = float(np.exp(-self.dt / 10.0))
        self._spec_fall = 0.9995
        self._spec_peak = 1e-6
        self._flux_peak = 1e-9
        self.samples_done = 0  # samples analysed (whole hops)
        self.samples_fed = 0  # samples handed to feed(), including a partial hop still pending
        # running globals
        self._spectrum = np.zeros(SPECTRUM_BINS, np.float32)
        self._waveform = np.zeros(WAVEFORM_SAMPLES, np.float32)
        self._rms = 0.0
        self._loudness = -120.0
        self._centroid = 0.0
        self._flux = 0.0
        # mean power over ~1 s and ~30 s of non-silent audio, bias-corrected so the start needs no warm-up
        self._short_pow = self._long_pow = 0.0
        self._short_w = self._long_w = 0.0
        self._onset = 0.0
        self._onset_count = 0
        # events wait here until drained; a caller that never drains keeps only the newest
        self._events: deque[Onset] = deque(maxlen=MAX_PENDING_EVENTS)
        self._beats: deque[Beat] = deque(maxlen=MAX_PENDING_EVENTS)

    @property
    def time(self) -> float:
        return self.samples_done / self.sample_rate

    def command(self, command: TempoCommand | ClockSetup) -> None:
        """Queue an operator tempo command or a new clock setup (any thread); applied before the next hop
        is analysed."""
        self._commands.put(command)

    def feed(self, mono: np.ndarray) -> None:
        """Analyse every complete hop in `mono` (plus what was left over from the last call). A long block
        (a whole file) is taken a second at a time, so the harmony the beat clock compares across each beat
        is still kept (Chroma holds a few seconds) when the clock reaches that beat."""
        mono = np.asarray(mono, np.float32)
        if len(mono) > self.sample_rate:
            for start in range(0, len(mono), self.sample_rate):
                self.feed(mono[start : start + self.sample_rate])
            return
        self._apply_commands()
        self.samples_fed += len(mono)
        data = np.concatenate([self._pending, mono]) if len(self._pending) else mono
        n_hops = len(data) // self.hop
        if n_hops == 0:
            self._pending = data.copy()
            return
        used = n_hops * self.hop
        stream = np.concatenate([self._history, data[:used]])
        if n_hops == 1:  # the live case: one hop per call
            frames = stream[None, :]
        else:
            frames = np.lib.stride_tricks.sliding_window_view(stream, self.fft_size)[:: self.hop][:n_hops]
        mags = np.abs(np.fft.rfft(frames * self._window, axis=1)) * self._norm
        power = mags * mags
        band_amp = np.sqrt(np.stack([power[:, b].sum(axis=1) for b in self._band_bins], axis=1)).tolist()
        log_spec = power @ self._log_bins.T
        full_flux, band_flux = self._odf.process(mags)
        accent_rise = self._rise.process(mags)
        self._chroma.feed(data[:used])  # frames by sample position: the beat clock reads only the past
        hops = data[:used].reshape(n_hops, self.hop)
        rms = np.sqrt(np.mean(hops * hops, axis=1, dtype=np.float64))
        total = mags.sum(axis=1, dtype=np.float64)
        centroid = (mags * self._freqs.astype(np.float32)).sum(axis=1, dtype=np.float64)
        centroid = np.where(total > 1e-9, centroid / np.maximum(total, 1e-9), 0.0)
        for i in range(n_hops):
            self._step(
                float(rms[i]),
                float(centroid[i]),
                float(full_flux[i]),
                band_flux[i],
                accent_rise[i],
                band_amp[i],
                log_spec[i],
            )
        self._history = stream[-(self.fft_size - self.hop) :].copy()
        self._pending = data[used:].copy()
        tail = stream[-WAVEFORM_SAMPLES:]
        self._waveform[-len(tail) :] = tail

    def _apply_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self.clock.apply(command)

    def _step(self, rms, centroid, flux, onset_flux, accent_rise, band_amp, log_spec) -> None:
        self.samples_done += self.hop
        end_time = self.samples_done / self.sample_rate
        self._tracker.step(band_amp)
        self._rms = rms
        self._loudness = max(-120.0, 20.0 * math.log10(rms + 1e-12))
        self._centroid = centroid
        self._flux_peak = max(flux, self._flux_peak * self._flux_fall)
        self._flux = flux / self._flux_peak

        if self._loudness > SILENCE_DB:
            p = rms * rms
            self._short_pow += self._k_short * (p - self._short_pow)
            self._short_w += self._k_short * (1.0 - self._short_w)
            self._long_pow += self._k_long * (p - self._long_pow)
            self._long_w += self._k_long * (1.0 - self._long_w)

        spec = np.log1p(log_spec * 1e4)
        self._spec_peak = max(float(spec.max()), self._spec_peak * self._spec_fall)
        self._spectrum += self._k_spec * (spec / self._spec_peak - self._spectrum)

        self._onset *= self._onset_fall
        for event in self._onsets.step(onset_flux, end_time):
            self._onset = max(self._onset, event.strength)
            self._onset_count += 1
            self._events.append(event)
        bass = float(onset_flux[0])
        beat = self.clock.step(flux, bass, self._accent.step(accent_rise), rms, end_time)
        if beat is not None:
            self._beats.append(beat)
        low, high = (band_amp[i] for i in self._form_bands)
        self.structure.step(end_time, rms * rms, low * low, high * high, self.clock.grid)

    def drain_onsets(self) -> list[Onset]:
        """Onsets found since the last call (the analysis thread forwards them as events)."""
        events = list(self._events)
        self._events.clear()
        return events

    def drain_beats(self) -> list[Beat]:
        """Beats that fell since the last call, each known (predicted) at or before it fell."""
        beats = list(self._beats)
        self._beats.clear()
        return beats

    def drain_structure(self) -> list[StructureEvent]:
        """Phrase boundaries, build-ups, drops and breakdowns heard since the last call."""
        return self.structure.drain()

    def drain_events(self) -> list[StructureEvent]:
        """The events beside onsets and beats that the live analysis thread fans out to its subscribers
        (feature stream, OSC feedback, performance log): the song's form."""
        return self.drain_structure()

    def snapshot(self) -> Features:
        t = self._tracker
        bands = {
            name: BandFeatures(
                level=float(t.level[i]),
                hits=float(t.hits[i]),
                presence=float(t.presence[i]),
                time=float(t.time[i]),
            )
            for i, name in enumerate(self.band_names)
        }
        energy = 0.5
        if self._short_w > 0:
            ratio = (self._short_pow / self._short_w) / max(self._long_pow / self._long_w, 1e-12)
            energy = float(np.clip(0.5 + 10.0 * np.log10(max(ratio, 1e-6)) / 12.0, 0.0, 1.0))
        return Features(
            time=self.time,
            bands=bands,
            rms=self._rms,
            loudness=float(self._loudness),
            centroid=self._centroid,
            flux=self._flux,
            energy=energy,
            silence=bool(self._loudness <= SILENCE_DB),
            onset=self._onset,
            onset_count=self._onset_count,
            spectrum=np.clip(self._spectrum, 0.0, 1.0).astype(np.float32),
            waveform=self._waveform.copy(),
            grid=self.clock.grid,
            structure=self.structure.state,
        )
