"""The built-in synth: the demo song and drum loops must carry exact, audible ground truth."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from engine.audio.synth import Track, demo_track, drum_loop, write_wav


@pytest.fixture(scope="module")
def demo() -> Track:
    return demo_track()


def _band_energy(x: np.ndarray, sr: int, lo: float = 20.0, hi: float = 150.0) -> float:
    """Energy of mono signal x between lo and hi Hz."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    return float(spec[(f >= lo) & (f <= hi)].sum())


def _mono(track: Track) -> np.ndarray:
    return track.samples.astype(np.float64).mean(axis=1)


def test_demo_is_a_minute_at_124_bpm(demo: Track) -> None:
    assert demo.samples.dtype == np.float32
    assert demo.samples.shape == (round(demo.duration * demo.sample_rate), 2)
    assert demo.sample_rate == 48000
    assert 58.0 <= demo.duration <= 62.0
    assert demo.bpm == 124.0
    peak = np.abs(demo.samples).max()
    assert 0.5 < peak <= 0.95
    assert demo.beats[0] == 0.0
    np.testing.assert_allclose(np.diff(demo.beats), 60.0 / 124.0, atol=1.0 / demo.sample_rate)
    assert demo.beats[-1] < demo.duration
    np.testing.assert_array_equal(demo.downbeats, demo.beats[::4])


def test_demo_sections_in_order_and_cover_the_song(demo: Track) -> None:
    names = [s.name for s in demo.sections]
    assert names == ["intro", "groove", "breakdown", "drop", "outro"]
    assert demo.sections[0].start == 0.0
    assert demo.sections[-1].end == pytest.approx(demo.duration)
    for a, b in zip(demo.sections, demo.sections[1:], strict=False):
        assert a.end == b.start
    bar = 4 * 60.0 / 124.0
    lengths = {s.name: (s.end - s.start) / bar for s in demo.sections}
    assert lengths["intro"] == pytest.approx(8, abs=0.01)
    assert lengths["breakdown"] == pytest.approx(4, abs=0.01)
    assert lengths["drop"] == pytest.approx(10, abs=0.01)


def test_hit_times_are_exact_samples_on_the_grid(demo: Track) -> None:
    sr = demo.sample_rate
    for hits in (demo.kicks, demo.snares, demo.hats, demo.beats):
        idx = hits * sr
        np.testing.assert_allclose(idx, np.round(idx), rtol=0, atol=1e-6)
    assert demo.kicks[0] == demo.beats[0]
    assert np.isin(demo.kicks, demo.beats).all()  # the kick is always on a beat
    bd = demo.sections[2]
    assert not ((demo.kicks >= bd.start) & (demo.kicks < bd.end)).any()
    assert (demo.snares >= demo.sections[1].start).all()  # snare arrives with the groove


def test_every_kick_is_a_low_frequency_energy_rise(demo: Track) -> None:
    x, sr = _mono(demo), demo.sample_rate
    w = int(0.03 * sr)
    for t in demo.kicks[1:]:
        i = round(t * sr)
        before = _band_energy(x[i - w : i], sr)
        after = _band_energy(x[i : i + w], sr)
        assert after > 3.0 * before, f"kick at {t:.3f}s: {after:.3g} vs {before:.3g}"


def test_breakdown_has_less_bass_and_drop_is_loudest(demo: Track) -> None:
    x, sr = _mono(demo), demo.sample_rate
    sec = {s.name: x[round(s.start * sr) : round(s.end * sr)] for s in demo.sections}

    def bass_power(seg: np.ndarray) -> float:
        return _band_energy(seg, sr) / len(seg)

    assert bass_power(sec["breakdown"]) < 0.1 * bass_power(sec["drop"])

    def rms(seg: np.ndarray) -> float:
        return float(np.sqrt(np.mean(seg**2)))

    assert rms(sec["drop"]) > rms(sec["groove"]) > rms(sec["intro"]) > rms(sec["breakdown"])


def test_same_seed_same_song_other_seed_differs() -> None:
    a = demo_track(sample_rate=16000, seed=3)
    b = demo_track(sample_rate=16000, seed=3)
    c = demo_track(sample_rate=16000, seed=4)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    np.testing.assert_array_equal(a.kicks, c.kicks)  # the seed varies sound, never timing


@pytest.mark.parametrize("pattern", ["four_on_floor", "breakbeat", "half_time"])
@pytest.mark.parametrize("bpm", [90.0, 128.0, 174.0])
def test_drum_loop_plays_at_requested_bpm(pattern: str, bpm: float) -> None:
    sr = 16000
    loop = drum_loop(bpm, 4, sr, pattern=pattern, seed=1)
    assert loop.bpm == bpm
    assert loop.duration == pytest.approx(16 * 60.0 / bpm, abs=1.0 / sr)
    np.testing.assert_allclose(np.diff(loop.beats), 60.0 / bpm, atol=1.0 / sr)
    assert len(loop.kicks) and len(loop.snares) and len(loop.hats)
    # the audio itself repeats every bar of the requested tempo, and not at a 5% wrong tempo
    env = np.abs(_mono(loop))
    hop = sr // 200
    env = env[: len(env) // hop * hop].reshape(-1, hop).mean(axis=1)
    bar = 4 * 60.0 / bpm * 200

    def corr(lag: float) -> float:
        lag_i = round(lag)
        return float(np.corrcoef(env[:-lag_i], env[lag_i:])[0, 1])

    assert corr(bar) > 0.9
    assert corr(bar) > corr(bar * 1.05) + 0.2
    # each kick is audible as a low-end jump
    x, w = _mono(loop), int(0.03 * sr)
    for t in loop.kicks[1:]:
        i = round(t * sr)
        assert _band_energy(x[i : i + w], sr) > 3.0 * _band_energy(x[i - w : i], sr)


def test_drum_loop_rejects_unknown_pattern() -> None:
    with pytest.raises(ValueError, match="four_on_floor"):
        drum_loop(120, 1, pattern="polka")


def test_write_wav_round_trips(tmp_path) -> None:
    loop = drum_loop(120, 1, 22050)
    path = write_wav(loop, tmp_path / "loop.wav")
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 22050)
        assert w.getnframes() == loop.samples.shape[0]
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    np.testing.assert_allclose(pcm / 32767.0, loop.samples, atol=1.0 / 32767.0)
