"""Effect chains in presets: shader → effects in order, each with its own named parameters, image inputs
bound to the clips or earlier layers, wet/dry mix, and audio bound to colour and point inputs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import moderngl
import numpy as np
import pytest

from engine.analysis.bands import DEFAULT_BANDS
from engine.analysis.features import silent_features
from engine.app import Show, build_params
from engine.clock import OfflineClock
from engine.errors import PresetError
from engine.params.modulation import Modulation, Modulator
from engine.params.store import Param, ParamStore
from engine.paths import DEMO_PRESET
from engine.render.context import Offscreen
from engine.show.preset import load_preset

SIZE = (64, 36)

SOLID = """/*{"ISFVSN": "2", "INPUTS": [
    {"NAME": "colour", "TYPE": "color", "DEFAULT": [1.0, 0.0, 0.0, 1.0]},
    {"NAME": "at", "TYPE": "point2D", "DEFAULT": [0.0, 0.0]}
]}*/
void main() { gl_FragColor = vec4(colour.rgb + vec3(0.0, at.x, at.y), 1.0); }
"""
INVERT = """/*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "amount", "TYPE": "float", "DEFAULT": 1.0}]}*/
void main() { vec3 c = IMG_THIS_PIXEL(inputImage).rgb; gl_FragColor = vec4(mix(c, 1.0 - c, amount), 1.0); }
"""
PASSTHROUGH = """/*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
void main() { gl_FragColor = vec4(IMG_THIS_PIXEL(inputImage).rgb, 1.0); }
"""
SHOW_OTHER = """/*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"},
    {"NAME": "other", "TYPE": "image"}]}*/
void main() { gl_FragColor = vec4(IMG_THIS_PIXEL(other).rgb, 1.0); }
"""


@pytest.fixture(scope="module")
def ctx():
    """A context of our own: framebuffers released by other tests cannot disturb it."""
    context = moderngl.create_standalone_context(backend="egl")
    yield context
    context.release()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def preset_with(tmp_path: Path, body: str) -> Path:
    write(tmp_path, "solid.fs", SOLID)
    write(tmp_path, "invert.fs", INVERT)
    write(tmp_path, "show_other.fs", SHOW_OTHER)
    return write(tmp_path, "p.toml", 'name = "chain"\n[shader]\nfile = "solid.fs"\n' + body)


def render(ctx, preset_path: Path, frames: int = 1, params: dict | None = None) -> np.ndarray:
    """The mean colour (0..1) of the last of `frames` frames of the preset, with the given base values."""
    show = Show(ctx, load_preset(preset_path), SIZE)
    target = Offscreen(ctx, SIZE)
    for name, value in (params or {}).items():
        show.params.set(name, value)
    clock = OfflineClock(30)
    features = silent_features(tuple(DEFAULT_BANDS))
    try:
        for _ in range(frames):
            show.draw(clock.tick(), features, target.fbo)
        return target.read()[..., :3].reshape(-1, 3).mean(axis=0) / 255.0
    finally:
        show.release()


def test_effects_run_in_order_after_the_shader(ctx, tmp_path):
    path = preset_with(tmp_path, '[[effects]]\nfile = "invert.fs"\n')
    assert render(ctx, path) == pytest.approx([0.0, 1.0, 1.0], abs=0.01)  # red, inverted


def test_effect_parameters_are_named_after_the_layer(ctx, tmp_path):
    path = preset_with(
        tmp_path,
        '[[effects]]\nfile = "invert.fs"\nname = "neg"\ninputs = { amount = 0.0 }\n'
        '[[effects]]\nfile = "invert.fs"\nname = "neg2"\nmix = 0.5\n',
    )
    params = build_params(load_preset(path))
    assert {"shader.colour", "neg.amount", "neg.mix", "neg2.amount", "neg2.mix"} <= set(params.params)
    assert params.base()["neg.amount"] == 0.0 and params.base()["neg2.mix"] == 0.5
    # neg does nothing (amount 0), neg2 is half wet: red blended with cyan.
    assert render(ctx, path) == pytest.approx([0.5, 0.5, 0.5], abs=0.01)
    # A desk turning neg2 fully wet and neg on gives red back (two inversions).
    assert render(ctx, path, params={"neg.amount": 1.0, "neg2.mix": 1.0}) == pytest.approx(
        [1, 0, 0], abs=0.01
    )
    # mix 0 bypasses the effect entirely.
    assert render(ctx, path, params={"neg.amount": 1.0, "neg2.mix": 0.0}) == pytest.approx(
        [0, 1, 1], abs=0.01
    )


def test_an_image_input_can_take_an_earlier_layer(ctx, tmp_path):
    path = preset_with(
        tmp_path,
        '[[effects]]\nfile = "invert.fs"\n'
        '[[effects]]\nfile = "show_other.fs"\ninputs = { other = "shader" }\n',
    )
    assert render(ctx, path) == pytest.approx([1.0, 0.0, 0.0], abs=0.01)  # the shader's red, not cyan


def test_unbound_extra_images_show_the_clips(ctx, tmp_path):
    clips = DEMO_PRESET.parent / "clips"
    write(tmp_path, "passthrough.fs", PASSTHROUGH)
    body = f'[clips]\na = "{clips}/nebula.mp4"\n'
    effect = '[[effects]]\nfile = "show_other.fs"\n'
    keyed = render(ctx, preset_with(tmp_path, body + effect), frames=3)
    path = preset_with(tmp_path, body)
    path.write_text(path.read_text().replace("solid.fs", "passthrough.fs"))
    clip = render(ctx, path, frames=3)
    assert clip.max() > 0.02  # the clip is there, not black
    assert keyed == pytest.approx(clip, abs=0.01)  # the effect's second image is the clip


def test_colour_and_point_inputs_follow_the_music():
    store = ParamStore(
        [Param("shader.colour", "color", (0.2, 0.2, 0.2, 1.0)), Param("shader.at", "point2D", (0.5, 0.5))]
    )
    mods = (
        Modulation("shader.colour", "bass.hits", to=(1.0, 0.0, 0.0)),
        Modulation("shader.at", "mid.level", amount=(0.0, 0.25)),
    )
    quiet = Modulator(store, mods).evaluate({"bass.hits": 0.0, "mid.level": 0.0}, 1 / 30)
    loud = Modulator(store, mods).evaluate({"bass.hits": 1.0, "mid.level": 1.0}, 1 / 30)
    assert quiet["shader.colour"] == pytest.approx((0.2, 0.2, 0.2, 1.0))
    assert loud["shader.colour"] == pytest.approx((1.0, 0.0, 0.0, 1.0))  # alpha kept
    assert loud["shader.at"] == pytest.approx((0.5, 0.75))
    brighten = Modulator(store, (Modulation("shader.colour", "onset", amount=1.0),))
    assert brighten.evaluate({"onset": 1.0}, 1 / 30)["shader.colour"] == pytest.approx((0.4, 0.4, 0.4, 1.0))


def test_colour_modulation_in_a_preset_changes_the_picture(ctx, tmp_path):
    path = preset_with(
        tmp_path,
        '[[modulate]]\ntarget = "shader.colour"\nsource = "energy"\nto = [0.0, 0.0, 1.0]\n',
    )
    # Silent features report energy 0.5: half way from red to blue.
    assert render(ctx, path) == pytest.approx([0.5, 0.0, 0.5], abs=0.01)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('[[effects]]\nfile = "invert.fs"\n[[effects]]\nfile = "invert.fs"\n', 7, "'invert' is used twice"),
        ('[[effects]]\nfile = "invert.fs"\nname = "clips"\n', 6, "'clips' is reserved"),
        ('[[effects]]\nfile = "nope.fs"\n', 5, "not found"),
        ('[[effects]]\nfile = "show_other.fs"\ninputs = { other = "later" }\n', 6, "must name a source"),
        ('[[effects]]\nfile = "invert.fs"\ninputs = { amount = "lots" }\n', 6, "'amount' must be a number"),
        ('[[effects]]\nfile = "invert.fs"\ncolour = 1\n', 6, "unknown key 'colour'"),
        ("[shader.inputs]\ncolour = [1, 0]\n", 5, "'colour' is a color"),
        ('[[modulate]]\ntarget = "invert.amount"\nsource = "onset"\n', 5, "unknown target"),
        ('[[modulate]]\ntarget = "shader.at"\nsource = "onset"\nto = [1, 2, 3]\n', 7, "give [x, y]"),
    ],
)
def test_bad_chain_is_refused_with_its_line(tmp_path, body, line, message):
    path = preset_with(tmp_path, body)
    with pytest.raises(PresetError) as err:
        load_preset(path)
    assert err.value.line == line, str(err.value)
    assert message in str(err.value)


def test_the_chain_example_in_the_docs_is_a_valid_preset(tmp_path):
    from engine.paths import ROOT

    text = (ROOT / "docs" / "shaders.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S)[1]
    path = tmp_path / "example.toml"
    path.write_text('name = "example"\n' + example)
    preset = load_preset(path)
    assert [layer.name for layer in preset.layers] == ["shader", "key", "bloom"]
    assert {"key.threshold", "key.mix", "bloom.intensity", "bloom.mix"} <= set(build_params(preset).params)
