"""The rendered show: deterministic, and visibly following the music (checked against the synth's truth)."""

import hashlib

import numpy as np
import pytest

from engine.audio.buffer import AudioBuffer
from engine.audio.synth import demo_track
from engine.offline import render_frames
from engine.paths import DEMO_PRESET
from engine.show.preset import load_preset

SIZE = (256, 144)
FPS = 50


@pytest.fixture(scope="module")
def track():
    return demo_track()


@pytest.fixture(scope="module")
def demo_render(track):
    """Brightness and mean colour of every frame of the whole demo, rendered headless."""
    audio = AudioBuffer(track.samples, track.sample_rate)
    times, brightness, colour = [], [], []
    for ft, rgba in render_frames(load_preset(DEMO_PRESET), audio, SIZE, FPS):
        rgb = rgba[..., :3].astype(np.float32)
        times.append(ft.time)
        brightness.append(rgb.mean())
        colour.append(rgb.reshape(-1, 3).mean(axis=0))
    return np.array(times), np.array(brightness), np.array(colour)


def test_kicks_pulse_the_picture(track, demo_render):
    times, brightness, _ = demo_render
    brighter = []
    for kick in track.kicks:
        before = brightness[(times >= kick - 0.06) & (times < kick)]
        after = brightness[(times >= kick) & (times < kick + 0.1)]
        if len(before) and len(after):
            brighter.append(after.mean() > before.mean())
    assert len(brighter) > 60
    assert np.mean(brighter) >= 0.9, f"only {np.mean(brighter):.0%} of kicks brightened the picture"


def test_the_drop_changes_the_look(track, demo_render):
    times, _, colour = demo_render
    sections = {s.name: s for s in track.sections}

    def warmth(name: str) -> float:
        s = sections[name]
        sel = (times >= s.start + 2.0) & (times < s.end)
        r, _, b = colour[sel].mean(axis=0)
        return r / max(b, 1e-3)

    assert warmth("drop") > 1.5 * warmth("groove")
    assert warmth("drop") > 1.5 * warmth("intro")


def frame_hashes(preset, audio, seconds=1.5) -> list[str]:
    return [hashlib.sha256(rgba).hexdigest() for _, rgba in render_frames(preset, audio, SIZE, 30, seconds)]


def test_same_inputs_give_identical_frames(track):
    audio = AudioBuffer(track.samples, track.sample_rate).until(40.0)
    preset = load_preset(DEMO_PRESET)
    first = frame_hashes(preset, audio)
    assert first == frame_hashes(load_preset(DEMO_PRESET), audio)
    assert len(set(first)) > len(first) // 2  # and the picture is moving


def demo_variant(tmp_path, *edits: tuple[str, str]):
    """The demo preset, edited, saved elsewhere (clip paths made absolute)."""
    text = DEMO_PRESET.read_text().replace('"clips/', f'"{DEMO_PRESET.parent}/clips/')
    for old, new in edits:
        text = text.replace(old, new)
    path = tmp_path / "variant.toml"
    path.write_text(text)
    return load_preset(path)


def test_a_missing_clip_is_skipped_and_the_show_goes_on(tmp_path, track):
    preset = demo_variant(tmp_path, ("clips/ember.mp4", "clips/gone.mp4"))
    audio = AudioBuffer(track.samples, track.sample_rate).until(1.0)
    frames = [rgba for _, rgba in render_frames(preset, audio, SIZE, 10)]
    assert len(frames) == 10
    assert all(f[..., :3].mean() > 3 for f in frames)  # not black: the other clip still plays


def test_master_level_zero_is_black(tmp_path, track):
    preset = demo_variant(tmp_path, ("[output]", "[master]\nlevel = 0.0\n\n[output]"))
    audio = AudioBuffer(track.samples, track.sample_rate).until(0.5)
    assert all(rgba[..., :3].max() == 0 for _, rgba in render_frames(preset, audio, SIZE, 10))
