"""Looks built aside (Show.request): the new look's shaders are warmed in the warm-up child while the old look
plays, a burst of requests builds only the newest, and a look whose shader does not build is refused with
its file and line while the look on the output stays."""

from __future__ import annotations

import shutil
import time

import pytest

from engine.analysis.features import silent_features
from engine.app import Show
from engine.clock import FrameTime
from engine.paths import PRESETS_DIR
from engine.render.context import Offscreen
from engine.show.preset import load_preset

SIZE = (96, 54)
TUNNEL = 'name = "tunnel look"\n[shader]\nfile = "../../shaders/generators/tunnel.fs"\n'


@pytest.fixture
def live(gl_ctx, tmp_path):
    shutil.copytree(PRESETS_DIR / "demo", tmp_path / "demo")
    show = Show(gl_ctx, load_preset(tmp_path / "demo" / "demo.toml"), SIZE, live=True)
    show.build_looks_aside()
    target = Offscreen(gl_ctx, SIZE)
    frames = iter(range(100_000))

    def frame() -> float:
        """One frame as the live loop draws it; returns its mean brightness."""
        n = next(frames)
        show.adopt_look()
        show.draw(
            FrameTime(n, n / 30, 1 / 30, (2000.0, 1.0, 1.0, 0.0)), silent_features(("bass",)), target.fbo
        )
        return float(target.read()[..., :3].mean())

    yield show, frame, tmp_path
    target.release()
    show.release()


def run_until(frame, done, timeout=60.0) -> list[float]:
    seen, deadline = [], time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        seen.append(frame())
        time.sleep(0.01)
    assert done(), "the requested look never came"
    return seen


def test_a_burst_of_requests_builds_only_the_newest(live):
    show, frame, tmp = live
    (tmp / "demo" / "tunnel.toml").write_text(TUNNEL.replace("../../", str(PRESETS_DIR.parent) + "/"))
    demo, tunnel = show.preset, load_preset(tmp / "demo" / "tunnel.toml")
    run_until(frame, lambda: frame() > 0)  # the demo clips are on screen (first frames may be dark)
    generation = show.look_generation
    for i in range(100):
        show.request(tunnel if i % 2 else demo)  # the last one asked for is the tunnel
    seen = run_until(frame, lambda: show.preset.name == "tunnel look")
    assert show._looks.built == 1 and show._looks.requests == 100
    assert show.look_generation == generation + 1
    assert min(seen) > 0  # the old look played while the new one was warmed: no black frame


def test_a_look_whose_shader_does_not_build_is_refused_and_the_look_stays(live):
    show, frame, tmp = live
    (tmp / "demo" / "bad.fs").write_text("/*{}*/\nvoid main() { gl_FragColor = vec4(1.0) }\n")
    (tmp / "demo" / "bad.toml").write_text('name = "bad"\n[shader]\nfile = "bad.fs"\n')
    run_until(frame, lambda: frame() > 0)  # the demo clips are on screen (first frames may be dark)
    before = show.preset
    show.request(load_preset(tmp / "demo" / "bad.toml"))
    seen = run_until(frame, lambda: show.look_error is not None)
    assert show.preset is before and min(seen) > 0
    assert "bad.fs:2" in str(show.look_error)
