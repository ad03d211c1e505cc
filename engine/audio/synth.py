"""A small deterministic music synthesizer for the demo and the tests.

Why it exists: the engine needs music whose beats, drum hits and sections are known to the
sample, so analysis and visual tests can check "this reacted to that kick" against ground truth,
and so the repo can ship a demo without any third-party audio. Everything is numpy and
vectorised: one-shot sounds are rendered once as templates and dropped at exact sample offsets.
"""

from __future__ import annotations

import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Section", "Track", "demo_track", "drum_loop", "write_wav"]

TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class Section:
    """A named stretch of a track, in seconds (start inclusive, end exclusive)."""

    name: str
    start: float
    end: float


@dataclass(frozen=True, eq=False)
class Track:
    """Rendered audio plus the ground truth of what was played and when (exact sample times)."""

    samples: np.ndarray
    sample_rate: int
    bpm: float
    beats: np.ndarray
    downbeats: np.ndarray
    kicks: np.ndarray
    snares: np.ndarray
    hats: np.ndarray
    sections: tuple[Section, ...]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.sample_rate


# --------------------------------------------------------------------------- DSP helpers


def _fft_len(n: int) -> int:
    """A fast FFT size >= n (power of two)."""
    return 1 << max(0, int(n - 1).bit_length())


def _one_pole_lowpass(x: np.ndarray, cutoff: float, sr: int) -> np.ndarray:
    """One-pole low-pass y[n] = y[n-1] + a (x[n] - y[n-1]), done as an FFT convolution with its
    (truncated) exponential impulse response so it stays vectorised. Filters along axis 0."""
    a = 1.0 - np.exp(-TWO_PI * cutoff / sr)
    taps = int(np.ceil(np.log(1e-5) / np.log(1.0 - a))) + 1
    h = a * (1.0 - a) ** np.arange(taps)
    n = x.shape[0]
    size = _fft_len(n + taps)
    hf = np.fft.rfft(h, size)
    if x.ndim == 2:
        hf = hf[:, None]
    return np.fft.irfft(np.fft.rfft(x, size, axis=0) * hf, size, axis=0)[:n]


def _lowpass2(x: np.ndarray, cutoff: float, sr: int) -> np.ndarray:
    """Two cascaded one-pole low-passes (12 dB/oct), for a warmer pad/bass than one pole gives."""
    return _one_pole_lowpass(_one_pole_lowpass(x, cutoff, sr), cutoff, sr)


def _highpass(x: np.ndarray, cutoff: float, sr: int) -> np.ndarray:
    """One-pole high-pass as the complement of the low-pass."""
    return x - _one_pole_lowpass(x, cutoff, sr)


def _saw(phase: np.ndarray, dt: np.ndarray | float) -> np.ndarray:
    """Band-limited-ish sawtooth (PolyBLEP) from a phase in cycles; dt = f / sr per sample."""
    p = phase % 1.0
    y = 2.0 * p - 1.0
    dt = np.broadcast_to(dt, p.shape)
    lo = p < dt
    t = p[lo] / dt[lo]
    y[lo] -= t + t - t * t - 1.0
    hi = p > 1.0 - dt
    t = (p[hi] - 1.0) / dt[hi]
    y[hi] -= t * t + t + t + 1.0
    return y


def _fade(n: int, fade_in: int, fade_out: int) -> np.ndarray:
    """Raised-cosine fade in/out envelope of length n (avoids clicks at segment edges)."""
    env = np.ones(n)
    if fade_in > 0:
        env[:fade_in] = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_in) / fade_in)
    if fade_out > 0:
        env[n - fade_out :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, fade_out + 1) / fade_out)
    return env


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _place(buf: np.ndarray, sound: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Add a mono or stereo one-shot into buf at sample `start`, truncating at the end."""
    if start >= buf.shape[0]:
        return
    end = min(buf.shape[0], start + sound.shape[0])
    seg = sound[: end - start] * gain
    if seg.ndim == 1:
        seg = seg[:, None]
    buf[start:end] += seg


def _pan(mono: np.ndarray, pan: float) -> np.ndarray:
    """Equal-power pan of a mono signal, pan in [-1, 1]."""
    ang = (pan + 1.0) * np.pi / 4.0
    return np.stack([mono * np.cos(ang), mono * np.sin(ang)], axis=1) * np.sqrt(2.0)


# --------------------------------------------------------------------------- drum voices


def _kick(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Pitch-swept sine with a short click: the dominant low-frequency transient of the mix."""
    n = int(0.42 * sr)
    t = np.arange(n) / sr
    freq = 46.0 + 130.0 * np.exp(-t / 0.03) + 120.0 * np.exp(-t / 0.004)
    phase = TWO_PI * np.cumsum(freq) / sr
    env = np.where(t < 0.03, 1.0, np.exp(-(t - 0.03) / 0.14))
    body = np.sin(phase) * env
    click = _highpass(rng.standard_normal(n), 1500.0, sr) * np.exp(-t / 0.0025) * 0.35
    return (body + click) * _fade(n, 0, int(0.03 * sr))


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise + two tones, layered with a short clap flutter."""
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    tone = (np.sin(TWO_PI * 185.0 * t) + 0.5 * np.sin(TWO_PI * 330.0 * t)) * np.exp(-t / 0.045)
    noise = _highpass(_one_pole_lowpass(rng.standard_normal(n), 7000.0, sr), 900.0, sr)
    body = noise * np.exp(-t / 0.09)
    clap_env = np.zeros(n)
    for off in (0.0, 0.009, 0.018, 0.027):
        m = t >= off
        clap_env[m] += np.exp(-(t[m] - off) / (0.006 if off < 0.027 else 0.07))
    clap = _highpass(rng.standard_normal(n), 1200.0, sr) * clap_env * 0.5
    return (0.45 * tone + 0.7 * body + clap) * _fade(n, 0, int(0.02 * sr))


def _hat(sr: int, rng: np.random.Generator, decay: float, length: float) -> np.ndarray:
    """High-passed noise plus six inharmonic square partials (the classic metallic hat)."""
    n = int(length * sr)
    t = np.arange(n) / sr
    metal = sum(
        np.sign(np.sin(TWO_PI * f * t + rng.uniform(0, TWO_PI)))
        for f in (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)
    )
    src = rng.standard_normal(n) + 0.25 * metal
    hp = _highpass(_highpass(src, 7000.0, sr), 5000.0, sr)
    return hp * np.exp(-t / decay) * _fade(n, 0, int(0.01 * sr))


def _crash(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A long washy cymbal to mark the drop."""
    n = int(2.0 * sr)
    t = np.arange(n) / sr
    src = _highpass(rng.standard_normal((n, 2)), 4000.0, sr)
    return src * (np.exp(-t / 0.6) * _fade(n, 0, int(0.2 * sr)))[:, None] * 0.35


# --------------------------------------------------------------------------- tonal voices

# Am - F - C - G, voiced above ~190 Hz so the pad never competes with the kick's low end.
CHORDS: tuple[tuple[str, tuple[int, ...], int], ...] = (
    ("Am", (57, 60, 64, 69), 33),  # A3 C4 E4 A4, bass A1
    ("F", (57, 60, 65, 69), 29),  # A3 C4 F4 A4, bass F1
    ("C", (55, 60, 64, 67), 36),  # G3 C4 E4 G4, bass C2
    ("G", (55, 59, 62, 67), 31),  # G3 B3 D4 G4, bass G1
)


def _pad_chord(notes: tuple[int, ...], n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Detuned saw stack for one chord, stereo: each side gets its own detune so it sounds wide."""
    t = np.arange(n) / sr
    chans = []
    for side in (-1.0, 1.0):
        cents = np.array([-9.0, 0.0, 7.0]) + side * 3.0
        freqs = np.array([_midi_hz(m) * 2.0 ** (c / 1200.0) for m in notes for c in cents])
        phase0 = rng.uniform(0.0, 1.0, size=freqs.size)
        dt = (freqs / sr)[:, None]
        phase = phase0[:, None] + dt * np.arange(n)[None, :]
        chans.append(_saw(phase, dt).sum(axis=0))
    out = np.stack(chans, axis=1) / 12.0
    # slow tremolo-free swell so sustained chords breathe a little
    out *= (0.85 + 0.15 * np.sin(TWO_PI * 0.25 * t))[:, None]
    return out


def _bass_note(freq: float, length: float, sr: int, full: bool) -> np.ndarray:
    """Saw + sine sub through a decaying low-pass; `full` adds more sub and a brighter filter."""
    n = int(length * sr)
    t = np.arange(n) / sr
    dt = freq / sr
    phase = dt * np.arange(n)
    saw = _saw(phase, np.full(n, dt))
    sub = np.sin(TWO_PI * phase)
    bright = 900.0 if full else 600.0
    filt_env = np.exp(-t / 0.06)
    saw_f = _lowpass2(saw, bright, sr) * filt_env + _lowpass2(saw, 180.0, sr) * (1.0 - filt_env)
    sig = 0.55 * saw_f + (0.75 if full else 0.45) * sub
    return sig * _fade(n, int(0.004 * sr), int(0.025 * sr))


def _pluck(freq: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Short filtered saw blip for the drop's arpeggio."""
    n = int(0.22 * sr)
    t = np.arange(n) / sr
    dt = freq / sr
    saw = _saw(rng.uniform() + dt * np.arange(n), np.full(n, dt))
    return _lowpass2(saw, 2500.0, sr) * np.exp(-t / 0.06) * _fade(n, int(0.002 * sr), int(0.02 * sr))


def _riser(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise through a band-pass whose centre sweeps 300 Hz -> 9 kHz, built frame-by-frame in the
    frequency domain (overlap-add), getting louder towards the drop."""
    nfft, hop = 2048, 1024
    frames = n // hop + 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    prog = np.linspace(0.0, 1.0, frames)
    centre = 300.0 * (9000.0 / 300.0) ** (prog**1.5)
    logd = np.log2(np.maximum(freqs, 1.0)[None, :] / centre[:, None])
    mask = np.exp(-0.5 * (logd / 0.7) ** 2) * (freqs >= 180.0)[None, :]
    win = np.hanning(nfft + 1)[:-1]
    out = np.zeros((frames * hop + nfft, 2))
    for ch in range(2):
        spec = (rng.standard_normal(mask.shape) + 1j * rng.standard_normal(mask.shape)) * mask
        blocks = np.fft.irfft(spec, nfft, axis=1) * win[None, :]
        idx = (np.arange(frames) * hop)[:, None] + np.arange(nfft)[None, :]
        np.add.at(out[:, ch], idx.ravel(), blocks.ravel())
    out = out[:n]
    out /= np.max(np.abs(out)) + 1e-12
    ramp = np.linspace(0.0, 1.0, n) ** 2
    return out * ramp[:, None] * _fade(n, int(0.5 * sr), int(0.01 * sr))[:, None]


# --------------------------------------------------------------------------- arrangement


class _Grid:
    """Maps musical positions (in beats) to exact sample indices, so recorded times are exact."""

    def __init__(self, bpm: float, sr: int):
        self.bpm = bpm
        self.sr = sr
        self.spb = 60.0 / bpm

    def index(self, beat: float) -> int:
        return round(beat * self.spb * self.sr)

    def time(self, beat: float) -> float:
        return self.index(beat) / self.sr


def _times(grid: _Grid, beats: list[float]) -> np.ndarray:
    return np.array(sorted(grid.time(b) for b in beats), dtype=np.float64)


def _duck(n: int, kick_idx: list[int], sr: int, depth: float = 0.75) -> np.ndarray:
    """Side-chain gain: pad and bass dip under every kick, which keeps kicks on top of the low end
    and gives the familiar house 'pump'."""
    g = np.ones(n)
    m = int(0.3 * sr)
    t = np.arange(m) / sr
    curve = 1.0 - depth * np.exp(-t / 0.09)
    for k in kick_idx:
        end = min(n, k + m)
        np.minimum(g[k:end], curve[: end - k], out=g[k:end])
    return g


def _master(mix: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Gentle tanh saturation then normalise, so the peak is exactly `peak` and never clips."""
    mix = mix / (np.max(np.abs(mix)) + 1e-12) * 1.4
    out = np.tanh(mix)
    out *= peak / (np.max(np.abs(out)) + 1e-12)
    return out.astype(np.float32)


def demo_track(sample_rate: int = 48000, seed: int = 0) -> Track:
    """The ~60 s, 124 BPM demo song: intro, groove, breakdown, drop, outro (31 bars of 4/4)."""
    sr = sample_rate
    bpm = 124.0
    grid = _Grid(bpm, sr)
    rng = np.random.default_rng(seed)
    plan = (("intro", 8), ("groove", 8), ("breakdown", 4), ("drop", 10), ("outro", 1))
    total_bars = sum(b for _, b in plan)
    n = grid.index(total_bars * 4)
    sections: list[Section] = []
    bar_section: list[str] = []
    bar = 0
    for name, bars in plan:
        sections.append(Section(name, grid.time(bar * 4), grid.time((bar + bars) * 4)))
        bar_section += [name] * bars
        bar += bars

    kick_t = _kick(sr, rng)
    snare_t = _snare(sr, rng)
    hat_closed = _hat(sr, rng, 0.028, 0.1)
    hat_open = _hat(sr, rng, 0.16, 0.4)
    crash = _crash(sr, rng)

    drums = np.zeros((n, 2))
    bass = np.zeros((n, 2))
    pad = np.zeros((n, 2))
    lead = np.zeros((n, 2))
    fx = np.zeros((n, 2))
    kicks: list[float] = []
    snares: list[float] = []
    hats: list[float] = []

    def hat(beat: float, open_: bool, gain: float, pan: float) -> None:
        tmpl = hat_open if open_ else hat_closed
        _place(drums, _pan(tmpl, pan), grid.index(beat), gain * rng.uniform(0.85, 1.0))
        hats.append(beat)

    bar_len = grid.index(4)
    xf = int(0.05 * sr)
    pad_cache: dict[tuple[int, float, float], np.ndarray] = {}
    bass_cache: dict[tuple[int, float, bool], np.ndarray] = {}
    chord_raw = [_pad_chord(c[1], bar_len + 2 + xf, sr, rng) for c in CHORDS]

    def pad_seg(ci: int, cut0: float, cut1: float) -> np.ndarray:
        key = (ci, cut0, cut1)
        if key not in pad_cache:
            raw = chord_raw[ci]
            a = _lowpass2(raw, cut0, sr)
            b = a if cut1 == cut0 else _lowpass2(raw, cut1, sr)
            w = np.linspace(0.0, 1.0, raw.shape[0])[:, None]
            pad_cache[key] = (a * (1 - w) + b * w) * _fade(raw.shape[0], xf, xf)[:, None]
        return pad_cache[key]

    def bass_note(midi: int, length: float, full: bool) -> np.ndarray:
        key = (midi, length, full)
        if key not in bass_cache:
            bass_cache[key] = _bass_note(_midi_hz(midi), length, sr, full)
        return bass_cache[key]

    plucks: dict[int, np.ndarray] = {}

    for b, name in enumerate(bar_section):
        b0 = b * 4
        ci = b % 4
        _, notes, root = CHORDS[ci]
        start = grid.index(b0)
        # ---- pad: cutoff automation gives the breakdown its filtered, distant sound
        if name == "breakdown":
            k = b - bar_section.index("breakdown")
            cut0, cut1 = 350.0 * 2.0 ** (k * 0.9), 350.0 * 2.0 ** ((k + 1) * 0.9)
        elif name == "drop":
            cut0 = cut1 = 2600.0
        elif name == "intro":
            cut0 = cut1 = 900.0 + 100.0 * b
        else:
            cut0 = cut1 = 1600.0
        if name == "outro":
            ci, cut0, cut1 = 0, 1600.0, 500.0
        _place(pad, pad_seg(ci, cut0, cut1), start)

        # ---- drums
        if name in ("intro", "groove", "drop"):
            for q in range(4):
                _place(drums, kick_t, grid.index(b0 + q), 1.0)
                kicks.append(b0 + q)
        if name == "outro":
            _place(drums, kick_t, grid.index(b0), 1.0)
            kicks.append(b0)
        if name in ("groove", "drop"):
            for q in (1, 3):
                _place(drums, snare_t, grid.index(b0 + q), 0.55)
                snares.append(b0 + q)
        if name == "breakdown" and b == bar_section.index("drop") - 1:
            for s in range(8):  # 16th snare roll into the drop
                _place(drums, snare_t, grid.index(b0 + 2 + s * 0.25), 0.15 + 0.05 * s)
                snares.append(b0 + 2 + s * 0.25)
        if name == "intro":
            for e in range(8):
                hat(b0 + e * 0.5, False, 0.6 if e % 2 else 0.4, 0.2)
        elif name == "groove":
            for q in range(4):
                hat(b0 + q, False, 0.3, 0.2)
                hat(b0 + q + 0.5, True, 0.32, -0.15)
        elif name == "drop":
            for s in range(16):
                if s % 4 == 2:
                    hat(b0 + s * 0.25, True, 0.38, -0.15)
                else:
                    hat(b0 + s * 0.25, False, 0.34 if s % 2 == 0 else 0.24, 0.25 if s % 2 else 0.1)
        if name in ("drop", "groove") and b in (bar_section.index(name),):
            _place(drums, crash, start, 1.0 if name == "drop" else 0.6)

        # ---- bass: off-beat notes that stop before the next kick
        if name == "groove":
            for q in range(4):
                midi = root + (12 if q == 3 and b % 2 else 0)
                _place(bass, bass_note(midi, 0.17, False), grid.index(b0 + q + 0.5), 1.4)
        elif name == "drop":
            for q in range(4):
                _place(bass, bass_note(root, 0.19, True), grid.index(b0 + q + 0.5), 1.0)
                _place(bass, bass_note(root + 12, 0.085, True), grid.index(b0 + q + 0.75), 0.6)
        elif name == "outro":
            _place(bass, bass_note(root, 1.6, True), start, 0.9)

        # ---- drop arpeggio (with a dotted-eighth echo) for some sparkle
        if name == "drop":
            seq = [notes[0], notes[1], notes[2], notes[3], notes[2] + 12, notes[3], notes[1] + 12, notes[2]]
            for s in range(16):
                m = seq[s % len(seq)] + 12
                if m not in plucks:
                    plucks[m] = _pluck(_midi_hz(m), sr, rng)
                pan = -0.4 if s % 2 else 0.4
                _place(lead, _pan(plucks[m], pan), grid.index(b0 + s * 0.25), 0.22)
                _place(lead, _pan(plucks[m], -pan), grid.index(b0 + s * 0.25 + 0.75), 0.09)

    # breakdown riser
    bd = next(s for s in sections if s.name == "breakdown")
    i0, i1 = round(bd.start * sr), round(bd.end * sr)
    fx[i0:i1] += _riser(i1 - i0, sr, rng) * 0.7

    kick_idx = [grid.index(k) for k in kicks]
    duck = _duck(n, kick_idx, sr)[:, None]

    # per-section levels: the drop is the loudest, the breakdown the quietest
    level = {"intro": 0.72, "groove": 0.85, "breakdown": 0.7, "drop": 1.0, "outro": 0.9}
    bar_gain = np.array([level[s] for s in bar_section])
    bar_pos = np.arange(n) / bar_len
    gain = np.interp(bar_pos, np.arange(total_bars) + 0.5, bar_gain)[:, None]
    # intro pad fades in over the first two bars, outro fades out
    pad_gain = np.clip(bar_pos / 2.0, 0.0, 1.0) * np.clip((total_bars - bar_pos) / 1.0, 0.0, 1.0) ** 0.5
    pad_level = np.interp(
        bar_pos, np.arange(total_bars), [1.5 if s == "breakdown" else 1.0 for s in bar_section]
    )

    mix = (
        drums * 0.9
        + bass * duck * 0.55
        + pad * (duck * 0.6 + 0.4) * (pad_gain * pad_level)[:, None] * 0.9
        + lead * duck
        + fx
    ) * gain
    tail = int(0.05 * sr)
    mix[-tail:] *= np.linspace(1.0, 0.0, tail)[:, None]

    beats = np.array([grid.time(k) for k in range(total_bars * 4)], dtype=np.float64)
    return Track(
        samples=_master(mix),
        sample_rate=sr,
        bpm=bpm,
        beats=beats,
        downbeats=beats[::4].copy(),
        kicks=_times(grid, kicks),
        snares=_times(grid, snares),
        hats=_times(grid, hats),
        sections=tuple(sections),
    )


# Patterns: (kick, snare, hat) positions in beats within one 4/4 bar.
PATTERNS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "four_on_floor": ((0, 1, 2, 3), (1, 3), (0.5, 1.5, 2.5, 3.5)),
    "breakbeat": ((0, 1.5, 2.5), (1, 3), (0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)),
    "half_time": ((0, 1.75), (2,), (0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)),
}


def drum_loop(
    bpm: float,
    bars: int,
    sample_rate: int = 48000,
    *,
    pattern: str = "four_on_floor",
    seed: int = 0,
) -> Track:
    """Drums only, `bars` bars of 4/4 at `bpm`: a test fixture whose beats and hits are exact."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown drum pattern {pattern!r}; choose one of {', '.join(PATTERNS)}")
    if bpm <= 0 or bars <= 0:
        raise ValueError("bpm and bars must be positive")
    sr = sample_rate
    grid = _Grid(float(bpm), sr)
    rng = np.random.default_rng(seed)
    kick_t, snare_t = _kick(sr, rng), _snare(sr, rng)
    hat_t = _hat(sr, rng, 0.03, 0.1)
    n = grid.index(bars * 4)
    out = np.zeros((n, 2))
    kp, sp, hp = PATTERNS[pattern]
    kicks, snares, hats = [], [], []
    for b in range(bars):
        for p in kp:
            _place(out, kick_t, grid.index(b * 4 + p))
            kicks.append(b * 4 + p)
        for p in sp:
            _place(out, snare_t, grid.index(b * 4 + p), 0.6)
            snares.append(b * 4 + p)
        for p in hp:
            _place(out, _pan(hat_t, 0.15), grid.index(b * 4 + p), 0.35 * rng.uniform(0.8, 1.0))
            hats.append(b * 4 + p)
    beats = np.array([grid.time(k) for k in range(bars * 4)], dtype=np.float64)
    return Track(
        samples=_master(out),
        sample_rate=sr,
        bpm=float(bpm),
        beats=beats,
        downbeats=beats[::4].copy(),
        kicks=_times(grid, kicks),
        snares=_times(grid, snares),
        hats=_times(grid, hats),
        sections=(Section("loop", 0.0, n / sr),),
    )


# ---------------------------------------------------------------- annotated material (listening sets)
#
# Why: the listening benches and tests need music the analysis was never tuned on whose every hit, beat and
# bar is known: rolls and fills, brushes, band mixes, waltzes, 6/8, shuffles, songs at 85 and 170 BPM. Each
# generator takes a tempo and a seed; the seed varies the timbres, the humanised timing and the arrangement,
# so a set of files is many songs, not one song many times.

ONSET_MERGE = 0.03  # hits closer than this are one attack (a chord, a kick with a hat, a flam): one onset


@dataclass(frozen=True, eq=False)
class Material:
    """A rendered piece with what a listener would annotate: the attacks (onsets), the beats a dancer taps,
    the bar lines and the bar length (6/8 is 2 beats of 3)."""

    track: Track
    onsets: np.ndarray
    beats_per_bar: int
    kind: str


class _Score:
    """Places one-shot sounds at musical positions into a stereo buffer and writes down every attack."""

    def __init__(self, bpm: float, beats: float, sr: int, rng: np.random.Generator, jitter: float = 0.0):
        self.grid = _Grid(bpm, sr)
        self.sr = sr
        self.rng = rng
        self.jitter = jitter  # seconds (std) of human timing; the annotation follows the played time
        self.buf = np.zeros((self.grid.index(beats) + sr // 2, 2))
        self.attacks: list[float] = []
        self.kicks: list[float] = []
        self.snares: list[float] = []
        self.hats: list[float] = []

    def hit(
        self,
        beat: float,
        sound: np.ndarray,
        gain: float,
        pan: float = 0.0,
        onset: bool = True,
        offset: float = 0.0,
    ) -> float:
        """Play `sound` at `beat` (+ `offset` seconds, + human jitter); returns the time it was played."""
        dt = offset + (self.rng.normal(0.0, self.jitter) if self.jitter else 0.0)
        start = max(0, self.grid.index(beat) + round(dt * self.sr))
        _place(self.buf, _pan(sound, pan) if sound.ndim == 1 else sound, start, gain)
        t = start / self.sr
        if onset:
            self.attacks.append(t)
        return t

    def material(self, beats_per_bar: int, kind: str, n_beats: int, beat_unit: float = 1.0) -> Material:
        """The mix, mastered, cut to `n_beats` beats of `beat_unit` grid beats, with its annotations."""
        n = self.grid.index(n_beats * beat_unit)
        beats = np.array([self.grid.time(k * beat_unit) for k in range(n_beats)])
        track = Track(
            samples=_master(self.buf[:n]),
            sample_rate=self.sr,
            bpm=self.grid.bpm / beat_unit,
            beats=beats,
            downbeats=beats[::beats_per_bar].copy(),
            kicks=np.array(sorted(self.kicks)),
            snares=np.array(sorted(self.snares)),
            hats=np.array(sorted(self.hats)),
            sections=(Section(kind, 0.0, n / self.sr),),
        )
        attacks = np.array(sorted(t for t in self.attacks if t < n / self.sr - 0.05))
        return Material(track, merge_onsets(attacks), beats_per_bar, kind)


def merge_onsets(times: np.ndarray, within: float = ONSET_MERGE) -> np.ndarray:
    """Sorted attack times with each cluster closer than `within` kept as its first attack."""
    out: list[float] = []
    for t in np.sort(times):
        if not out or t - out[-1] >= within:
            out.append(float(t))
    return np.array(out)


def _tuned_snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A snare whose shell tuning, wire buzz and ring vary by seed (the fixed `_snare` is one kit)."""
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    f0 = rng.uniform(160.0, 240.0)
    tone = (np.sin(TWO_PI * f0 * t) + 0.6 * np.sin(TWO_PI * f0 * 1.6 * t)) * np.exp(
        -t / rng.uniform(0.03, 0.07)
    )
    wires = _highpass(_one_pole_lowpass(rng.standard_normal(n), rng.uniform(5000, 9000), sr), 1000.0, sr)
    body = wires * np.exp(-t / rng.uniform(0.06, 0.16))
    return (rng.uniform(0.3, 0.6) * tone + 0.8 * body) * _fade(n, int(0.0005 * sr), int(0.02 * sr))


def _tom(freq: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A tom: a pitch-dropping sine with a stick click."""
    n = int(0.5 * sr)
    t = np.arange(n) / sr
    phase = TWO_PI * np.cumsum(freq * (1.0 + 0.5 * np.exp(-t / 0.02))) / sr
    click = _highpass(rng.standard_normal(n), 2000.0, sr) * np.exp(-t / 0.003) * 0.3
    return (np.sin(phase) * np.exp(-t / 0.18) + click) * _fade(n, 0, int(0.03 * sr))


def _ride(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A ride cymbal: a ping on top of a long metallic wash."""
    n = int(1.2 * sr)
    t = np.arange(n) / sr
    metal = sum(np.sin(TWO_PI * f * rng.uniform(0.97, 1.03) * t) for f in (3150.0, 4280.0, 5430.0, 6890.0))
    wash = _highpass(rng.standard_normal(n), 5000.0, sr)
    return (0.25 * metal * np.exp(-t / 0.35) + 0.5 * wash * np.exp(-t / 0.5)) * _fade(n, 0, int(0.05 * sr))


def _brush_tap(sr: int, rng: np.random.Generator) -> np.ndarray:
    """A brush on the snare: soft, wide-band noise with a few milliseconds of attack, no stick crack."""
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    noise = _highpass(_one_pole_lowpass(rng.standard_normal(n), 6000.0, sr), 700.0, sr)
    env = (1.0 - np.exp(-t / 0.002)) * np.exp(-t / rng.uniform(0.05, 0.09))
    return noise * env


def _sweep(n: int, sr: int, rng: np.random.Generator, beat: float) -> np.ndarray:
    """Brushes swept in circles: steady noise whose level swells once a beat, never an attack."""
    t = np.arange(n) / sr
    noise = _highpass(_one_pole_lowpass(rng.standard_normal(n), 4000.0, sr), 800.0, sr)
    return noise * (0.6 + 0.4 * np.sin(TWO_PI * t / beat + rng.uniform(0, TWO_PI))) ** 2


def _upright(freq: float, sr: int) -> np.ndarray:
    """A plucked upright bass note: a thumped fundamental with a short bright attack."""
    n = int(0.6 * sr)
    t = np.arange(n) / sr
    tone = np.sin(TWO_PI * freq * t) + 0.4 * np.sin(TWO_PI * 2 * freq * t) * np.exp(-t / 0.05)
    return tone * np.exp(-t / 0.35) * _fade(n, int(0.003 * sr), int(0.05 * sr))


def _keys(
    notes: tuple[int, ...], length: float, sr: int, rng: np.random.Generator, bright: float
) -> np.ndarray:
    """A struck chord (piano/guitar-like): plucked saws, one per note, decaying."""
    return sum(_pluck_long(_midi_hz(m), length, sr, rng, bright) for m in notes) / len(notes)


def _pluck_long(freq: float, length: float, sr: int, rng: np.random.Generator, bright: float) -> np.ndarray:
    n = int(length * sr)
    t = np.arange(n) / sr
    dt = freq / sr
    saw = _saw(rng.uniform() + dt * np.arange(n), np.full(n, dt))
    return (
        _lowpass2(saw, bright, sr) * np.exp(-t / (0.3 * length)) * _fade(n, int(0.002 * sr), int(0.03 * sr))
    )


def _power_chord(root: int, length: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A distorted guitar power chord (root, fifth, octave): saturated saws, a band's loud steady wall."""
    n = int(length * sr)
    sig = sum(_pluck_long(_midi_hz(m), length, sr, rng, 3000.0) for m in (root, root + 7, root + 12))
    return np.tanh(4.0 * sig) * _fade(n, int(0.003 * sr), int(0.02 * sr)) * 0.5


def _soft_pad(notes: tuple[int, ...], length: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A pad with a slow swell: loud, steady, and without an attack to hear (no onset)."""
    n = int(length * sr)
    pad = _lowpass2(_pad_chord(notes, n, sr, rng), 1200.0, sr)
    return pad * _fade(n, int(0.25 * sr), int(0.25 * sr))[:, None]


def _progression(rng: np.random.Generator, bars: int) -> list[tuple[tuple[int, ...], int]]:
    """A chord per bar: the four chords of CHORDS in a seed's order, transposed by the seed."""
    order = rng.permutation(len(CHORDS))
    shift = int(rng.integers(-3, 4))
    return [
        (tuple(m + shift for m in CHORDS[order[b % 4]][1]), CHORDS[order[b % 4]][2] + shift)
        for b in range(bars)
    ]


def roll_fills(bpm: float, bars: int = 8, sample_rate: int = 48000, *, seed: int = 0) -> Material:
    """Grooves and fills in turn: 16th and 32nd snare rolls with accents and flams, tom runs, at `bpm` in 4/4.
    Every stroke is an onset; a flam's grace note (12–25 ms before its stroke) and the stroke are one."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 4, sr, rng)
    kick, snare, hat = _kick(sr, rng), _tuned_snare(sr, rng), _hat(sr, rng, 0.03, 0.1)
    toms = [_tom(f, sr, rng) for f in np.geomspace(rng.uniform(180, 230), rng.uniform(80, 100), 3)]
    for b in range(bars):
        b0 = b * 4
        if b % 2 == 0:  # a bar of groove
            for q in (0, 2):
                s.kicks.append(s.hit(b0 + q, kick, 1.0))
            for q in (1, 3):
                s.snares.append(s.hit(b0 + q, snare, 0.8))
            for e in range(8):
                s.hats.append(s.hit(b0 + e / 2, hat, 0.3, 0.2))
            continue
        per_beat = 8 if (b // 2) % 2 else 4  # 16ths, then 32nds
        fill_from = 0 if rng.uniform() < 0.5 else 2  # a whole bar or its second half
        if fill_from:
            s.kicks.append(s.hit(b0, kick, 1.0))
            s.snares.append(s.hit(b0 + 1, snare, 0.8))
        for k in range(fill_from * per_beat, 4 * per_beat):
            pos = b0 + k / per_beat
            accent = k % per_beat == 0
            if per_beat == 4 and k >= 3 * per_beat:  # the last beat on the toms
                s.hit(pos, toms[(k // 2) % 3], 0.9 if accent else 0.6)
                continue
            if accent and rng.uniform() < 0.5:  # a flam: the grace note, then the stroke
                s.hit(pos, snare, 0.3, -0.1, offset=-rng.uniform(0.012, 0.025))
                s.snares.append(s.hit(pos, snare, 1.0))
            else:
                s.snares.append(s.hit(pos, snare, 1.0 if accent else rng.uniform(0.35, 0.6)))
    return s.material(4, "rolls", bars * 4)


def brushes(bpm: float, bars: int = 8, sample_rate: int = 48000, *, seed: int = 0) -> Material:
    """A jazz trio with brushes: swung ride, hi-hat foot on 2 and 4, brush taps and steady sweeps, a walking
    upright bass and comping piano. The sweeps are loud and have no attack: they are not onsets."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 4, sr, rng, jitter=0.004)
    swing = rng.uniform(0.6, 0.7)  # where the swung eighth falls in the beat
    ride, tap, chick = _ride(sr, rng), _brush_tap(sr, rng), _hat(sr, rng, 0.02, 0.08)
    spb = 60.0 / bpm
    _place(s.buf, _pan(_sweep(s.buf.shape[0], sr, rng, spb), -0.2), 0, 0.12)
    chords = _progression(rng, bars)
    for b in range(bars):
        b0 = b * 4
        notes, root = chords[b]
        for q in range(4):
            s.hats.append(s.hit(b0 + q, ride, 0.35, 0.3))
            if q in (1, 3):
                s.hit(b0 + q + swing, ride, 0.22, 0.3)
                s.hit(b0 + q, chick, 0.25, -0.3)
                s.snares.append(s.hit(b0 + q, tap, 0.5))
            walk = root + 12 + (0, 4, 7, 5)[q] + (12 if root < 30 else 0)
            s.hit(b0 + q, _upright(_midi_hz(walk), sr), 0.8)
        for pos in rng.choice([0.0, swing, 1 + swing, 2.0, 2 + swing, 3 + swing], 2, replace=False):
            s.hit(b0 + pos, _keys(tuple(m + 12 for m in notes), 0.6, sr, rng, 1800.0), 0.5, 0.1)
    return s.material(4, "brushes", bars * 4)


def band_mix(bpm: float, bars: int = 8, sample_rate: int = 48000, *, seed: int = 0) -> Material:
    """A rock band: drums, an eighth-note bass, a distorted guitar chugging eighths, a lead line and a
    swelling pad under it all: loud, dense, steady music where each note's attack is an onset and the pad
    adds none."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 4, sr, rng, jitter=0.003)
    kick, snare = _kick(sr, rng), _tuned_snare(sr, rng)
    hat, crash = _hat(sr, rng, 0.04, 0.12), _crash(sr, rng)
    chords = _progression(rng, bars)
    lead_every = int(rng.integers(1, 3))  # a lead note every beat or every other eighth
    for b in range(bars):
        b0 = b * 4
        notes, root = chords[b]
        _place(s.buf, _soft_pad(notes, 4 * 60.0 / bpm + 0.3, sr, rng), s.grid.index(b0), 0.5)
        if b % 4 == 0:
            s.hit(b0, crash, 0.8)
        for q in (0, 2, 2.5) if seed % 2 else (0, 1.5, 2):
            s.kicks.append(s.hit(b0 + q, kick, 1.0))
        for q in (1, 3):
            s.snares.append(s.hit(b0 + q, snare, 0.9))
        bass = _bass_note(_midi_hz(root + 12), 0.9 * 30.0 / bpm, sr, False)
        chug = _power_chord(root + 24, 0.9 * 30.0 / bpm, sr, rng)
        for e in range(8):
            s.hats.append(s.hit(b0 + e / 2, hat, 0.25, 0.3))
            s.hit(b0 + e / 2, bass, 0.9)
            s.hit(b0 + e / 2, chug, 0.6, -0.3)
            if e % (2 * lead_every) == 0:
                m = notes[int(rng.integers(len(notes)))] + 12
                s.hit(b0 + e / 2, _pluck(_midi_hz(m), sr, rng), 0.5, 0.4)
    return s.material(4, "band", bars * 4)


def waltz(
    bpm: float, bars: int = 16, sample_rate: int = 48000, *, seed: int = 0, drums: bool = True
) -> Material:
    """A waltz in 3/4: the bass on one (accented), the chord on two and three (oom-pah-pah), the harmony
    changing on the bar line, with a light kit (kick on one, brush or hat on two and three) when `drums`."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 3, sr, rng, jitter=0.003)
    kick, hat = _kick(sr, rng), _hat(sr, rng, 0.03, 0.1)
    tap = _brush_tap(sr, rng)
    chords = _progression(rng, bars)
    spb = 60.0 / bpm
    for b in range(bars):
        b0 = b * 3
        notes, root = chords[b]
        s.hit(b0, _bass_note(_midi_hz(root + 12), 0.9 * spb, sr, True), 1.0)
        for q in (1, 2):
            s.hit(b0 + q, _keys(tuple(m + 12 for m in notes), 0.8 * spb, sr, rng, 2500.0), 0.45, 0.2)
        if drums:
            s.kicks.append(s.hit(b0, kick, 0.8))
            for q in (1, 2):
                s.hats.append(s.hit(b0 + q, tap if seed % 2 else hat, 0.3, -0.2))
    return s.material(3, "waltz", bars * 3)


def six_eight(bpm: float, bars: int = 16, sample_rate: int = 48000, *, seed: int = 0) -> Material:
    """6/8 at `bpm` dotted quarters: two beats of three eighths per bar, the kick on one, the snare on four,
    eighths on the hat and an arpeggio, the bass on one and four."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    eighth_bpm = 3 * bpm  # the score runs in eighths
    s = _Score(eighth_bpm, bars * 6, sr, rng, jitter=0.003)
    kick, snare, hat = _kick(sr, rng), _tuned_snare(sr, rng), _hat(sr, rng, 0.03, 0.1)
    chords = _progression(rng, bars)
    for b in range(bars):
        b0 = b * 6
        notes, root = chords[b]
        s.kicks.append(s.hit(b0, kick, 1.0))
        s.snares.append(s.hit(b0 + 3, snare, 0.8))
        for e in range(6):
            s.hats.append(s.hit(b0 + e, hat, 0.35 if e % 3 == 0 else 0.2, 0.3))
            m = notes[(0, 1, 2, 3, 2, 1)[e]] + 12
            s.hit(b0 + e, _pluck(_midi_hz(m), sr, rng), 0.35, -0.3)
        for e in (0, 3):
            s.hit(b0 + e, _bass_note(_midi_hz(root + 12), 2.7 * 20.0 / bpm, sr, False), 0.8)
    return s.material(2, "six_eight", bars * 2, beat_unit=3.0)


def shuffle(bpm: float, bars: int = 12, sample_rate: int = 48000, *, seed: int = 0) -> Material:
    """4/4 with a triplet feel (a shuffle): hats and bass on the first and third triplet of each beat, kick on
    one and three, snare on two and four, a chord each bar. It is in four, however much it swings."""
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 4, sr, rng, jitter=0.003)
    kick, snare, hat = _kick(sr, rng), _tuned_snare(sr, rng), _hat(sr, rng, 0.03, 0.1)
    chords = _progression(rng, bars)
    spb = 60.0 / bpm
    for b in range(bars):
        b0 = b * 4
        notes, root = chords[b]
        s.hit(b0, _keys(tuple(m + 12 for m in notes), 3.5 * spb, sr, rng, 2000.0), 0.4, 0.1)
        for q in range(4):
            if q in (0, 2):
                s.kicks.append(s.hit(b0 + q, kick, 1.0))
            else:
                s.snares.append(s.hit(b0 + q, snare, 0.8))
            for third, gain in ((0.0, 0.3), (2 / 3, 0.22)):
                s.hats.append(s.hit(b0 + q + third, hat, gain, 0.3))
                note = root + 12 + (0 if third == 0 else 7)
                s.hit(b0 + q + third, _bass_note(_midi_hz(note), 0.3 * spb, sr, False), 0.7)
    return s.material(4, "shuffle", bars * 4)


# Drum patterns that say which tempo a dancer taps: (kick, snare, hat positions in beats of a 4/4 bar)
SONG_STYLES: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    # 85 BPM: boom-bap (kick 1 and the "a" of 2, snare 2 and 4, sixteenth hats) and a country ballad
    "hiphop": ((0, 1.75, 2.5), (1, 3), tuple(k / 4 for k in range(16))),
    "ballad": ((0, 2), (1, 3), tuple(k / 2 for k in range(8))),
    # 170 BPM: drum & bass two-step (kick 1 and the "and" of 3, snare 2 and 4) and punk (8th hats, kick and
    # snare trading beats)
    "dnb": ((0, 2.5), (1, 3), tuple(k / 2 for k in range(8))),
    "punk": ((0, 2), (1, 3), tuple(k / 2 for k in range(8))),
}


def styled_song(
    bpm: float, style: str, bars: int = 12, sample_rate: int = 48000, *, seed: int = 0
) -> Material:
    """A song in a style whose drums tell its tempo (SONG_STYLES), with a bass line and chords."""
    if style not in SONG_STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(SONG_STYLES)}")
    rng = np.random.default_rng(seed)
    sr = sample_rate
    s = _Score(bpm, bars * 4, sr, rng, jitter=0.002)
    kick, snare, hat = _kick(sr, rng), _tuned_snare(sr, rng), _hat(sr, rng, 0.025, 0.08)
    chords = _progression(rng, bars)
    spb = 60.0 / bpm
    kp, sp, hp = SONG_STYLES[style]
    for b in range(bars):
        b0 = b * 4
        notes, root = chords[b]
        for q in kp:
            s.kicks.append(s.hit(b0 + q, kick, 1.0))
        for q in sp:
            s.snares.append(s.hit(b0 + q, snare, 0.9))
        for k, q in enumerate(hp):
            s.hats.append(s.hit(b0 + q, hat, 0.3 if k % 2 == 0 else 0.18, 0.3))
        if style == "dnb":  # a long sub bass note per half bar
            for q in (0, 2):
                s.hit(b0 + q, _bass_note(_midi_hz(root), 1.9 * spb, sr, True), 0.9)
            _place(s.buf, _soft_pad(notes, 4 * spb + 0.3, sr, rng), s.grid.index(b0), 0.4)
        elif style == "punk":  # power chords on every eighth
            chug = _power_chord(root + 24, 0.45 * spb, sr, rng)
            for e in range(8):
                s.hit(b0 + e / 2, chug, 0.5, -0.3)
        else:  # a bass on the kicks, a strummed chord on one and three
            for q in kp:
                s.hit(b0 + q, _bass_note(_midi_hz(root + 12), 0.7 * spb, sr, False), 0.8)
            for q in (0, 2):
                s.hit(b0 + q, _keys(tuple(m + 12 for m in notes), 1.8 * spb, sr, rng, 2200.0), 0.4, 0.2)
    return s.material(4, style, bars * 4)


def write_wav(track: Track, path: str | Path) -> Path:
    """Write the track as 16-bit PCM WAV with the stdlib, so any player or decoder can open it."""
    path = Path(path)
    data = np.clip(np.asarray(track.samples, dtype=np.float64), -1.0, 1.0)
    pcm = np.round(data * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(track.sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.audio.synth OUT.wav [SEED]`: render the demo song to a WAV file."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m engine.audio.synth OUT.wav [SEED]", file=sys.stderr)
        return 2
    seed = int(args[1]) if len(args) > 1 else 0
    out = write_wav(demo_track(seed=seed), args[0])
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
