"""The shipped preset library: every preset loads, checks, answers the kick, stays safe for a dark room,
and is documented with a moving thumbnail; the shaders made for it render clean pictures."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import moderngl
import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from engine.audio.buffer import AudioBuffer
from engine.audio.synth import demo_track, drum_loop
from engine.offline import render_frames
from engine.paths import ROOT, SHADERS_DIR
from engine.render.isf import load_isf
from engine.render.program import FrameInfo, IsfProgram
from engine.show.preset import Preset, load_preset, source_names
from engine.show.setlist import load_setlist

PRESETS_DIR = ROOT / "presets"
SETLIST = PRESETS_DIR / "setlists" / "demo-set.toml"
PRESETS = sorted(p for p in PRESETS_DIR.rglob("*.toml") if "[[cue]]" not in p.read_text())
DOCS = ROOT / "docs" / "presets.md"
THUMBS = ROOT / "docs" / "thumbs" / "presets"
GENRES = ("techno", "house", "drum-and-bass", "dubstep", "ambient", "hip-hop", "rock", "singer-songwriter")
# The generators and effects made for the library (the older ones have their own tests).
LIBRARY_SHADERS = [
    *(f"generators/{n}.fs" for n in ("laser_fan", "grid_floor", "starfield", "smoke", "eq_bars", "wobble")),
    *(f"generators/{n}.fs" for n in ("spotlights", "bokeh", "hex_pulse")),
    *(f"effects/{n}.fs" for n in ("vhs", "mirror", "mosaic", "duotone", "shake")),
]
SIZE, FPS, SECONDS = (160, 90), 20, 3.6
LUMA = np.array([0.2126, 0.7152, 0.0722])


@cache
def demo_intro() -> tuple[AudioBuffer, float]:
    """The first seconds of the demo song (kicks on every beat, hats on the off-beats) and its beat length."""
    track = demo_track()
    n = int((SECONDS + 0.3) * track.sample_rate)
    return AudioBuffer(track.samples[:n], track.sample_rate), 60.0 / track.bpm


@cache
def breakbeat() -> AudioBuffer:
    """A drum & bass break at 174 BPM: kick and snare hits 3.6 times a second, hats on every eighth."""
    track = drum_loop(174.0, 3, pattern="breakbeat")
    return AudioBuffer(track.samples, track.sample_rate)


@cache
def rendered(path: Path, fast: bool = False) -> np.ndarray:
    """The preset rendered against the demo intro (or 2 s of the fast break): RGB frames (n, h, w, 3)."""
    audio = breakbeat() if fast else demo_intro()[0]
    frames = render_frames(load_preset(path), audio, SIZE, FPS, 2.0 if fast else SECONDS)
    return np.stack([rgba[..., :3] for _, rgba in frames])


def frame_luma(frames: np.ndarray) -> np.ndarray:
    """Each frame's mean luma, 0..1 (Rec. 709 weights on the sRGB values, which overstates dark flashes)."""
    return frames.reshape(len(frames), -1, 3).mean(axis=1) @ LUMA / 255.0


def label(path: Path) -> str:
    return path.stem


def sources_heard(preset: Preset) -> set[str]:
    """Every analysis value the look reads: its modulations' sources and the hl_* names in its shaders."""
    uniforms = {"hl_" + name.replace(".", "_"): name for name in source_names()}
    heard = {m.source for m in preset.modulations}
    for layer in preset.layers:
        text = layer.shader.path.read_text()
        heard |= {uniforms[u] for u in re.findall(r"\bhl_[a-z_]+", text) if u in uniforms}
    return heard


def test_the_whole_library_passes_halation_check():
    """One CLI run over the shaders, the presets and the demo setlist, as an artist would run it."""
    done = run_cli("check", str(SHADERS_DIR), str(PRESETS_DIR), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 0 failed" in done.stderr


def test_library_covers_the_music_vjs_play_with_clips_and_pure_shaders():
    presets = [load_preset(p) for p in PRESETS if p.parent.name != "demo"]
    assert len(presets) >= 12
    for genre in GENRES:
        assert any(genre in p.tags for p in presets), f"no preset tagged {genre}"
    with_clips = [p for p in presets if p.clips]
    assert len(with_clips) >= 4 and len(presets) - len(with_clips) >= 4
    for p in with_clips:
        assert all(c.is_file() for c in p.clips), f"{p.path.name}: a clip is missing"
    for p in presets:
        assert p.energy is not None and 0.0 <= p.energy <= 1.0, f"{p.path.name} needs an energy"
    assert len({round(p.energy, 1) for p in presets}) >= 5, "energies should span calm to peak"


@pytest.mark.parametrize("path", PRESETS, ids=label)
def test_each_preset_hears_kick_snare_hats_levels_energy_and_the_bar(path):
    heard = sources_heard(load_preset(path))
    wanted = {
        "the kick": {"bass.hits"},
        "the snare": {"mid.hits", "highmid.hits"},
        "the hats": {"high.hits", "high.level", "high.presence"},
        "a band level": {
            f"{b}.{f}" for b in ("bass", "mid", "highmid", "full") for f in ("level", "presence")
        },
        "energy (the drop)": {"energy"},
        "the beat clock": {"bar_phase", "bar_count", "downbeat", "beat_count", "beat_phase"}
        | {f"beat_{s}{r}" for s in ("sine", "tri", "saw") for r in ("", "_half", "_quarter", "_double")},
    }
    missing = [what for what, names in wanted.items() if not heard & names]
    assert not missing, f"{path.name} does not listen to {', '.join(missing)}"


def change(frames: np.ndarray, t: float, span: int = 2) -> float:
    """Mean pixel change from the last frame before `t` to `span` frames later."""
    i = int(np.floor(t * FPS - 1e-6))
    return float(np.abs(frames[i + span].astype(np.float32) - frames[i]).mean() / 255.0)


@pytest.mark.slow
@pytest.mark.parametrize("path", PRESETS, ids=label)
def test_each_preset_answers_the_kick(path):
    """The frames just after each kick differ from the frame before it, and clearly more than the same
    stretch of time between kicks does (so it is the kick, not the motion, that moves the picture)."""
    frames = rendered(path, False)
    _, beat = demo_intro()
    kicks = [b * beat for b in range(3, 7)]  # beats 3..6: the analysis has settled
    on_kick = np.mean([change(frames, t) for t in kicks])
    between = np.mean([change(frames, t + 0.7 * beat) for t in kicks])  # after the off-beat hat
    assert on_kick > 0.015, f"{path.name}: the kick changes the picture by only {on_kick:.4f}"
    assert on_kick > 1.2 * between, f"{path.name}: kick {on_kick:.4f} vs between kicks {between:.4f}"


def flashes(luma: np.ndarray, step: float = 0.1) -> list[int]:
    """Frames where the picture flashes: its mean luma rises by `step` (of full scale) from its last low."""
    found, low, high, rising = [], luma[0], luma[0], False
    for i, v in enumerate(luma):
        if not rising:
            low = min(low, v)
            if v - low >= step:
                found.append(i)
                rising, high = True, v
        else:
            high = max(high, v)
            if high - v >= step:
                rising, low = False, v
    return found


def test_flash_counter_counts_what_it_should():
    steady = np.full(30, 0.2)
    blink = np.tile([0.1, 0.1, 0.6, 0.6, 0.1, 0.1], 5)
    assert flashes(steady) == [] and len(flashes(blink)) == 5


@pytest.mark.slow
@pytest.mark.parametrize("fast", [False, True], ids=["demo-124bpm", "break-174bpm"])
@pytest.mark.parametrize("path", PRESETS, ids=label)
def test_each_preset_is_dark_room_safe(path, fast):
    """Dark backgrounds, and no more than 3 whole-frame flashes a second (the photosensitivity limit),
    even when the drums hit faster than that."""
    luma = frame_luma(rendered(path, fast))
    assert luma.mean() < 0.3, f"{path.name} floods the room (mean luma {luma.mean():.2f})"
    hits = np.array(flashes(luma))
    worst = max((np.sum((hits >= i) & (hits < i + FPS)) for i in range(len(luma))), default=0)
    assert worst <= 3, f"{path.name}: {worst} flashes in one second"


def test_every_preset_has_a_line_and_a_small_moving_thumbnail_in_the_docs():
    text = DOCS.read_text()
    for path in PRESETS:
        rel = path.relative_to(ROOT).as_posix()
        lines = [line for line in text.splitlines() if f"(../{rel})" in line]
        assert lines, f"docs/presets.md has no line for {rel}"
        thumb = THUMBS / f"{path.stem}.webp"
        assert f"thumbs/presets/{path.stem}.webp" in lines[0], f"no thumbnail on the line for {rel}"
        assert thumb.stat().st_size < 300_000, f"{thumb.name} is {thumb.stat().st_size} bytes"
        with Image.open(thumb) as im:
            assert im.is_animated and im.n_frames >= 20, f"{thumb.name} does not move"


def test_the_demo_setlist_walks_through_every_preset():
    setlist = load_setlist(SETLIST)
    assert {c.preset.resolve() for c in setlist.cues} == {p.resolve() for p in PRESETS}


@pytest.fixture(scope="module")
def ctx():
    context = moderngl.create_standalone_context(backend="egl")
    yield context
    context.release()


@pytest.mark.parametrize("name", LIBRARY_SHADERS)
def test_library_shader_renders_a_finite_picture_that_is_not_black(ctx, name):
    """Into a float target, so a NaN or an infinity from a bad division shows instead of being clamped."""
    doc = load_isf(SHADERS_DIR / name)
    prog = IsfProgram(ctx, doc)
    w, h = SIZE
    target = ctx.texture(SIZE, 4, dtype="f4")
    fbo = ctx.framebuffer(color_attachments=[target])
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)
    card = np.stack(np.broadcast_arrays(x[None, :], x[::-1][None, :], np.full((h, w), 0.5, np.float32)), -1)
    card = np.concatenate([card, np.ones((h, w, 1), np.float32)], -1)
    picture = ctx.texture(SIZE, 4, card.astype("f4").tobytes(), dtype="f4")
    spectrum = ctx.texture(
        (64, 1), 1, (np.exp(-np.arange(64) / 20.0) * 0.8).astype("f4").tobytes(), dtype="f4"
    )
    wave = ctx.texture((512, 1), 1, (0.5 * np.sin(np.arange(512) / 9.0)).astype("f4").tobytes(), dtype="f4")
    audio = {"hl_bass_hits": 0.8, "hl_bass_level": 0.7, "hl_mid_level": 0.6, "hl_high_hits": 0.5}
    audio |= {"hl_full_level": 0.6, "hl_energy": 0.7, "hl_bar_phase": 0.3, "hl_beat_phase": 0.3}
    audio |= {"hl_centroid": 3000.0, "hl_onset_count": 7.0, "hl_bass_time": 1.3, "hl_mid_time": 0.9}
    try:
        for i in range(3):
            frame = FrameInfo(
                time=i / 30, timedelta=1 / 30 if i else 0.0, frame_index=i, date=(2000.0, 1.0, 1.0, 0.0)
            )
            images = {"inputImage": picture, "hl_spectrum": spectrum, "hl_waveform": wave}
            prog.render(fbo, values={}, images=images, frame=frame, audio=audio)
        out = np.frombuffer(fbo.read(components=4, dtype="f4"), np.float32).reshape(h, w, 4)[..., :3]
    finally:
        for thing in (prog, fbo, target, picture, spectrum, wave):
            thing.release()
    assert np.isfinite(out).all(), f"{name} writes NaN or infinity"
    assert out.max() > 0.1 and out.mean() > 0.005, f"{name} renders black (max {out.max():.3f})"
