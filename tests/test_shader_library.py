"""The shipped shader library: every shader works, hears the music, suits a dark room, and does its job."""

from __future__ import annotations

import math
import re
from pathlib import Path

import moderngl
import numpy as np
import pytest

from engine.paths import ROOT, SHADERS_DIR
from engine.render.check import check_shader
from engine.render.isf import load_isf
from engine.render.program import FrameInfo, IsfProgram

SHADERS = sorted(SHADERS_DIR.rglob("*.fs"))
SIZE = (128, 72)
DOCS = ROOT / "docs" / "shaders.md"


def kind_of(path: Path) -> str:
    return path.parent.name  # generators, effects or transitions


@pytest.fixture(scope="module")
def ctx():
    context = moderngl.create_standalone_context(backend="egl")
    yield context
    context.release()


@pytest.fixture(scope="module")
def rig(ctx):
    """A target, a test card and its mirror, and audio textures, silent and loud."""
    w, h = SIZE
    x = np.linspace(0, 1, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 1, h)[:, None].repeat(w, 1)
    blob = np.exp(-((x - 0.3) ** 2 + (y - 0.6) ** 2) * 40)
    card = np.stack([0.2 + 0.8 * blob, 0.4 * x + 0.6 * blob, 0.5 * y + 0.5 * blob, np.ones_like(x)], -1)
    alt = np.stack([0.1 * x, 0.7 * (1 - y), 0.3 + 0.6 * blob[::-1, ::-1], np.ones_like(x)], -1)

    def tex(a, comps=4, dtype="f1"):
        data = (a * 255).astype(np.uint8) if dtype == "f1" else a.astype("f4")
        t = ctx.texture((a.shape[1], a.shape[0]), comps, data.tobytes(), dtype=dtype)
        t.filter = (moderngl.LINEAR, moderngl.LINEAR)
        t.repeat_x = t.repeat_y = False
        return t

    n = np.arange(512)
    return {
        "fbo": ctx.framebuffer(color_attachments=[ctx.texture(SIZE, 4)]),
        "card": tex(card),
        "alt": tex(alt),
        "spec_silent": tex(np.zeros((1, 64)), 1, "f4"),
        "spec_loud": tex(np.exp(-np.arange(64) / 20.0)[None, :] * 0.9, 1, "f4"),
        "wave_silent": tex(np.zeros((1, 512)), 1, "f4"),
        "wave_loud": tex((0.7 * np.sin(n * 2 * math.pi * 6 / 512))[None, :], 1, "f4"),
    }


SILENT = {"hl_energy": 0.5}
LOUD = {
    "hl_energy": 0.9,
    "hl_rms": 0.3,
    "hl_centroid": 3500.0,
    "hl_onset": 1.0,
    **{
        f"hl_{b}_{f}": v
        for b in ("bass", "lowmid", "mid", "highmid", "high", "full")
        for f, v in (("level", 0.8), ("hits", 1.0), ("presence", 0.8))
    },
}


def render(ctx, rig, path: Path, *, audio: dict, loud: bool, frames: int = 8, values=None) -> np.ndarray:
    """The last of `frames` frames (30 fps) as float RGB, top row first."""
    prog = IsfProgram(ctx, load_isf(path))
    images = {
        "inputImage": rig["card"],
        "startImage": rig["card"],
        "endImage": rig["alt"],
        "keyImage": rig["alt"],
        "hl_spectrum": rig["spec_loud" if loud else "spec_silent"],
        "hl_waveform": rig["wave_loud" if loud else "wave_silent"],
    }
    pixels = np.frombuffer(rig["card"].read(), np.uint8).reshape(SIZE[1], SIZE[0], 4)
    moving = ctx.texture(SIZE, 4)
    moving.filter = (moderngl.LINEAR, moderngl.LINEAR)
    images["inputImage"] = moving  # a picture in motion, as clips are
    try:
        for i in range(frames):
            moving.write(np.roll(pixels, 2 * i, axis=1).tobytes())
            t = i / 30
            sound = dict(audio)
            for band in ("bass", "mid", "high", "full"):
                sound[f"hl_{band}_time"] = t * (2.0 if loud else 1.0)
            sound["hl_onset_count"] = float(i // 3 if loud else 0)
            frame = FrameInfo(
                time=t, timedelta=1 / 30 if i else 0.0, frame_index=i, date=(2000.0, 1.0, 1.0, t)
            )
            prog.render(rig["fbo"], values=values or {}, images=images, frame=frame, audio=sound)
        data = np.frombuffer(rig["fbo"].read(components=3), np.uint8).reshape(SIZE[1], SIZE[0], 3)
        return data[::-1].astype(np.float64) / 255.0
    finally:
        prog.release()
        moving.release()


def card_pixels(rig, name: str) -> np.ndarray:
    data = np.frombuffer(rig[name].read(), np.uint8).reshape(SIZE[1], SIZE[0], 4)[..., :3]
    return data[::-1].astype(np.float64) / 255.0


def test_library_has_our_own_generators_effects_and_transitions():
    ours = [p for p in SHADERS if load_isf(p).credit == "Halation"]
    kinds = {k: [p for p in ours if kind_of(p) == k] for k in ("generators", "effects", "transitions")}
    assert len(ours) >= 14
    assert all(len(v) >= 3 for v in kinds.values()), kinds
    for p in ours:
        doc = load_isf(p)
        assert len(doc.description) > 40, f"{p.name} needs a description a VJ can choose by"
        expected = {"generators": "generator", "effects": "filter", "transitions": "transition"}[kind_of(p)]
        assert doc.kind == expected, f"{p} is a {doc.kind}, but lives in {kind_of(p)}/"


@pytest.mark.parametrize("path", SHADERS, ids=lambda p: f"{kind_of(p)}/{p.stem}")
def test_shader_compiles_and_renders(ctx, path):
    assert check_shader(ctx, path, size=(96, 54), frames=3) is None


# The demo's pulse.fs is driven by its preset's modulations; the strobe has its own test below.
MUSICAL = [
    p for p in SHADERS if kind_of(p) in ("generators", "effects") and p.stem not in ("pulse", "strobe")
]


@pytest.mark.parametrize("path", MUSICAL, ids=lambda p: f"{kind_of(p)}/{p.stem}")
def test_shader_hears_the_music_with_its_defaults(ctx, rig, path):
    quiet = render(ctx, rig, path, audio=SILENT, loud=False)
    loud = render(ctx, rig, path, audio=LOUD, loud=True)
    change = np.abs(loud - quiet).mean()
    assert change > 0.005, f"{path.name}: the music changes the picture by only {change:.4f}"


@pytest.mark.parametrize("path", [p for p in SHADERS if kind_of(p) == "generators"], ids=lambda p: p.stem)
def test_generators_are_dark_enough_for_a_dark_room(ctx, rig, path):
    quiet = render(ctx, rig, path, audio=SILENT, loud=False)
    luma = quiet @ np.array([0.2126, 0.7152, 0.0722])
    assert luma.mean() < 0.2, f"{path.name} floods the room in silence (mean {luma.mean():.2f})"


@pytest.mark.parametrize("path", [p for p in SHADERS if kind_of(p) == "transitions"], ids=lambda p: p.stem)
def test_transitions_start_on_the_start_image_and_end_on_the_end_image(ctx, rig, path):
    start = render(ctx, rig, path, audio=SILENT, loud=False, frames=1, values={"progress": 0.0})
    end = render(ctx, rig, path, audio=SILENT, loud=False, frames=1, values={"progress": 1.0})
    middle = render(ctx, rig, path, audio=SILENT, loud=False, frames=1, values={"progress": 0.5})
    assert np.abs(start - card_pixels(rig, "card")).mean() < 0.01
    assert np.abs(end - card_pixels(rig, "alt")).mean() < 0.01
    assert np.abs(middle - start).mean() > 0.02 and np.abs(middle - end).mean() > 0.02


def test_feedback_leaves_trails_behind_a_moving_light(ctx, rig):
    prog = IsfProgram(ctx, load_isf(SHADERS_DIR / "effects" / "feedback.fs"))
    w, h = SIZE
    dot = ctx.texture(SIZE, 4)
    try:
        for i in range(12):
            img = np.zeros((h, w, 4), np.uint8)
            x = 10 + i * 8
            img[30:40, x : x + 6] = 255  # a white dot moving right
            dot.write(img.tobytes())
            frame = FrameInfo(time=i / 30, timedelta=1 / 30, frame_index=i, date=(2000.0, 1.0, 1.0, 0.0))
            prog.render(rig["fbo"], values={}, images={"inputImage": dot}, frame=frame, audio={})
        out = np.frombuffer(rig["fbo"].read(components=3), np.uint8).reshape(h, w, 3)
    finally:
        prog.release()
        dot.release()
    behind = out[30:40, 10 + 6 * 8 : 10 + 8 * 8].mean()  # where the dot was 4-5 frames ago
    ahead = out[30:40, 10 + 12 * 8 + 8 :].mean() if w > 10 + 12 * 8 + 8 else 0.0
    assert behind > 40, "no trail where the light has been"
    assert ahead < 5


def test_strobe_never_flashes_more_than_three_times_a_second(ctx, rig):
    prog = IsfProgram(ctx, load_isf(SHADERS_DIR / "effects" / "strobe.fs"))
    black = ctx.texture(SIZE, 4, bytes(SIZE[0] * SIZE[1] * 4))
    fps, seconds = 60, 3
    bright = []
    try:
        for i in range(fps * seconds):
            kick = 1.0 if i % 4 == 0 else 0.0  # a kick every 4 frames: 15 a second, far too many to follow
            frame = FrameInfo(time=i / fps, timedelta=1 / fps, frame_index=i, date=(2000.0, 1.0, 1.0, 0.0))
            prog.render(
                rig["fbo"],
                values={"rate": 9.0},
                images={"inputImage": black},
                frame=frame,
                audio={"hl_bass_hits": kick},
            )
            bright.append(np.frombuffer(rig["fbo"].read(components=3), np.uint8).mean())
    finally:
        prog.release()
        black.release()
    lit = np.array(bright) > 100
    flashes = int(np.sum(lit[1:] & ~lit[:-1]) + lit[0])
    assert 2 * seconds <= flashes <= 3 * seconds, f"{flashes} flashes in {seconds} s"


def test_bloom_spreads_light_into_the_dark(ctx, rig):
    prog = IsfProgram(ctx, load_isf(SHADERS_DIR / "effects" / "bloom.fs"))
    w, h = SIZE
    img = np.zeros((h, w, 4), np.uint8)
    img[..., 3] = 255
    img[32:40, 60:68, :3] = 255
    src = ctx.texture(SIZE, 4, img.tobytes())
    try:
        frame = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2000.0, 1.0, 1.0, 0.0))
        prog.render(rig["fbo"], values={}, images={"inputImage": src}, frame=frame, audio={})
        out = np.frombuffer(rig["fbo"].read(components=3), np.uint8).reshape(h, w, 3)
    finally:
        prog.release()
        src.release()
    assert out[36, 56].mean() > 10 and out[36, 72].mean() > 10  # glow beside the square
    assert out[5, 5].mean() < 3  # far away stays black


def test_every_shipped_shader_is_in_the_docs_with_a_thumbnail():
    text = DOCS.read_text()
    for path in SHADERS:
        rel = path.relative_to(SHADERS_DIR).as_posix()
        assert rel in text, f"docs/shaders.md does not describe {rel}"
        thumb = ROOT / "docs" / "thumbs" / f"{path.stem}.png"
        assert thumb.is_file() and f"thumbs/{path.stem}.png" in text, f"no thumbnail for {rel}"
    for name in re.findall(r"\(thumbs/([\w-]+)\.png\)", text):
        assert any(p.stem == name for p in SHADERS), (
            f"docs show a thumbnail of a shader we do not ship: {name}"
        )


def test_every_audio_uniform_is_documented_and_the_example_shader_works(ctx, tmp_path):
    from engine.analysis.bands import DEFAULT_BANDS
    from engine.analysis.features import silent_features

    text = (ROOT / "docs" / "audio-uniforms.md").read_text()
    for name in silent_features(tuple(DEFAULT_BANDS)).values():
        uniform = "hl_" + name.replace(".", "_")
        assert f"`{uniform}`" in text, f"{uniform} is not documented: run python -m engine.render.docs"
    example = re.search(r"```glsl\n(.*?)```", text, re.S)[1]
    (tmp_path / "example.fs").write_text(example)
    assert check_shader(ctx, tmp_path / "example.fs", size=(64, 36)) is None
