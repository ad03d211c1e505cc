"""A whole set from the desk: the address space follows every cue. liblo's oscsend steps a 3-cue setlist
of different shaders; after each cue OSCQuery lists exactly that look's inputs, a value sent over TCP to a
new input shows in its VALUE, WebSocket listeners hear the paths come and go, and python-oscquery reads the
whole tree. A look's inputs answer once it is on screen (status/cue says so); nothing waits a fixed time."""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import threading
import time
import urllib.error
import urllib.request

import pytest
from test_control_e2e import Performance, oscsend

from engine.paths import SHADERS_DIR
from engine.render.isf import load_isf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed"),
]
LOOKS = (
    ("Tunnel", "generators/tunnel.fs"),
    ("Aurora", "generators/aurora.fs"),
    ("Rings", "generators/spectrum_rings.fs"),
)


def inputs_of(shader: str) -> set[str]:
    return {
        i.name for i in load_isf(SHADERS_DIR / shader).inputs if i.type not in ("image", "audio", "audioFFT")
    }


def write_set(tmp_path) -> str:
    cues = ""
    for name, shader in LOOKS:
        (tmp_path / f"{name.lower()}.toml").write_text(f'name = "{name}"\n[shader]\nfile = "{shader}"\n')
        cues += f'[[cue]]\nname = "{name}"\npreset = "{name.lower()}.toml"\n'
    (tmp_path / "set.toml").write_text(cues)
    return str(tmp_path / "set.toml")


def get(show: Performance, path: str):
    url = f"http://127.0.0.1:{show.ports['http']}{path}"
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def listen(port: int, paths: list[str]) -> tuple[queue.Queue, threading.Event]:
    """A WebSocket OSCQuery client that LISTENs to `paths` and collects the server's text messages."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    heard: queue.Queue = queue.Queue()
    done, ready = threading.Event(), threading.Event()

    def run() -> None:
        with contextlib.suppress(ConnectionClosed), connect(f"ws://127.0.0.1:{port}/") as ws:
            for path in paths:
                ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
            ready.set()
            while not done.is_set():
                try:
                    message = ws.recv(timeout=0.2)
                except TimeoutError:
                    continue
                if isinstance(message, str):
                    heard.put(json.loads(message))

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(20), "the WebSocket client did not connect"
    return heard, done


def changes(heard: queue.Queue, until: str, timeout: float = 20.0) -> list[dict]:
    """Path-change messages until one names `until` (or the timeout)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(heard.get(timeout=0.2))
        except queue.Empty:
            continue
        if got[-1].get("DATA") == until:
            break
    return got


def test_a_desk_runs_every_cue_of_the_set(tmp_path):
    show = Performance("--setlist", write_set(tmp_path), duration=90)
    try:
        assert show.wait_value("/hl/status/cue", ["1 Tunnel"], timeout=30) == ["1 Tunnel"]
        heard, done = listen(show.ports["http"], ["/hl/status/cue"])
        previous = inputs_of(LOOKS[0][1])
        for number, (name, shader) in enumerate(LOOKS, 1):
            expected = inputs_of(shader)
            if number > 1:
                oscsend("localhost", str(show.ports["udp"]), "/hl/cue/go")
                assert show.wait_value("/hl/status/cue", [f"{number} {name}"], timeout=30) == [
                    f"{number} {name}"
                ]
                added = sorted(expected - previous)
                got = changes(heard, f"/hl/shader/{added[-1]}")
                commands = {(m["COMMAND"], m["DATA"]) for m in got}
                assert ("PATH_ADDED", f"/hl/shader/{added[-1]}") in commands, got
                gone = sorted(previous - expected)[0]
                assert ("PATH_REMOVED", f"/hl/shader/{gone}") in commands, got
            listed = set(get(show, "/hl/shader")["CONTENTS"])
            assert listed == expected, f"cue {number}: OSCQuery lists {listed}"
            first = sorted(
                i for i in expected if i not in ("cool", "hot", "center", "colourA", "colourB", "low", "high")
            )[0]
            rng = get(show, f"/hl/shader/{first}?RANGE")["RANGE"][0]
            level = round(rng["MIN"] + 0.37 * (rng["MAX"] - rng["MIN"]), 4)
            oscsend(f"osc.tcp://localhost:{show.ports['tcp']}", f"/hl/shader/{first}", "f", str(level))
            value = show.wait_value(f"/hl/shader/{first}", [pytest.approx(level, abs=1e-3)])
            assert value == [pytest.approx(level, abs=1e-3)], f"cue {number}: {first} = {value}"
            with pytest.raises(urllib.error.HTTPError) as gone_node:
                get(show, f"/hl/shader/{sorted(previous - expected or {'nothing_here'})[0]}")
            assert gone_node.value.code == 404
            previous = expected
        oscsend("localhost", str(show.ports["udp"]), "/hl/cue/go")  # past the last cue: said, not swallowed
        error = show.wait_value(
            "/hl/status/error", ["cue.go: no cue after 3 'Rings', the last (the show goes on unchanged)"]
        )
        assert "no cue after 3 'Rings'" in error[0]
        assert get(show, "/hl/status/cue_next?VALUE")["VALUE"] == [""]
        assert "Tunnel" in get(show, "/hl/cue/goto?RANGE")["RANGE"][0]["VALS"]
        done.set()
    finally:
        log = show.stop()
    assert "Traceback" not in log, log
    assert "no cue after 3 'Rings'" in log  # the console heard it when it happened


def test_python_oscquery_reads_the_whole_tree(tmp_path):
    from pythonoscquery.shared.osc_path_node import OSCPathNode

    show = Performance("--setlist", write_set(tmp_path), duration=60)
    try:
        assert show.wait_value("/hl/status/cue", ["1 Tunnel"], timeout=30) == ["1 Tunnel"]
        root = OSCPathNode.from_json(get(show, "/"))

        def walk(node):
            yield node
            for child in node.contents or ():
                yield from walk(child)

        paths = {n.full_path for n in walk(root)}
        assert {"/hl/cue/go", "/hl/shader/twist", "/hl/status/bpm", "/hl/macro/1"} <= paths
        with pytest.raises(urllib.error.HTTPError) as bad:
            get(show, "/hl/master/level?NOSUCHATTRIBUTE")
        assert bad.value.code == 400
    finally:
        show.stop()


def udp_bound(port: int) -> bool:
    """Whether something listens on this local UDP port (Linux /proc/net/udp)."""
    with open("/proc/net/udp") as f:
        return any(int(row.split()[1].split(":")[1], 16) == port for row in list(f)[1:])


@pytest.mark.skipif(shutil.which("oscdump") is None, reason="liblo-tools is not installed")
def test_a_feedback_client_hears_the_new_looks_inputs_and_the_status(tmp_path):
    import socket
    import subprocess

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dump = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(dump.stdout), daemon=True).start()
    deadline = time.monotonic() + 20
    while not udp_bound(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    show = Performance("--setlist", write_set(tmp_path), "--osc-feedback", f"127.0.0.1:{port}", duration=60)
    try:
        assert show.wait_value("/hl/status/cue", ["1 Tunnel"], timeout=30) == ["1 Tunnel"]
        oscsend("localhost", str(show.ports["udp"]), "/hl/cue/go")
        assert show.wait_value("/hl/status/cue", ["2 Aurora"], timeout=30) == ["2 Aurora"]
        deadline = time.monotonic() + 20
        while (
            not any(line.startswith("/hl/shader/curtains") for line in lines) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        show.stop()
        dump.terminate()
        dump.wait(timeout=5)
    heard = "".join(lines)
    assert "/hl/shader/curtains" in heard  # an input only the second look has
    assert '/hl/status/cue s "2 Aurora"' in heard
    assert "/hl/status/macro/1" in heard


def window_named(display: str, name: str) -> bool:
    import os
    import subprocess

    found = subprocess.run(
        ["xdotool", "search", "--name", name], capture_output=True, env={**os.environ, "DISPLAY": display}
    )
    return found.returncode == 0 and bool(found.stdout.strip())


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
def test_the_window_title_follows_the_cue(tmp_path, xvfb_display):
    import os
    import re
    import subprocess
    import sys

    from conftest import ROOT

    args = ["perform", "--no-sound", "--size", "160x90", "--duration", "200"]
    args += ["--setlist", write_set(tmp_path)]
    args += ["--osc-port", "0", "--no-zeroconf"]
    env = {**os.environ, "DISPLAY": xvfb_display, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None and time.monotonic() < deadline and proc.poll() is None:
            port = next(
                (
                    m.group(1)
                    for line in list(lines)
                    if (m := re.search(r"OSC UDP listening on \S+:(\d+)", line))
                ),
                None,
            )
            time.sleep(0.05)
        assert port, "".join(lines)
        for title in ("Halation — Tunnel", "Halation — Aurora"):  # each may take a while on a busy machine
            if title.endswith("Aurora"):
                oscsend("localhost", port, "/hl/cue/go")
            deadline = time.monotonic() + 90
            while not window_named(xvfb_display, title) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert window_named(xvfb_display, title), "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
