"""The analyzer: causal, hop by hop, identical live and offline.

Feed it mono samples in any chunk size; it processes every complete hop (FFT, bands, onsets, tempo, beat)
and keeps running state. `snapshot()` builds the immutable `Features` the renderer reads. The result does
not depend on how the samples were chunked: the per-hop arithmetic is the same whether a call brings one
hop (live) or a whole file (offline).

Operator tempo controls arrive from other threads through `command()` (a queue) and are applied by the
analysis thread before the next hop, so the clock is only ever touched by one thread.
"""

from __future__ import annotations

import itertools
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
    Bands,
    Features,
    Onset,
)
from engine.analysis.harmony import Chroma
from engine.analysis.odf import (
    ACCENT_BANDS,
    ONSET_FLUX,
    TEMPO_FLUX,
    Accent,
    LinearRise,
    RangeSums,
    SpectralFlux,
    bin_range,
)
from engine.analysis.onsets import OnsetDetector
from engine.analysis.structure import StructureEvent, StructureTracker

SILENCE_DB = -60.0
DISPLAY_GAIN = 1e4  # the display's spectrum is log1p of its bins' mean power times this
MAX_PENDING_EVENTS = 4096


def log_bin_ranges(n_out: int, fft_size: int, sample_rate: int, lo=30.0, hi=16000.0) -> tuple[slice, ...]:
    """The FFT bins each of `n_out` log-spaced bins averages (what the eye expects of an analyser): those
    within its edges, or the nearest one where it is narrower than an FFT bin."""
    freqs = np.fft.rfftfreq(fft_size, 1.0 / sample_rate)
    edges = np.geomspace(lo, hi, n_out + 1)
    out = []
    for a, b in itertools.pairwise(edges):
        inside = np.flatnonzero((freqs >= a) & (freqs < b))
        if not len(inside):  # low bins narrower than one FFT bin: take the nearest bin
            inside = [int(np.argmin(np.abs(freqs - np.sqrt(a * b))))]
        out.append(slice(int(inside[0]), int(inside[-1]) + 1))
    return tuple(out)


def _hop_sums(
    n_bins: int,
    band_bins: tuple[slice, ...],
    log_bins: tuple[slice, ...],
    odf: SpectralFlux,
    rise: LinearRise,
) -> RangeSums:
    """Every sum of a hop in one call, over its power spectrum, the tempo's and the onsets' log-flux rise
    and the linear rise laid end to end (Analyzer._spectra): the bands' power and the display's log-spaced
    bins (averaged), the tempo's flux over the whole spectrum and in the bass band and each onset band's flux
    (averaged), and each accent band's rise. Each numpy call of a hop costs about as much as its arithmetic,
    and three sums were a fifteenth of the chain."""
    b = n_bins

    def moved(ranges: tuple[slice, ...], by: int) -> tuple[slice, ...]:
        return tuple(slice(r.start + by, r.stop + by) for r in ranges)

    tempo_flux = moved((odf.full, odf.bands[0]), b)  # the onsets' flux has the same bands
    ranges = (*band_bins, *log_bins, *tempo_flux, *moved(odf.bands, 2 * b), *moved(rise.bands, 3 * b))
    averaged = len(log_bins) + len(tempo_flux) + len(odf.bands)
    mean = (False,) * len(band_bins) + (True,) * averaged + (False,) * len(rise.bands)
    gain = [1.0] * len(ranges)  # the display's bins come out ready for log1p (one call less a hop)
    gain[len(band_bins) : len(band_bins) + len(log_bins)] = [DISPLAY_GAIN] * len(log_bins)
    return RangeSums(4 * b, ranges, mean=mean, gain=tuple(gain))


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
        self._odf = SpectralFlux(self._freqs, settings=(TEMPO_FLUX, ONSET_FLUX))  # the tempo's, the onsets'
        self._rise = LinearRise(self._freqs, ACCENT_BANDS)
        log_bins = log_bin_ranges(SPECTRUM_BINS, fft_size, sample_rate)  # the display's
        self._sums = _hop_sums(len(self._freqs), self._band_bins, log_bins, self._odf, self._rise)
        # one hop's spectra laid end to end (_hop_sums) and views of its parts, kept
        self._rows: tuple[np.ndarray, ...] | None = None
        self._moments = np.stack([np.ones_like(self._freqs), self._freqs], axis=1).astype(np.float32)
        # the Hann window, scaled so a full-scale sine reads as amplitude ~1
        self._window = (np.hanning(fft_size) * (4.0 / fft_size)).astype(np.float32)
        self._history = np.zeros(fft_size - hop, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._tracker = BandTracker(len(self.band_names), self.dt)
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
        # the stream of the last hops analysed (FFT history and all, never written again): the snapshot's
        # waveform is its last samples, copied when a snapshot is made rather than every hop
        self._stream = np.zeros(max(WAVEFORM_SAMPLES, fft_size), np.float32)
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
        whole = data[:used] if used < len(data) else data  # the hops' samples (a view)
        stream = np.concatenate([self._history, whole])
        if n_hops == 1:  # the live case: one hop per call (a 1-D transform is the same, and cheaper)
            mags = np.abs(np.fft.rfft(stream * self._window))[None, :]
        else:
            frames = np.lib.stride_tricks.sliding_window_view(stream, self.fft_size)[:: self.hop][:n_hops]
            mags = np.abs(np.fft.rfft(frames * self._window, axis=1))
        sums = self._sums(self._spectra(mags))
        n_bands, n_bins = len(self._band_bins), SPECTRUM_BINS
        spectra = np.log1p(sums[:, n_bands : n_bands + n_bins])  # power × DISPLAY_GAIN (_hop_sums)
        self._chroma.feed(whole)  # frames by sample position: the beat clock reads only the past
        hops = whole.reshape(n_hops, self.hop)
        energy = np.add.reduce(hops * hops, axis=1, dtype=np.float64).tolist()
        moments = (mags @ self._moments).tolist()  # (total, first moment) per hop: the centroid
        # the band powers, then (after the display's bins) the tempo's full and bass flux, each onset band's
        # flux and each accent band's rise, as floats (math.sqrt rounds as np.sqrt does)
        flux_at = n_bands + n_bins
        onset_at = flux_at + 2
        accent_at = onset_at + len(self._odf.bands)
        for i, row in enumerate(sums.tolist()):
            total, moment = moments[i]
            self._step(
                math.sqrt(energy[i] / self.hop),
                moment / total if total > 1e-9 else 0.0,
                row[flux_at : flux_at + 2],
                row[onset_at:accent_at],
                row[accent_at:],
                [math.sqrt(power) for power in row[:n_bands]],
                spectra[i],
            )
        self._history = stream[-(self.fft_size - self.hop) :]  # a view: stream is not written again
        self._pending = data[used:].copy() if used < len(data) else data[:0]
        short = len(stream) < WAVEFORM_SAMPLES  # only with an FFT shorter than the waveform
        self._stream = np.concatenate([self._stream, stream])[-WAVEFORM_SAMPLES:] if short else stream

    def _spectra(self, mags: np.ndarray) -> np.ndarray:
        """Each hop's power spectrum, the tempo's and the onsets' log-flux rise and the linear rise laid end
        to end (_hop_sums' layout), written into one array kept for the one-hop case."""
        live = len(mags) == 1
        if not live or self._rows is None:
            rows = np.zeros((len(mags), 4, mags.shape[1]), np.float32)  # the flux leaves its edge bins
            views = (rows[:, 0], rows[:, 1:3], rows[:, 3], rows.reshape(len(mags), -1))  # last: a view
            if live:  # kept with its views, made once (each view costs a hop about as much as a small call)
                self._rows = views
        else:
            views = self._rows
        power, flux, rise, flat = views
        np.multiply(mags, mags, out=power)
        self._odf.rise(mags, out=flux)
        self._rise.rise(mags, out=rise)
        return flat

    def _apply_commands(self) -> None:
        while not self._commands.empty():  # only this thread takes from the queue
            self.clock.apply(self._commands.get_nowait())

    def _step(self, rms, centroid, tempo_flux, onset_flux, accent_rise, band_amp, spectrum) -> None:
        """One hop's running state from its figures (floats and lists of floats: `tempo_flux` the tempo's
        flux over all bins and in the bass band, `onset_flux` each onset band's; `spectrum` the display's
        log-compressed bins)."""
        flux, bass_flux = tempo_flux
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

        self._spec_peak = max(float(spectrum.max()), self._spec_peak * self._spec_fall)
        self._spectrum *= 1.0 - self._k_spec
        self._spectrum += (self._k_spec / self._spec_peak) * spectrum

        self._onset *= self._onset_fall
        for event in self._onsets.step(onset_flux, end_time):
            self._onset = max(self._onset, event.strength)
            self._onset_count += 1
            self._events.append(event)
        accent = self._accent.step(accent_rise)
        beat = self.clock.step(flux, bass_flux, accent, rms, end_time, *self._accent.snare_and_kick())
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
        bands = Bands(self.band_names, (tuple(t.level), tuple(t.hits), tuple(t.presence), tuple(t.time)))
        energy = 0.5
        if self._short_w > 0:
            ratio = (self._short_pow / self._short_w) / max(self._long_pow / self._long_w, 1e-12)
            energy = min(max(0.5 + 10.0 * math.log10(max(ratio, 1e-6)) / 12.0, 0.0), 1.0)
        return Features(
            time=self.time,
            bands=bands,
            rms=self._rms,
            loudness=self._loudness,
            centroid=self._centroid,
            flux=self._flux,
            energy=energy,
            silence=self._loudness <= SILENCE_DB,
            onset=self._onset,
            onset_count=self._onset_count,
            spectrum=np.minimum(self._spectrum, 1.0),  # a new array (the running one is never below 0)
            waveform=self._stream[-WAVEFORM_SAMPLES:].copy(),
            grid=self.clock.grid,
            structure=self.structure.state,
        )
