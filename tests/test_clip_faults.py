"""Clips that change under the show: deleted before they play, truncated while they play, overwritten with
random bytes. Each is reported once; no deck goes black; a bank's rotation skips the broken clip, goes on."""

from __future__ import annotations

import logging
import os
import shutil

import numpy as np
import pytest

from engine.audio.buffer import AudioBuffer
from engine.audio.synth import drum_loop
from engine.clips.bank import AutoAdvance, Selector, load_bank
from engine.clips.deck import Deck, Director, TransitionSpec
from engine.clips.faults import ClipFaults
from engine.clips.generate import generate_clip
from engine.clips.playhead import Playback
from engine.clips.prepare import PrepareSettings, prepare
from engine.offline import render_frames
from engine.paths import PRESETS_DIR
from engine.show.preset import load_preset

CLIPS = PRESETS_DIR / "demo" / "clips"


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    generate_clip(root / "ember2.mp4", "ember", size=(96, 54), fps=24, seconds=2.0)
    sources = [CLIPS / "ember.mp4", CLIPS / "nebula.mp4", root / "ember2.mp4"]
    outcomes = prepare(sources, root / "clips", PrepareSettings((64, 36), 24.0, deflicker=False))
    assert [o.status for o in outcomes] == ["prepared"] * 3
    return root / "clips"


@pytest.fixture
def folder(bank, tmp_path):
    """A fresh copy of the bank for each test (the tests damage it)."""
    shutil.copytree(bank, tmp_path / "clips")
    return tmp_path / "clips"


def play(deck: Deck, frames: range, fps: float = 24.0):
    return [deck.frame(n / fps, None) for n in frames]


def cut_in_half(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def overwrite_with_random_bytes(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:  # in place: the open clip sees the new bytes
        f.write(np.random.default_rng(1).integers(0, 256, size, np.uint8).tobytes())


@pytest.mark.parametrize("damage", [cut_in_half, overwrite_with_random_bytes])
def test_a_playing_clip_damaged_under_the_show_keeps_its_last_good_frame(folder, damage, caplog):
    faults = ClipFaults()
    deck = Deck("A", wait=1.0, faults=faults)
    assert deck.load(folder / "nebula.mov", Playback())
    deck.start(0.0, 0.0)
    shown = play(deck, range(6))
    assert all(f is not None for f in shown)
    with caplog.at_level(logging.WARNING):
        damage(folder / "nebula.mov")
        later = play(deck, range(6, 60))  # the rest of the clip: each frame is read from the damaged file
    assert all(f is not None for f in later)  # never black: the last good frame stays up
    assert deck.broken
    said = faults.drain()
    assert len(said) == 1 and "nebula.mov" in said[0] and "last good frame" in said[0]
    assert sum("nebula.mov" in r.getMessage() for r in caplog.records) == 1  # reported once
    deck.unload()


def test_a_clip_that_cannot_be_loaded_leaves_the_deck_playing_what_it_had(folder):
    faults = ClipFaults()
    deck = Deck("A", wait=1.0, faults=faults)
    assert deck.load(folder / "ember.mov", Playback())
    deck.start(0.0, 0.0)
    before = play(deck, range(3))[-1]
    (folder / "nebula.mov").unlink()
    overwrite_with_random_bytes(folder / "ember2.mov")
    assert not deck.load(folder / "nebula.mov")
    assert not deck.load(folder / "ember2.mov")
    assert not deck.load(folder / "nebula.mov")  # the same fault again is not said again
    assert deck.clip == folder / "ember.mov" and play(deck, range(3, 4))[0] is not None
    assert before is not None
    said = faults.drain()
    assert len(said) == 2 and "nebula.mov" in said[0] and "ember2.mov" in said[1]
    deck.unload()


def test_a_bank_skips_a_deleted_clip_and_goes_on(folder):
    director = Director(
        Selector(load_bank(folder)), AutoAdvance(bars=1, on_drop=False), TransitionSpec("bar", 1.0), wait=1.0
    )
    (folder / "ember2.mov").unlink()  # the third clip is deleted after the bank was read
    on_air = []
    for n in range(24 * 9):  # 9 s at 120 BPM: a change every bar (2 s)
        t = n / 24
        mix = director.update(t, t * 2.0, 0.5)
        assert mix.a is not None  # never black
        on_air.append(director.decks[director.live].clip.name)
    order = [name for i, name in enumerate(on_air) if i == 0 or name != on_air[i - 1]]
    assert order[:4] == ["ember.mov", "nebula.mov", "ember.mov", "nebula.mov"]  # ember2 skipped, rotation on
    assert len(director.faults.drain()) == 1
    director.close()


class TruncateAt:
    """Truncates the clip on air at one frame of an offline render (a file changing under the show)."""

    def __init__(self, path, frame: int):
        self.path, self.frame = path, frame

    def before_frame(self, show, ft):
        if ft.index == self.frame:
            cut_in_half(self.path)

    def after_frame(self, show, ft, values):
        pass

    def close(self):
        pass


def test_a_fixed_deck_truncated_while_it_plays_never_goes_black(folder):
    (folder / "show.toml").write_text(
        'name = "fault"\n[shader]\nfile = "effects/pulse.fs"\n[clips]\n'
        f'a = "{folder / "nebula.mov"}"\nb = "{folder / "nebula.mov"}"\ntransition = "fade"\n'
    )
    preset = load_preset(folder / "show.toml")
    loop = drum_loop(120, 3)
    hook = TruncateAt(folder / "nebula.mov", 10)
    audio = AudioBuffer(loop.samples, loop.sample_rate)
    frames = render_frames(preset, audio, (64, 36), 12, 4.0, hooks=[hook])
    levels = [float(rgba[..., :3].mean()) for _, rgba in frames]
    assert len(levels) == 48 and min(levels) > 5  # every frame shows a picture, before and after the cut
