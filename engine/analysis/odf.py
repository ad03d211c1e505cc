"""Onset strength: how much new sound each hop brings, the signal that onsets and the beat are found in.

Log-compressed spectral flux with a frequency max-filter on the previous frame (SuperFlux, Böck & Widmer
2013): a rise in level counts in decibel-like units whatever the loudness, and vibrato or a sliding pitch
does not count as new sound. Computed over all bins and in the bass band for the tempo, and per band (kick
body vs. the rest) for onsets, there compressed from a higher floor and against the louder of the two
frames before, so the flicker of a steady noise (a ringing snare, a ride's wash, brushes swept) does not
bury soft strokes. Where the beat falls is read from the plain-amplitude rise per band instead
(LinearRise), where the loud hits of the music stand out. Rows are processed independently, so a batch of
hops gives bit-identical results to one hop at a time (live and offline hear the same).
"""

from __future__ import annotations

import numpy as np

# Magnitude (full scale = 1) at which the log compression turns from linear to logarithmic: ≈ -60 dBFS.
COMPRESSION_FLOOR = 1e-3
# The onsets' flux (ONSET_FLUX) is compressed from ≈ -50 dBFS and taken over the louder of the two frames
# before. Steady noise flickers by several dB per bin from one 21 ms frame to the next: at -60 dBFS the faint
# bins between the hits (a snare's ring, a ride's wash, brushes swept, reverb) counted nearly as much as loud
# ones, and against the previous frame alone their flicker buried the soft strokes of a roll and a brush's
# taps; over the louder of two frames noise rarely rises, while an attack rises over both. Onset F (mean of
# files, attacks) on the generated set / the shared set: before 0.889 / 0.814; each alone 0.915 / 0.821
# (-50 dBFS) and 0.918 / 0.822 (two frames); both 0.930 / 0.823, floors 2e-3 to 5e-3 within 0.004 of it
# (the sweep: docs/listening.md, Session 5). The tempo keeps the flux it was tuned with: fed this one, the
# shared set's Acc1 fell 0.923 -> 0.897 and its beat F 0.889 -> 0.839.
ONSET_COMPRESSION_FLOOR = 3e-3
ONSET_REFERENCE_FRAMES = 2
# (compression floor, reference frames) of the tempo's flux and of the onsets' (SpectralFlux settings)
TEMPO_FLUX = (COMPRESSION_FLOOR, 1)
ONSET_FLUX = (ONSET_COMPRESSION_FLOOR, ONSET_REFERENCE_FRAMES)
_ZERO = np.float32(0.0)  # the rectifier's floor, made once
# Bands that get their own onset detector: the kick body, and everything above it (snare, hats, notes).
ONSET_BANDS: tuple[tuple[float, float], ...] = ((20.0, 300.0), (300.0, 20000.0))
# Bands whose rise, each against its own recent mean, marks where beats fall: kick, bass, snare body, snare
# crack and leads, cymbals and hats. Each is one vote: open hats between the beats of a house track cannot
# outvote the kick, and in metal, where the kick runs in sixteenths and guitars never stop, the cymbals on
# the beat still count (beat F on the Frets on Fire songs 0.53 → 0.59 with this band, the rest unchanged).
ACCENT_BANDS: tuple[tuple[float, float], ...] = (
    (20.0, 100.0),
    (100.0, 300.0),
    (300.0, 1000.0),
    (1000.0, 4000.0),
    (4000.0, 20000.0),
)


def bin_range(freqs: np.ndarray, lo: float, hi: float) -> slice:
    """The contiguous FFT bins with lo <= f < hi."""
    inside = np.flatnonzero((freqs >= lo) & (freqs < hi))
    return slice(int(inside[0]), int(inside[-1]) + 1) if len(inside) else slice(0, 0)


class SpectralFlux:
    """Feed magnitude frames (hops × bins); get the flux per onset band and over the whole spectrum, for each
    of `settings` (compression floor, reference frames: 1 or 2), live in the same numpy calls: each call of
    a hop costs about as much as its arithmetic, and the tempo's flux and the onsets' together take nine
    calls a hop, where the tempo's alone took seven.

    Values are the mean rise per bin in nepers (1 neper ≈ 8.7 dB) of log(1 + |X| / floor), so a value of
    0.3 in the bass band means the bass bins rose by ~2.6 dB on average since the last hop. Each bin rises
    over the louder (max-filtered over three bins) of the `reference frames` frames before it.
    """

    def __init__(
        self,
        freqs: np.ndarray,
        bands: tuple[tuple[float, float], ...] = ONSET_BANDS,
        settings: tuple[tuple[float, int], ...] = (TEMPO_FLUX,),
    ):
        if any(frames not in (1, 2) for _, frames in settings):
            raise ValueError("SpectralFlux: a setting's reference frames are 1 or 2")
        self.bands = tuple(bin_range(freqs, lo, hi) for lo, hi in bands)
        self.full = bin_range(freqs, 20.0, 20000.0)
        # the bins the figures read, and one either side for the max filter: those up to 20 kHz
        n = max(r.stop for r in self.ranges) + 1
        if min(r.start for r in self.ranges) < 1 or n > len(freqs):
            raise ValueError("SpectralFlux: the bins read must leave out the first and the last")
        self._n = n
        self._means = RangeSums(len(freqs), (self.full, *self.bands), mean=True)
        k = len(settings)
        self._scales = [np.float32(1.0 / floor) for floor, _ in settings]
        self._scale = np.array(self._scales, np.float32)[:, None]  # (settings, 1)
        self._one = np.array([frames == 1 for _, frames in settings])[:, None]  # rise over one frame
        two = np.flatnonzero(~self._one[:, 0])
        contiguous = len(two) and two[-1] - two[0] == len(two) - 1
        self._two = slice(int(two[0]), int(two[-1]) + 1) if contiguous else ~self._one  # rows to keep
        self._log = np.empty((k, n), np.float32)  # the live hop's log spectra
        self._widened = np.empty((k, n - 2), np.float32)  # ...max-filtered (bins 1..n-2)
        # views of the live log spectra, made once: each view costs a hop about as much as a small call
        self._below, self._inner, self._above = self._log[:, :-2], self._log[:, 1:-1], self._log[:, 2:]
        # what the next frame rises over, and the last frame for the settings of two reference frames (-inf
        # for those of one: the louder of it and the last frame is the last frame, so one maximum serves all)
        self._reference: np.ndarray | None = None
        self._spare: np.ndarray | None = None  # the live path's second reference buffer
        self._last_or_none = np.empty((k, n - 2), np.float32)

    @property
    def ranges(self) -> tuple[slice, ...]:
        """The bins each figure averages: the whole spectrum, then each band (`process`'s order)."""
        return (self.full, *self.bands)

    def process(self, mags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(full flux per hop × setting, band flux per hop × setting × band) for `mags` (hops, bins)."""
        shape = (len(mags), len(self._scales), mags.shape[1])
        rise = self.rise(mags, np.zeros(shape, np.float32))
        means = self._means(rise.reshape(-1, shape[2])).reshape(shape[0], shape[1], -1)
        return means[:, :, 0], means[:, :, 1:]

    def rise(self, mags: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Each bin's rise per hop and setting, written into `out` (hops × settings × bins; the bins no
        figure reads, the first and those above 20 kHz, are left as they are): what `process` averages over
        `ranges` (the analyzer sums it with its other spectra in one call). A batch takes the same products
        and maxima as one hop at a time, so it is bit-identical."""
        n = self._n
        if len(mags) > 1:
            self._rise_batch(mags[:, :n], out[..., :n])
            return out
        log, widened, inner = self._log, self._widened, self._inner
        np.multiply(mags[:, :n], self._scale, out=log)
        np.log1p(log, out=log)
        np.maximum(self._below, self._above, out=widened)  # max over 3 neighbouring bins
        np.maximum(widened, inner, out=widened)
        if self._reference is None:
            self._start(widened)
        rise = np.subtract(inner, self._reference, out=out[0, :, 1 : n - 1])
        np.maximum(rise, _ZERO, out=rise)
        # the next reference goes into the spare buffer, and this one becomes the spare (no allocation)
        spare = self._spare if self._spare is not None else np.empty_like(widened)
        np.maximum(self._last_or_none, widened, out=spare)
        self._spare, self._reference = self._reference, spare
        if isinstance(self._two, slice):  # one call cheaper than a masked copy
            self._last_or_none[self._two] = widened[self._two]
        else:
            np.copyto(self._last_or_none, widened, where=self._two)
        return out

    def _rise_batch(self, mags: np.ndarray, out: np.ndarray) -> None:
        """`rise` for a block of hops, one setting at a time."""
        logs = [np.log1p(mags * scale) for scale in self._scales]
        wide = [np.maximum(np.maximum(log[:, :-2], log[:, 2:]), log[:, 1:-1]) for log in logs]
        if self._reference is None:
            self._start(np.array([widened[0] for widened in wide]))
        reference, last_or_none = [], []
        for j, (log, widened) in enumerate(zip(logs, wide, strict=True)):
            one = bool(self._one[j, 0])
            last = self._reference[j] if one else self._last_or_none[j]
            before = np.concatenate((last[None], widened[:-1]))  # the frame before each
            if not one:  # the louder of the two before each (ahead of the block: the reference kept)
                before = np.concatenate((self._reference[j][None], np.maximum(before[1:], before[:-1])))
            rise = np.subtract(log[:, 1:-1], before, out=out[:, j, 1:-1])
            np.maximum(rise, 0.0, out=rise)
            reference.append(widened[-1] if one else np.maximum(widened[-2], widened[-1]))
            last_or_none.append(np.float32(-np.inf) if one else widened[-1])
        self._reference, self._spare = np.array(reference, np.float32), None
        self._last_or_none = np.array([np.broadcast_to(x, self._reference.shape[1]) for x in last_or_none])

    def _start(self, widened: np.ndarray) -> None:
        """The first frame (settings × bins, max-filtered) rises over itself: no rise."""
        self._reference, self._spare = widened.copy(), None
        self._last_or_none = np.where(self._one, np.float32(-np.inf), widened).astype(np.float32)


class RangeSums:
    """Sums (or means, per range) of each row of a spectrum over bin ranges, which may overlap, in one
    `np.add.reduceat` over the ranges' (start, stop) pairs. Each row is summed on its own, in the same order
    whatever the number of rows, so a batch of hops gives bit-identical results to one hop at a time (a
    matrix product does not: BLAS sums a single row in another order than a block of rows, and the onsets
    a file was heard with moved with the block size). One call for any number of ranges: live, each numpy
    call of a hop costs about as much as its arithmetic."""

    def __init__(
        self,
        n_bins: int,
        ranges: tuple[slice, ...],
        mean: bool | tuple[bool, ...] = False,
        gain: tuple[float, ...] | None = None,
    ):
        # reduceat sums [i_k, i_k+1) and, from the last index, to the end: a range reaching the last bin
        # goes last, its stop left out (the odd pairs, the gaps between ranges, are not read)
        order = sorted(range(len(ranges)), key=lambda j: ranges[j].stop >= n_bins)
        if sum(r.stop >= n_bins for r in ranges) > 1:
            raise ValueError("RangeSums: at most one range may reach the last bin")
        pairs = [i for j in order for i in (ranges[j].start, ranges[j].stop)]
        self._pairs = np.array(pairs[:-1] if ranges[order[-1]].stop >= n_bins else pairs)
        self._order = np.argsort(order)  # back to the order the ranges were given in
        widths = np.array([r.stop - r.start for r in ranges])
        averaged = np.broadcast_to(np.asarray(mean, bool), widths.shape)  # per range, or one for all
        scale = np.where(widths > 0, np.where(averaged, 1.0 / np.maximum(widths, 1), 1.0), 0.0)  # empty: 0
        self._scale = scale if gain is None else scale * np.asarray(gain)  # each range's sum times its gain
        self._identity = bool(np.all(self._order == np.arange(len(ranges))))

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """(rows, ranges) float64 for `rows` of shape (rows, bins)."""
        sums = np.add.reduceat(rows, self._pairs, axis=1, dtype=np.float64)[:, ::2]
        return (sums if self._identity else sums[:, self._order]) * self._scale


def _rise(
    frames: np.ndarray, before: np.ndarray, prev: np.ndarray | None, out: np.ndarray | None = None
) -> np.ndarray:
    """How much each bin of each frame rose (clipped at 0) over `before` one frame earlier; `prev` is the
    `before` of the frame ahead of this batch (None at the start: no rise). Written into `out` if given."""
    first = before[:1] if prev is None else prev[None]
    earlier = np.concatenate((first, before[:-1])) if len(frames) > 1 else first
    rise = np.subtract(frames, earlier, out=out)
    return np.maximum(rise, 0.0, out=rise)


class LinearRise:
    """Feed magnitude frames (hops × bins); get how much each band's magnitude rose since the last hop, summed
    over its bins, in plain amplitude: no log compression, so the loud hits of the music (kick, snare, the
    accented chord) stand far above its soft notes (ghost notes, off-beat bass notes, hats), as they do to a
    listener. In the log-compressed flux every note counts alike, and an off-beat bass line or a syncopated
    kick pattern could hold the beat on the off-beat (beat F with the log flux → with this, and the beat
    tracker set again for it: shared set 0.90 → 0.89, LMMS songs 0.72 → 0.83, Frets on Fire 0.59 → 0.70;
    downbeat F on LMMS 0.46 → 0.60, on Frets on Fire 0.35 → 0.55)."""

    def __init__(self, freqs: np.ndarray, bands: tuple[tuple[float, float], ...] = ACCENT_BANDS):
        self.bands = tuple(bin_range(freqs, lo, hi) for lo, hi in bands)
        self._sums = RangeSums(len(freqs), self.bands)
        self._prev: np.ndarray | None = None

    def process(self, mags: np.ndarray) -> np.ndarray:
        """The rise per hop × band of `mags` (hops, bins)."""
        return self._sums(self.rise(mags))

    def rise(self, mags: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Each bin's rise per hop (into `out` where given): what `process` sums over `bands`."""
        rise = _rise(mags, mags, self._prev, out)
        self._prev = mags[-1]  # a view: the analyzer's spectra are fresh each call and never written
        return rise


# The accent bands that tell a snare (or a clap) from the rest of the kit: it strikes the body (100-300 Hz),
# the crack (1-4 kHz) and the wires (4-20 kHz) at once, a kick only the low end, a chord not the wires, a hat
# not the body. Its strength is the least of its bands' relative rises; the kick's, the lowest band's.
SNARE_BANDS = (1, 3, 4)
KICK_BAND = 0


class Accent:
    """Beat strength: the mean over bands of each band's rise (LinearRise) divided by its own running mean
    (~`memory` seconds). Each band counts equally whatever its loudness or width, so an off-beat bass line
    cannot outvote the kick, snare and leads on the beat, nor off-beat hats the kick (summing over the whole
    spectrum lets the loudest or widest band decide the beat's phase)."""

    def __init__(self, n_bands: int, hop_seconds: float, memory: float = 8.0):
        self._k = 1.0 - float(np.exp(-hop_seconds / memory))
        self._mean = [0.0] * n_bands
        self.relative = [0.0] * n_bands  # each band's rise over its mean, this hop
        self._weight = 0.0  # bias correction: the first hops need no warm-up

    def step(self, flux) -> float:
        """The beat strength of one hop from its bands' rises (any sequence of floats). Plain floats: five
        bands per hop are cheaper in Python than in numpy calls."""
        k, mean, relative = self._k, self._mean, self.relative
        self._weight += k * (1.0 - self._weight)
        for i, rise in enumerate(flux):
            mean[i] += k * (rise - mean[i])
            relative[i] = rise / max(mean[i] / self._weight, 1e-9)  # a silent band: ~0
        return sum(relative) / len(mean)

    def snare_and_kick(self) -> tuple[float, float]:
        """How strongly this hop struck a snare and a kick (SNARE_BANDS, KICK_BAND): the tempo's backbeat."""
        r = self.relative
        body, crack, wires = (r[i] for i in SNARE_BANDS)
        return min(body, crack, wires), r[KICK_BAND]
