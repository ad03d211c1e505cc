"""Clips in the rendered show: a prepared bank changes clips on the bar, deterministically offline."""

import hashlib

import numpy as np
import pytest

from engine.audio.buffer import AudioBuffer
from engine.audio.synth import drum_loop
from engine.clips.prepare import PrepareSettings, prepare
from engine.offline import render_frames
from engine.paths import PRESETS_DIR
from engine.show.preset import load_preset

CLIPS = PRESETS_DIR / "demo" / "clips"
PRESET = """name = "bank test"
[shader]
file = "effects/pulse.fs"
inputs = {{ glow = 0.5 }}
[clips]
bank = "{bank}"
policy = "sequential"
advance_bars = 1
advance_on_drop = false
quantize = "bar"
transition_beats = 0.5
beat_sync = 4
"""


@pytest.fixture(scope="module")
def bank_preset(tmp_path_factory):
    root = tmp_path_factory.mktemp("bank")
    outcomes = prepare(
        [CLIPS / "ember.mp4", CLIPS / "nebula.mp4"], root / "clips", PrepareSettings((96, 56), 24.0)
    )
    assert [o.status for o in outcomes] == ["prepared", "prepared"]
    path = root / "show.toml"
    path.write_text(PRESET.format(bank=root / "clips"))
    return load_preset(path)


def warmth_per_frame(preset, audio, fps=20, seconds=8.0):
    warmth, hashes = [], []
    for _, rgba in render_frames(preset, audio, (64, 36), fps, seconds):
        r, _, b = rgba[..., :3].reshape(-1, 3).astype(float).mean(0)
        warmth.append(r - b)
        hashes.append(hashlib.sha256(rgba).hexdigest())
    return np.array(warmth), hashes


def test_bank_clips_change_on_bar_lines_and_render_deterministically(bank_preset):
    loop = drum_loop(120, 5)
    audio = AudioBuffer(loop.samples, loop.sample_rate)
    warmth, hashes = warmth_per_frame(bank_preset, audio)
    _, hashes_again = warmth_per_frame(load_preset(bank_preset.path), audio)
    assert hashes == hashes_again
    warm = warmth > 0  # ember on air (warm) vs nebula (cool)
    changes = np.nonzero(warm[1:] != warm[:-1])[0] + 1
    assert len(changes) >= 3  # ember, nebula, ember… every bar
    bar = 4 * 60 / 120  # 2 s at 120 BPM
    assert np.diff(changes) / 20 == pytest.approx(bar, abs=0.15)  # one clip per bar, on the beat grid
