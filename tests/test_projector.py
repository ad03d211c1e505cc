"""The gig set-up on a real X server (Xvfb): the show fullscreen on the projector's monitor and a preview
window on the laptop; shader errors appear on the preview only, never on the projector."""

import json
import subprocess
import sys
import textwrap

from conftest import ROOT, run_cli

SCRIPT = textwrap.dedent(
    """
    import json, numpy as np
    from engine.output.window import ProjectorOutput
    from engine.render.overlay import PreviewOverlay

    out = ProjectorOutput((320, 180), "test", monitor=0)
    out.preview.make_current()
    overlay = PreviewOverlay(out.preview.ctx)
    out.output.make_current()
    frame = out.ctx.texture((320, 180), 4, data=bytes([200, 60, 30, 255]) * (320 * 180))
    errors = ["shaders/broken.fs:12: syntax error, unexpected '}'"]
    for _ in range(3):
        out.show(frame, overlay, errors)

    def grab(window):
        window.make_current()
        w, h = window._glfw.get_framebuffer_size(window.handle)
        px = np.frombuffer(window.ctx.screen.read(viewport=(0, 0, w, h), components=3), np.uint8)
        return px.reshape(h, w, 3)[::-1]

    projector, preview = grab(out.output), grab(out.preview)
    h, w = preview.shape[:2]
    print(json.dumps({
        "projector_size": [projector.shape[1], projector.shape[0]],
        "projector_centre": projector[projector.shape[0] // 2, projector.shape[1] // 2].tolist(),
        "projector_corner": projector[10, 10].tolist(),
        "preview_centre": preview[h * 3 // 4, w // 2].tolist(),
        "preview_corner": preview[10, 10].tolist(),
    }))
    out.preview.make_current()
    overlay.release()
    out.close()
    """
)


def test_projector_shows_the_show_and_the_preview_adds_errors(xvfb_display):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "DISPLAY": xvfb_display},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["projector_size"] == [1280, 720]  # fullscreen on the (Xvfb) monitor
    for key in ("projector_centre", "projector_corner", "preview_centre"):
        assert abs(seen[key][0] - 200) <= 2 and abs(seen[key][2] - 30) <= 2, (key, seen)
    assert seen["preview_corner"] != seen["preview_centre"]  # the error box, on the preview only


def test_perform_on_a_monitor_with_a_preview(xvfb_display):
    out = run_cli(
        "perform",
        "--no-sound",
        "--monitor",
        "0",
        "--duration",
        "2",
        "--size",
        "320x180",
        env={"DISPLAY": xvfb_display},
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split(" frames")[0].split()[-1]) > 10
