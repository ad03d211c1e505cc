"""Stage output in a live show: windows under a real X server (Xvfb), keys sent with xdotool, monitor loss,
and recording (played back with ffprobe), including onto a full filesystem."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import ROOT

from engine.output.window import QUIT_HOLD

WINDOWS = textwrap.dedent(
    """
    import json
    from dataclasses import replace
    import glfw, numpy as np
    from engine.output.sink import FrameInfo
    from engine.output.stage import OutputSpec, Stage
    from engine.output.stage_sinks import open_stage_outputs

    stage = Stage((OutputSpec("main", (320, 180), monitor=0),))
    outs = open_stage_outputs(
        stage, (320, 180), "t", headless=False, preview=True, hud=False, flash_limit="standard"
    )
    frame = outs.ctx.texture((320, 180), 4, data=bytes([200, 60, 30, 255]) * (320 * 180))
    info = FrameInfo(0.0, 0, None, {}, ("shaders/broken.fs:12: syntax error, unexpected '}'",))

    def show(n):
        for i in range(n):
            for sink in outs.sinks:
                sink.present(frame, replace(info, time=i / 60, index=i))

    def grab(window):
        window.make_current()
        w, h = glfw.get_framebuffer_size(window.handle)
        px = np.frombuffer(window.ctx.screen.read(viewport=(0, 0, w, h), components=3), np.uint8)
        outs.windows[0].make_current()
        return px.reshape(h, w, 3)[::-1]

    def look(window):
        px = grab(window)
        h, w = px.shape[:2]
        return {"size": [w, h], "centre": px[h * 3 // 4, w // 2].tolist(), "corner": px[12, 12].tolist()}

    show(3)
    seen = {"output": look(outs.windows[0]), "preview": look(outs.windows[1])}
    sink = outs.outputs[0]
    # what glfw does when a monitor is unplugged: the fullscreen window becomes a plain window
    glfw.set_window_monitor(sink.window.handle, None, 0, 0, 1280, 720, 0)
    show(3)
    seen["lost"] = {"lost": sink.lost, "fullscreen": sink.window.fullscreen, **look(outs.windows[0])}
    seen["notices"] = outs.sinks[-1].notices()
    seen["restored"] = sink.restore() and sink.window.fullscreen
    show(2)
    print(json.dumps(seen))
    outs.release()
    """
)


KEYSTONED = textwrap.dedent(
    """
    import json
    import glfw, numpy as np
    from engine.output.sink import FrameInfo
    from engine.output.stage import OutputSpec, Stage
    from engine.output.stage_sinks import open_stage_outputs

    corners = ((0.1, 0.05), (0.95, 0.0), (1.0, 1.0), (0.0, 0.9))
    stage = Stage((OutputSpec("main", (1280, 720), monitor=0, keystone=corners),))  # the monitor's own size
    outs = open_stage_outputs(
        stage, (320, 180), "t", headless=False, preview=False, hud=False, flash_limit="standard"
    )
    frame = outs.ctx.texture((320, 180), 4, data=bytes([200, 60, 30, 255]) * (320 * 180))
    for i in range(3):
        for sink in outs.sinks:
            sink.present(frame, FrameInfo(i / 60, i, None, {}, ()))
    window = outs.windows[0]
    px = np.frombuffer(window.ctx.screen.read(viewport=(0, 0, 1280, 720), components=3), np.uint8)
    px = px.reshape(720, 1280, 3)[::-1]
    kept = outs.outputs[0].picture  # nothing shows it on the preview: no copy was made
    outs.outputs[0].compositor.want_picture = True  # as stage edit asks while it edits this output
    outs.outputs[0].present(frame, FrameInfo(3 / 60, 3, None, {}, ()))
    print(json.dumps({"centre": px[360, 640].tolist(), "outside": px[10, 10].tolist(),
                      "inside_tl": px[50, 140].tolist(), "kept": kept is not None,
                      "picture": outs.outputs[0].picture.size}))
    outs.release()
    """
)


def test_a_keystoned_output_of_the_monitors_size_is_drawn_straight_into_its_window(xvfb_display):
    seen = run_script(KEYSTONED, xvfb_display)
    assert close_to(seen["centre"], [200, 60, 30]) and close_to(seen["inside_tl"], [200, 60, 30])
    assert seen["outside"] == [0, 0, 0]  # left of the keystoned top-left corner: black
    assert not seen["kept"] and seen["picture"] == [1280, 720]  # the output's own size: drawn directly


def run_script(script: str, display: str) -> dict:
    """Run a window script on the X display in its own process; what it saw, from its last line."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "DISPLAY": display},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def close_to(colour, expected, tol=3) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(colour, expected, strict=True))


def test_output_shows_the_program_preview_adds_the_overlay_and_monitor_loss_keeps_a_window(xvfb_display):
    seen = run_script(WINDOWS, xvfb_display)
    program = [200, 60, 30]
    assert seen["output"]["size"] == [1280, 720]  # fullscreen on the (Xvfb) monitor
    assert close_to(seen["output"]["centre"], program) and close_to(seen["output"]["corner"], program)
    assert close_to(seen["preview"]["centre"], program)
    assert not close_to(seen["preview"]["corner"], program)  # the error box: on the preview only
    lost = seen["lost"]
    assert lost["lost"] and not lost["fullscreen"]
    assert lost["size"][0] < 1280 and close_to(lost["centre"], program)  # still showing, in a window
    assert any("monitor lost" in line for line in seen["notices"])
    assert seen["restored"]


def start_show(xvfb_display, tmp_path, *extra: str, duration: float = 30.0) -> subprocess.Popen:
    stage = tmp_path / "stage.toml"
    stage.write_text('[[output]]\nname = "main"\nsize = [320, 180]\nmonitor = 0\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "perform", "--no-sound", "--size", "320x180", "--stage", str(stage),
         "--duration", str(duration), "--log", str(tmp_path / "log.jsonl"), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DISPLAY": xvfb_display},
    )  # fmt: skip
    proc.seen = []  # what it said before it showed (the ports it listens on)
    for line in proc.stderr:  # wait for the show's own line, never a fixed time
        proc.seen.append(line)
        if "showing" in line:
            return proc
    proc.wait(timeout=10)
    pytest.fail(f"the show did not start: exit {proc.returncode}")


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, check=True, timeout=20)


def hold_esc_until_it_ends(display: str, proc: subprocess.Popen, finish=None) -> None:
    """End the show as an operator does: hold Esc until it has ended (beside busy loops a frame can take
    longer than the hold, and a press and release seen in one frame are a tap, which never quits)."""
    xdotool(display, "keydown", "Escape")
    try:
        (finish or proc.communicate)(timeout=60)
    finally:  # let go; the X server may be busy closing the show's windows: a failure here is no matter
        env = {**os.environ, "DISPLAY": display}
        subprocess.run(["xdotool", "keyup", "Escape"], env=env, timeout=20, capture_output=True)


@pytest.mark.slow
def test_a_single_esc_never_ends_the_show_holding_it_does(xvfb_display, tmp_path):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    proc = start_show(xvfb_display, tmp_path)
    showing = time.monotonic()
    try:
        xdotool(
            xvfb_display, "search", "--sync", "--name", "preview", "windowfocus", "--sync", "key", "Escape"
        )
        xdotool(xvfb_display, "key", "q")
        assert proc.poll() is None
        xdotool(xvfb_display, "keydown", "Escape")  # the deliberate act: held for a second and a half
        pressed = time.monotonic()
        time.sleep(1.5)
        xdotool(xvfb_display, "keyup", "Escape")
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    ran = float(out.split(" frames in ")[1].split(" s")[0])  # the show's own count, from its first frame
    # it outlived the single Esc and the Q (either would have ended it before the hold began) and ended
    # because Esc was held for a second, long before --duration
    assert pressed - showing + QUIT_HOLD - 0.2 <= ran < 25


def ffprobe(path) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_type,nb_read_frames",
         "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return {s["codec_type"]: int(s.get("nb_read_frames", 0)) for s in json.loads(done.stdout)["streams"]}


def perform_headless(tmp_path, *extra: str):
    from conftest import run_cli

    return run_cli(
        "perform", "--headless", "--no-sound", "--size", "320x180", "--fps", "30",
        "--log", str(tmp_path / "log.jsonl"), *extra,
    )  # fmt: skip


def recorded(stderr: str) -> tuple[int, int]:
    line = next(x for x in stderr.splitlines() if "recorded" in x and "frames to" in x)
    frames = int(line.split("recorded ")[1].split()[0])
    dropped = int(line.split("(")[1].split()[0])
    return frames, dropped


@pytest.mark.slow
def test_a_recording_plays_back_with_its_audio_and_every_frame_it_kept(tmp_path):
    take = tmp_path / "take.mp4"
    done = perform_headless(tmp_path, "--duration", "2.5", "--record", str(take))
    assert done.returncode == 0, done.stderr
    frames, dropped = recorded(done.stderr)
    shown = int(done.stdout.split(" frames")[0].split()[-1])
    assert frames > 0 and frames + dropped <= shown + 1  # on a busy machine the encoder drops, the show not
    streams = ffprobe(take)
    assert streams["video"] == frames
    assert streams["audio"] > 0


@pytest.mark.slow
def test_recording_onto_a_full_disk_stops_the_recording_not_the_show(tmp_path):
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)]).returncode != 0:
        pytest.skip("mount is not permitted here")
    try:
        done = perform_headless(tmp_path, "--duration", "3", "--record", str(disk / "take.mp4"))
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    assert done.returncode == 0, done.stderr
    errors = [x for x in done.stderr.splitlines() if "recording stopped" in x]
    assert len(errors) == 1 and "the show goes on" in errors[0]
    seconds = float(done.stdout.split(" frames in ")[1].split(" s")[0])
    assert seconds >= 2.9  # the show ran to its end


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_stage_edit_nudges_a_corner_and_saves_the_stage_file_keeping_a_backup(xvfb_display, tmp_path):
    from engine.output.stage import load_stage

    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    proc = start_show(xvfb_display, tmp_path)
    stage = tmp_path / "stage.toml"
    before = stage.read_text()
    try:
        xdotool(xvfb_display, "search", "--sync", "--name", "preview", "windowfocus", "--sync",
                "key", "--delay", "40", "e", "Right", "Right", "Right", "Down", "s")  # fmt: skip
        assert wait_for(lambda: (tmp_path / "stage.toml.bak").exists()), "the stage was not saved"
        hold_esc_until_it_ends(xvfb_display, proc)
    finally:
        proc.kill()
    assert (tmp_path / "stage.toml.bak").read_text() == before
    tl = load_stage(stage).outputs[0].keystone[0]
    assert tl == pytest.approx((3 / 320, 1 / 180), abs=1e-4)  # three pixels right, one down


def known(show, address: str) -> bool:
    """The show answers with a value at `address` (204 No Content until its first frame is drawn)."""
    try:
        show.value(address)
    except (ValueError, OSError):
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")
def test_stage_values_and_recording_are_reachable_over_osc(tmp_path):
    from test_control_e2e import Performance, oscsend

    from engine.output.stage import load_stage

    stage = tmp_path / "stage.toml"
    stage.write_text(
        '[[output]]\nname = "main"\nsize = [160, 90]\n[[output]]\nname = "side"\nsize = [160, 90]\n'
        "[output.mesh]\nsize = [3, 3]\n"
    )
    take = tmp_path / "desk.mp4"
    show = Performance("--stage", str(stage), "--record", str(take), "--log", str(tmp_path / "log.jsonl"))
    try:
        udp = str(show.ports["udp"])
        assert wait_for(lambda: known(show, "/hl/stage/side/keystone/tl"))  # the first frame published it
        assert show.value("/hl/stage/side/keystone/tl") == [0.0, 0.0]
        assert show.value("/hl/stage/side/mesh/1/1") == [0.5, 0.5]  # the middle point of the 3 x 3 mesh
        oscsend("localhost", udp, "/hl/stage/side/keystone/tl", "ff", "0.1", "0.05")
        oscsend("localhost", udp, "/hl/stage/side/mesh/1/1", "ff", "0.55", "0.45")
        oscsend("localhost", udp, "/hl/stage/side/blend/left/curve", "f", "3")
        oscsend("localhost", udp, "/hl/stage/main/brightness", "f", "0.8")
        oscsend("localhost", udp, "/hl/stage/flash_limit", "i", "1")  # strict, live
        assert show.wait_value("/hl/stage/side/keystone/tl", [0.1, 0.05]) == [0.1, 0.05]
        assert show.wait_value("/hl/stage/side/mesh/1/1", [0.55, 0.45]) == [0.55, 0.45]
        assert show.wait_value("/hl/stage/main/brightness", [0.8]) == [0.8]
        assert wait_for(lambda: any("flash limit" in x or "STRICT" in x for x in show.lines))
        oscsend("localhost", udp, "/hl/stage/save")
        assert wait_for(lambda: (tmp_path / "stage.toml.bak").exists()), "the stage was not saved"
        oscsend("localhost", udp, "/hl/master/record_stop")
        assert wait_for(lambda: any("recorded" in line for line in show.lines))
        oscsend("localhost", udp, "/hl/master/record_start")
        assert wait_for(lambda: any("desk-2.mp4" in line for line in show.lines))
    finally:
        log = show.stop()
    assert "Traceback" not in log
    changed = [x for x in log.splitlines() if "changed live" in x]
    assert len(changed) == 1 and "STRICT" in changed[0]  # the change is logged, once
    saved = load_stage(stage)
    side = saved.output("side")
    assert side.keystone[0] == (0.1, 0.05) and side.mesh.points[4] == (0.55, 0.45)
    assert side.edge("left").curve == 3.0 and saved.output("main").brightness == 0.8
    assert saved.flash_limit == "strict"  # changed live, so saved with the stage
    assert ffprobe(take)["video"] > 0 and ffprobe(tmp_path / "desk-2.mp4")["video"] > 0


@pytest.mark.slow
def test_stage_edit_drags_a_corner_with_the_mouse(xvfb_display, tmp_path):
    from engine.output.stage import load_stage

    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    proc = start_show(xvfb_display, tmp_path)
    stage = tmp_path / "stage.toml"
    try:
        # Xvfb has one screen: raise the preview above the fullscreen projector, as the laptop's screen is
        xdotool(xvfb_display, "search", "--sync", "--name", "preview", "windowraise", "windowfocus", "--sync",
                "key", "e")  # fmt: skip
        # the preview (320 x 180, the output's shape) now shows the output: its TL corner is at (0, 0)
        xdotool(xvfb_display, "search", "--name", "preview",
                "mousemove", "--window", "%1", "--sync", "3", "3", "mousedown", "1",
                "mousemove", "--window", "%1", "--sync", "35", "21",
                "mousemove", "--window", "%1", "--sync", "34", "20", "mouseup", "1", "key", "s")  # fmt: skip
        assert wait_for(lambda: (tmp_path / "stage.toml.bak").exists()), "the stage was not saved"
        hold_esc_until_it_ends(xvfb_display, proc)
    finally:
        proc.kill()
    x, y = load_stage(stage).outputs[0].keystone[0]
    assert abs(x * 320 - 34) <= 1.5 and abs(y * 180 - 20) <= 1.5, (x * 320, y * 180)


@pytest.mark.slow
def test_preview_keys_reach_the_show_and_l_in_stage_edit_steps_the_flash_limit(xvfb_display, tmp_path):
    import re
    import threading
    import urllib.request

    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    proc = start_show(xvfb_display, tmp_path, "--osc-port", "0", "--oscquery-port", "0", "--no-zeroconf")
    lines = list(proc.seen)
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    http = next(m.group(1) for x in lines if (m := re.search(r"OSCQuery listening on http://\S+:(\d+)/", x)))

    def value(address):
        with urllib.request.urlopen(f"http://127.0.0.1:{http}{address}?VALUE", timeout=30) as r:
            return json.loads(r.read())["VALUE"]

    try:
        xdotool(xvfb_display, "search", "--sync", "--name", "preview", "windowfocus", "--sync",
                "key", "--delay", "40", "b", "f")  # fmt: skip
        assert wait_for(lambda: value("/hl/master/blackout") == [True])
        assert wait_for(lambda: value("/hl/master/freeze") == [True])
        xdotool(xvfb_display, "key", "--delay", "40", "l")  # outside stage edit: L does nothing
        xdotool(xvfb_display, "key", "--delay", "40", "e", "l")  # in stage edit: standard -> strict
        assert wait_for(lambda: any("changed live" in x for x in lines)), "the change was not logged"
        assert wait_for(lambda: value("/hl/stage/flash_limit") == [1])  # desks see it at the next frame
        hold_esc_until_it_ends(xvfb_display, proc, proc.wait)  # its stderr is read by the thread
    finally:
        proc.kill()
    changed = [x for x in lines if "changed live" in x]
    assert len(changed) == 1 and "STRICT" in changed[0] and "was standard" in changed[0]
