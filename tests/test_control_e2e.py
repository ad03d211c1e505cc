"""End to end: `halation perform --headless` driven the way a venue drives it. liblo's oscsend over UDP and
TCP, recorded desk sessions replayed by oscsendfile (ETC Eos style over TCP, grandMA3 style with its own
prefix and percent ints), the result read back through OSCQuery; and a value sent over OSC is in the very
next frame the show renders."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.features import silent_features
from engine.clock import OfflineClock
from engine.control.hub import ControlHub, OscConfig
from engine.paths import DEMO_PRESET

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed"),
]


PORTS = {
    "udp": re.compile(r"OSC UDP listening on \S+:(\d+)"),
    "tcp": re.compile(r"OSC TCP listening on \S+:(\d+)"),
    "http": re.compile(r"OSCQuery listening on http://\S+:(\d+)/"),
}


class Performance:
    """`halation perform --headless` in the background, with the ports it reports on stderr."""

    def __init__(self, *extra: str, duration: float = 40):
        args = ["perform", "--headless", "--no-sound", "--size", "160x90", "--fps", "30"]
        args += ["--duration", str(duration), "--osc-port", "0", "--oscquery-port", "0", "--no-zeroconf"]
        args += extra
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.ports: dict[str, int] = {}
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60):
            self.stop()
            pytest.fail("perform did not report its ports:\n" + "".join(self.lines))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            for name, pattern in PORTS.items():
                if m := pattern.search(line):
                    self.ports[name] = int(m.group(1))
            if len(self.ports) == len(PORTS):
                self._ready.set()
        self._ready.set()

    def value(self, address: str):
        url = f"http://127.0.0.1:{self.ports['http']}{address}?VALUE"
        # a busy machine can hold the show's threads for seconds while it compiles a look: wait, not fail
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read())["VALUE"]

    def wait_value(self, address: str, expected, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while (value := self.value(address)) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return value

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.1)
        return "".join(self.lines)


def oscsend(*args: str) -> None:
    subprocess.run(["oscsend", *args], check=True, timeout=10, capture_output=True)


def replay(target: str, session: str, tmp_path: Path) -> None:
    """oscsendfile replays an oscdump-format recording with its timing."""
    path = tmp_path / "session.txt"
    path.write_text(session)
    subprocess.run(["oscsendfile", *target.split(), str(path)], check=True, timeout=30, capture_output=True)


def test_oscsend_over_udp_and_tcp_sets_parameters_that_oscquery_then_shows():
    show = Performance()
    try:
        assert show.value("/hl/master/level") == [1.0]
        oscsend("localhost", str(show.ports["udp"]), "/hl/master/level", "f", "0.4")
        oscsend(f"osc.tcp://localhost:{show.ports['tcp']}", "/hl/shader/glow", "f", "0.65")
        assert show.wait_value("/hl/master/level", [0.4]) == [0.4]
        assert show.wait_value("/hl/shader/glow", [0.65]) == [0.65]
    finally:
        log = show.stop()
    assert "2 values and 0 commands handed to the show" in log, log
    assert "Traceback" not in log


# liblo's oscsendfile repeats the previous line's arguments on a line without any, so the Eos buttons pressed
# without an argument come first in this recording.
EOS_SESSION = """\
e0000000.00000000 /hl/cue/go
e0000000.08000000 /hl/master/blackout
e0000000.10000000 /hl/master/level i 75
e0000000.18000000 /hl/shader/glow i 40
e0000000.20000000 /hl/cue/go f 0.000000
e0000000.28000000 /hl/cue/goto i 5
e0000000.30000000 /hl/master/freeze f 1.000000
e0000000.38000000 /hl/master/freeze f 0.000000
e0000000.40000000 /hl/tempo/tap f 1.000000
e0000000.48000000 /hl/tempo/tap f 0.000000
e0000000.50000000 /hl/tempo/bpm i 128
e0000000.58000000 /hl/tempo/max i 180
"""


@pytest.mark.skipif(shutil.which("oscsendfile") is None, reason="liblo-tools has no oscsendfile")
def test_an_eos_session_over_tcp_leaves_the_show_where_the_desk_put_it(tmp_path):
    # Eos: TCP, OSC 1.0 length prefix; ints for whole numbers, buttons with or without an argument; percent
    show = Performance("--osc-profile", "eos")
    try:
        replay(f"osc.tcp://localhost:{show.ports['tcp']}", EOS_SESSION, tmp_path)
        assert show.wait_value("/hl/tempo/max", [180.0]) == [180.0]  # the last message: all are in
        assert show.value("/hl/tempo/bpm") == [128.0]
        assert show.value("/hl/master/freeze") == [False]  # on, then off again
        assert show.value("/hl/master/level") == [0.75]
        assert show.value("/hl/shader/glow") == [0.4]
        assert show.value("/hl/master/blackout") == [True]  # a button without argument toggled it on
        # (and the BPM and the tempo range above stayed BPM under the percent profile)
    finally:
        log = show.stop()
    # level, glow, blackout, bpm, max, freeze ×2, tap; cue go (once: its release does not fire) and goto 5
    assert "12 messages, 8 values and 2 commands handed to the show" in log, log


MA3_SESSION = """\
e0000000.00000000 /gma3/master/level i 100
e0000000.08000000 /gma3/master/level i 60
e0000000.10000000 /gma3/shader/glow i 25
e0000000.18000000 /gma3/master/blackout T
e0000000.20000000 /gma3/master/blackout F
e0000000.28000000 /gma3/tempo/tap i 100
e0000000.30000000 /gma3/cue/goto i 3
e0000000.38000000 /gma3/master/freeze i 100
"""


@pytest.mark.skipif(shutil.which("oscsendfile") is None, reason="liblo-tools has no oscsendfile")
def test_a_grandma3_session_with_its_prefix_and_percent_ints(tmp_path):
    show = Performance("--osc-prefix", "/gma3", "--osc-profile", "127.0.0.1=ma3")
    try:
        replay(f"localhost {show.ports['udp']}", MA3_SESSION, tmp_path)
        assert show.wait_value("/gma3/master/freeze", [True]) == [True]
        assert show.value("/gma3/master/level") == [0.6]
        assert show.value("/gma3/shader/glow") == [0.25]
        assert show.value("/gma3/master/blackout") == [False]
    finally:
        log = show.stop()
    assert "8 messages, 7 values and 1 commands handed to the show" in log, log


# --- the next frame ----------------------------------------------------------------------------------------


class FrameRecorder:
    """A control surface that notes when each frame starts and what values it was drawn with."""

    def __init__(self):
        self.frames: list[tuple[float, dict]] = []
        self._start = 0.0

    def start(self, params) -> None:
        pass

    def drain(self) -> list:
        self._start = time.monotonic()
        return []

    def publish(self, state) -> None:
        self.frames.append((self._start, dict(state.values)))

    def stop(self) -> None:
        pass


def test_a_value_sent_over_osc_is_in_the_next_frame_rendered():
    from engine.audio.feed import BufferFeed
    from engine.commands.common import load_music
    from engine.live import perform
    from engine.show.preset import load_preset

    recorder = FrameRecorder()
    hub = ControlHub(OscConfig(udp_port=0, zeroconf=False))
    sent: dict[str, float] = {}

    def desk() -> None:
        while len(recorder.frames) < 20:  # the show is running
            time.sleep(0.01)
        oscsend("localhost", str(hub.udp.port), "/hl/master/blackout", "T")
        while hub.counters["applied"] + hub.inbox.pending() < 1:
            time.sleep(0.001)
        sent["queued"] = hub.inbox.last_put

    threading.Thread(target=desk, daemon=True).start()
    music = load_music(None)
    perform(
        load_preset(DEMO_PRESET),
        BufferFeed(music, play=False),
        size=(96, 54),
        fps=60,
        duration=3.0,
        headless=True,
        controls=(recorder, hub),  # recorder drains first: a frame starting after the queueing shows it
    )
    assert "queued" in sent, "the desk thread never got its message through"
    after = [values for started, values in recorder.frames if started > sent["queued"]]
    before = [values for started, values in recorder.frames if started < sent["queued"] - 0.05]
    assert after and after[0]["master.blackout"] is True
    assert before and before[-1]["master.blackout"] is False


def test_blackout_over_osc_turns_the_next_drawn_frame_black(gl_ctx):
    from engine.app import Show
    from engine.render.context import Offscreen
    from engine.show.preset import load_preset

    preset = load_preset(DEMO_PRESET)
    show = Show(gl_ctx, preset, (64, 36))
    out = Offscreen(gl_ctx, (64, 36))
    hub = ControlHub(OscConfig(udp_port=0, zeroconf=False))
    hub.start(show.params.params)
    clock = OfflineClock(30)
    features = silent_features(tuple(show.analyzer.snapshot().bands))
    try:

        def frame() -> np.ndarray:
            show.params.apply(hub.drain())
            show.draw(clock.tick(), features, out.fbo)
            return out.read()

        lit = frame()
        assert lit[..., :3].max() > 0
        oscsend("localhost", str(hub.udp.port), "/hl/master/level", "f", "0.5")
        deadline = time.monotonic() + 3
        while hub.inbox.pending() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        half = frame()  # the very next frame
        brightness = lit[..., :3].astype(float).mean()
        assert half[..., :3].astype(float).mean() == pytest.approx(brightness / 2, rel=0.1)
        oscsend("localhost", str(hub.udp.port), "/hl/master/blackout", "T")
        while hub.inbox.pending() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert frame()[..., :3].max() == 0
    finally:
        hub.stop()
        out.release()
        show.release()
