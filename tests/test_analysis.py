"""The analysis hears what was played: checked against the synthesizer's exact hit times."""

import numpy as np
import pytest

from engine.analysis.analyzer import Analyzer
from engine.audio.synth import drum_loop

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
    mono = loop.samples.mean(axis=1)
    _, loud, _ = trace(mono)
    _, quiet, _ = trace(mono * 0.03)  # -30 dB
    loud_levels = np.array([s.bands["bass"].level for s in loud[-200:]])
    quiet_levels = np.array([s.bands["bass"].level for s in quiet[-200:]])
    assert quiet_levels.mean() == pytest.approx(loud_levels.mean(), rel=0.1)
    loudest = max(s.loudness for s in loud[-200:])
    assert max(s.loudness for s in quiet[-200:]) == pytest.approx(loudest - 30.5, abs=1.0)


def test_onsets_are_found_at_the_kicks_and_known_after_they_happen(loop):
    a = Analyzer(SR)
    a.feed(loop.samples.mean(axis=1))
    onsets = a.drain_onsets()
    assert all(o.known_at >= o.time for o in onsets)
    found = sum(any(abs(o.time - k) < 0.05 for o in onsets) for k in loop.kicks)
    assert found / len(loop.kicks) >= 0.9


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
