"""The analysis hears what was played: checked against the synthesizer's exact hit times."""

import json

import numpy as np
import pytest
from conftest import run_cli

from engine.analysis.analyzer import Analyzer
from engine.audio.synth import drum_loop, write_wav

SR = 48000


@pytest.fixture(scope="module")
def loop():
    return drum_loop(124, 8, SR)


def trace(mono: np.ndarray, step: float = 0.005):
    """(times, snapshots) every `step` seconds, fed causally like the live engine."""
    a = Analyzer(SR)
    times, snaps = [], []
    for t in np.arange(step, len(mono) / SR, step):
        a.feed(mono[a.samples_fed : int(t * SR)])
        times.append(t)
        snaps.append(a.snapshot())
    return np.array(times), snaps, a


def test_bass_hits_spike_right_after_every_kick(loop):
    times, snaps, _ = trace(loop.samples.mean(axis=1))
    hits = np.array([s.bands["bass"].hits for s in snaps])
    late = []
    for kick in loop.kicks[1:]:
        before = hits[(times > kick - 0.06) & (times <= kick)].max()
        after = hits[(times > kick) & (times <= kick + 0.04)].max()
        assert after > before + 0.3, f"kick at {kick:.3f}s: hits {before:.2f} → {after:.2f}"
        late.append(times[(times > kick) & (hits > before + 0.3)][0] - kick)
    assert np.median(late) < 0.03  # seen within 30 ms


def test_levels_adapt_to_a_quiet_room(loop):
    """The same track at -30 dB and at 0 dB: every band's level within 10 % after 5 s."""
    mono = loop.samples.mean(axis=1)
    times, loud, _ = trace(mono)
    _, quiet, _ = trace(mono * 0.0316)  # -30 dB
    settled = times > 5.0
    for band in ("bass", "lowmid", "mid", "highmid", "high", "full"):
        loud_levels = np.array([s.bands[band].level for s in loud])[settled]
        quiet_levels = np.array([s.bands[band].level for s in quiet])[settled]
        assert quiet_levels.mean() == pytest.approx(loud_levels.mean(), rel=0.1), band
    loudest = max(s.loudness for s in loud[-200:])
    assert max(s.loudness for s in quiet[-200:]) == pytest.approx(loudest - 30.0, abs=1.0)


def test_onsets_are_found_at_the_hits_within_10_ms_and_kicks_and_snares_known_within_a_hop(loop):
    a = Analyzer(SR)
    a.feed(loop.samples.mean(axis=1))
    onsets = a.drain_onsets()
    times = np.array([o.time for o in onsets])

    def heard(hits):
        hits = hits[hits > 0.1]  # the very start of a stream is no onset
        return np.mean([np.min(np.abs(times - h)) < 0.010 for h in hits])

    assert heard(loop.kicks) == 1.0 and heard(loop.snares) == 1.0
    assert heard(loop.hats) >= 0.8  # soft hats right after a kick are the hardest
    kicks = [o for o in onsets if o.band == "low"]
    assert all(np.min(np.abs(loop.kicks - o.time)) < 0.010 for o in kicks), "the low band hears kicks"
    assert all(0 <= o.known_at - o.time <= 0.020 for o in onsets)
    assert all(0 < o.strength <= 1 for o in onsets)
    hop = 256 / SR
    delays = [  # from each kick or snare to the first onset known near it
        min(o.known_at for o in onsets if abs(o.time - hit) < 0.010) - hit
        for hit in np.concatenate([loop.kicks, loop.snares])
        if hit > 0.1
    ]
    assert np.median(delays) <= 0.75 * hop and max(delays) <= 1.5 * hop, "known in the hop the hit began in"


def test_silence_is_silent():
    a = Analyzer(SR)
    a.feed(np.zeros(SR, np.float32))
    f = a.snapshot()
    assert f.silence and f.bands["bass"].level == 0.0 and f.onset_count == 0


def test_chunk_size_does_not_change_what_is_heard(loop):
    """Live audio arrives in arbitrary blocks; offline in one go: both must hear the same."""
    mono = loop.samples.mean(axis=1)[: SR * 3]
    whole = Analyzer(SR)
    whole.feed(mono)
    pieces = Analyzer(SR)
    rng = np.random.default_rng(1)
    i = 0
    while i < len(mono):
        n = int(rng.integers(1, 700))
        pieces.feed(mono[i : i + n])
        i += n
    a, b = whole.snapshot().values(), pieces.snapshot().values()
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == pytest.approx(b[name], rel=1e-6, abs=1e-9), name
    assert whole.drain_onsets() == pieces.drain_onsets()  # every onset, at the same time and strength


def test_analyze_prints_what_the_live_engine_hears(tmp_path):
    track = drum_loop(128, 12, SR, pattern="breakbeat")
    wav = write_wav(track, tmp_path / "loop.wav")
    result = run_cli("analyze", str(wav), "--json")
    assert result.returncode == 0, result.stderr
    heard = json.loads(result.stdout)
    assert heard["tempo"] == pytest.approx(128, rel=0.02) and 0 < heard["tempo_confidence"] <= 1
    beats = np.array([b["time"] for b in heard["beats"]])
    late = beats[beats > 6]
    assert np.all(np.min(np.abs(late[:, None] - track.beats[None, :]), axis=1) < 0.03)
    assert all(b["known_at"] <= b["time"] for b in heard["beats"])
    assert set(heard["downbeats"]) <= set(beats.tolist())
    onsets = heard["onsets"]
    assert onsets and all(o["known_at"] >= o["time"] and 0 < o["strength"] <= 1 for o in onsets)


def test_analyze_plots_what_it_hears(tmp_path):
    pytest.importorskip("matplotlib")
    wav = write_wav(drum_loop(120, 4, SR), tmp_path / "loop.wav")
    result = run_cli("analyze", str(wav), "--plot", str(tmp_path / "heard.png"))
    assert result.returncode == 0, result.stderr
    assert "BPM" in result.stdout
    from PIL import Image

    with Image.open(tmp_path / "heard.png") as image:
        assert image.size[0] >= 1000 and len(image.getcolors(1 << 16) or range(2000)) > 50


def test_analyze_refuses_a_file_that_is_not_audio(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a sound")
    result = run_cli("analyze", str(bad))
    assert result.returncode == 1
    assert "notes.txt" in result.stderr and "Traceback" not in result.stderr
