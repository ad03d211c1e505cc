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
