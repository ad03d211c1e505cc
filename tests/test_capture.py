"""Live capture end to end through a real audio server: a JACK client plays a click track into the engine's
PortAudio input; the live chain hears the clicks on time and the tempo; when the server dies and comes
back, capture recovers by itself and audio time keeps pace with the wall clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest

from engine.analysis.analyzer import Analyzer
from engine.audio.capture import LiveCapture
from engine.commands.bench import BENCH_DIR, load
from engine.errors import HalationError

jackkit = load(BENCH_DIR / "_jack.py")  # the benches' JACK server and click player

SR = 48000
PERIOD = 24000  # frames between clicks: 120 BPM


@pytest.fixture
def jack_server(monkeypatch, request):
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (make test installs jackd2)")
    name = f"halation-capture-test-{os.getpid()}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)  # PortAudio in the capture process joins this server
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    server = jackkit.JackServer(name, getattr(request, "param", 256), SR)
    server.start()
    yield server
    server.stop()


def listen_live(
    capture: LiveCapture, analyzer: Analyzer, seconds: float, raw: list, onsets: list, beats: list
):
    """What the analysis thread does: read what arrived, analyse it, every ~5 ms."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples = capture.read()
        if len(samples):
            raw.append(samples)
            analyzer.feed(samples)
            onsets += analyzer.drain_onsets()
            beats += analyzer.drain_beats()
        time.sleep(0.005)


def click_times(raw: np.ndarray) -> np.ndarray:
    """Where each click starts on the capture's timeline (rising edges), in seconds."""
    loud = raw > 0.4
    return np.flatnonzero(loud[1:] & ~loud[:-1]) / SR + 1 / SR


def nearest(times: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return (
        np.array([np.min(np.abs(targets - t)) for t in times])
        if len(targets)
        else np.full(len(times), np.inf)
    )


@pytest.mark.parametrize("jack_server", [256, 64], indirect=True, ids=["block256", "block64"])
def test_clicks_are_heard_on_time_and_capture_survives_the_server_restarting(jack_server):
    """At the default block and at the smallest (64 samples, 1.3 ms, on a server running cycles that
    short), every click is heard within 10 ms, and capture comes back by itself after the server dies."""
    block = jack_server.period
    capture = LiveCapture("JACK", channels=(0,), sample_rate=SR, blocksize=block)
    capture.start()
    feeder = jackkit.ClickProcess(jack_server.name, every=PERIOD)  # a source outside this process
    analyzer = Analyzer(SR)
    raw, onsets, beats = [], [], []
    try:
        feeder.wait_connected()
        listen_live(capture, analyzer, 7.0, raw, onsets, beats)
        clicks = click_times(np.concatenate(raw))
        assert len(clicks) >= 10
        lost = PERIOD - np.rint(np.diff(clicks) * SR)  # frames missing between two clicks
        blocks = np.rint(lost / block)
        assert np.all(blocks >= 0) and np.all(np.abs(lost - block * blocks) <= 1), "only whole blocks lost"
        assert blocks.sum() <= capture.status().overflows, "and every lost block was counted"
        heard = np.array([o.time for o in onsets if o.time > 0.3])
        assert np.all(nearest(heard, clicks) <= 0.010), "every onset is a click, within 10 ms"
        assert np.mean(nearest(clicks[clicks > 0.5], heard) <= 0.010) >= 0.9, "and every click is heard"
        assert analyzer.snapshot().grid.bpm == pytest.approx(120, rel=0.02)
        late_beats = np.array([b.time for b in beats if b.time > 4.0])
        assert len(late_beats) >= 4 and np.all(nearest(late_beats, clicks) <= 0.015), "beats fall on clicks"
        position = capture.position()
        assert position is not None and 0 <= position - analyzer.time < 0.05

        feeder.close()
        listen_live(capture, analyzer, 0.05, raw, onsets, beats)
        stopped, heard_then = time.monotonic(), sum(map(len, raw)) / SR
        jack_server.stop()
        deadline = time.monotonic() + 3
        while capture.connected and time.monotonic() < deadline:
            listen_live(capture, analyzer, 0.1, raw, onsets, beats)
        assert not capture.connected and capture.position() is None, "the show clock free-runs meanwhile"
        listen_live(capture, analyzer, 1.0, raw, onsets, beats)

        jack_server.start()
        feeder = jackkit.ClickProcess(jack_server.name, every=PERIOD)  # a source outside this process
        deadline = time.monotonic() + 10
        while not capture.connected and time.monotonic() < deadline:
            listen_live(capture, analyzer, 0.1, raw, onsets, beats)
        assert capture.connected and capture.status().reconnects == 1
        back = time.monotonic()
        listen_live(capture, analyzer, 0.1, raw, onsets, beats)  # the silence owed is paid in steps of 1 s
        # the time the device was away came in as silence: audio time kept pace with the wall clock
        # (measured over the outage: a starved dummy server's own cycles run slower than the wall clock)
        assert sum(map(len, raw)) / SR - heard_then == pytest.approx(back - stopped, abs=0.5)
        feeder.wait_connected()
        resumed = analyzer.time
        # the feeder's clicks start when its client is scheduled: on a starved machine that took seconds
        deadline = time.monotonic() + 30
        clicks = np.zeros(0)
        while len(clicks) < 6 and time.monotonic() < deadline:
            listen_live(capture, analyzer, 0.5, raw, onsets, beats)
            clicks = click_times(np.concatenate(raw))
            clicks = clicks[clicks > resumed]
        listen_live(capture, analyzer, 0.1, raw, onsets, beats)  # the last click's onset is reported after it
        heard = np.array([o.time for o in onsets if o.time > resumed + 0.3])
        assert len(clicks) >= 4 and np.mean(nearest(clicks, heard) <= 0.010) >= 0.75, "heard again"
    finally:
        feeder.close()
        capture.stop()


def test_unknown_device_is_refused_with_the_list_of_inputs(jack_server):
    with pytest.raises(HalationError, match=r"no audio input matches 'no such card'.*JACK"):
        LiveCapture("no such card").start()
    with pytest.raises(HalationError, match="block size 32"):
        LiveCapture("JACK", blocksize=32)


def test_perform_listens_live_and_tells_the_desk_the_tempo(jack_server):
    """The whole chain as a VJ runs it: `halation perform --audio-device JACK`, clicks at 120 BPM from a
    JACK client, and the BPM the engine hears comes back to a registered OSC client (a desk)."""
    import socket
    import sys

    from pythonosc.osc_message import OscMessage

    from engine.paths import ROOT

    desk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    desk.bind(("127.0.0.1", 0))
    desk.settimeout(0.5)
    show = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "perform",
            "--headless",
            "--audio-device",
            "JACK",
            "--duration",
            "14",
            "--size",
            "160x90",
            "--fps",
            "30",
            "--osc-port",
            "0",
            "--no-zeroconf",
            "--osc-feedback",
            f"127.0.0.1:{desk.getsockname()[1]}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    feeder = jackkit.ClickProcess(jack_server.name, every=PERIOD)  # a source outside this process
    try:
        feeder.wait_connected(timeout=30)
        bpms = []
        deadline = time.monotonic() + 14
        while time.monotonic() < deadline and show.poll() is None:
            try:
                msg = OscMessage(desk.recv(65536))
            except (TimeoutError, ValueError):
                continue
            if msg.address == "/hl/status/bpm":
                bpms.append(float(msg.params[0]))
        out, err = show.communicate(timeout=30)
    finally:
        feeder.close()
        desk.close()
        if show.poll() is None:
            show.kill()
    assert show.returncode == 0, err
    assert "capture: " in out and " 0 reconnects" in out
    assert bpms and bpms[-1] == pytest.approx(120, abs=1.5), bpms
