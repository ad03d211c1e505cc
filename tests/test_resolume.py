"""A desk file written for Resolume Arena runs a Halation show: liblo's oscsend sends Resolume's own addresses
(composition master, layer opacity and bypass, crossfader sides, columns, dashboard links, the tempo
controller, "+"/"-"/"*" modifiers) over UDP and each reaches the target docs/control.md names; liblo's
oscdump, registered for feedback, hears the show at the Resolume addresses too."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import replace

import pytest
from test_osc_server import Show as OscShow

from engine.analysis.beatclock import TempoCommand
from engine.analysis.features import BeatGrid, silent_features
from engine.control.hub import ControlHub, OscConfig
from engine.live import ShowState
from engine.params.macros import macro_params
from engine.params.show_params import show_params
from engine.params.store import ParamStore
from engine.params.tempo import tempo_commands, tempo_resets

pytestmark = pytest.mark.skipif(
    shutil.which("oscsend") is None or shutil.which("oscdump") is None, reason="liblo-tools is not installed"
)
PARAMS = {p.name: p for p in [*show_params(), *macro_params(())]}


class Show(OscShow):
    """The render thread's side (test_osc_server's, with the macros): a real ParamStore draining the hub, the
    tempo commands it would hand the clock, the operator actions, and what it publishes for feedback."""

    def __init__(self, hub: ControlHub):
        super().__init__(hub)
        self.store = ParamStore(PARAMS.values())
        self.actions: list[str] = []
        self.tempo: list[TempoCommand] = []
        self.bpm = 0.0  # the tempo the clock runs at, as the analysis would report it

    def frame(self) -> dict:
        before = self.store.base()
        self.store.reset_events()
        self.store.apply(self.hub.drain())
        self.actions += [c.action for c in self.hub.drain_commands()]
        values = self.store.base()
        self.tempo += [c for c in tempo_commands(before, values, self.time) if isinstance(c, TempoCommand)]
        for name, value in tempo_resets(values).items():  # as the live loop: a nudge moves the beat once
            self.store.set(name, value)
        features = replace(silent_features(("bass",)), grid=BeatGrid(bpm=self.bpm))
        self.hub.publish(ShowState(self.time, values, features))
        self.time += 1 / 60
        return values


@pytest.fixture
def rig():
    hubs = []

    def make(**config) -> tuple[ControlHub, Show]:
        hub = ControlHub(OscConfig(udp_port=0, zeroconf=False, **config))
        hub.start(PARAMS)
        hubs.append(hub)
        return hub, Show(hub)

    yield make
    for hub in hubs:
        hub.stop()


def send(hub: ControlHub, address: str, *typed: str) -> None:
    subprocess.run(["oscsend", "localhost", str(hub.udp.port), address, *typed], check=True, timeout=10)


def test_resolume_levels_reach_master_decks_crossfader_and_macros(rig):
    hub, show = rig()
    send(hub, "/composition/master", "f", "0.5")
    send(hub, "/composition/dashboard/link3", "f", "0.7")
    send(hub, "/composition/layers/2/video/opacity", "f", "0.25")  # a quarter of deck B
    v = show.until(lambda v: v["master.level"] == 0.5 and v["macro.3"] > 0 and v["clips.crossfade"] > 0)
    assert (v["master.level"], v["macro.3"], v["clips.crossfade"]) == (0.5, pytest.approx(0.7), 0.25)
    send(hub, "/composition/layers/1/video/opacity", "sf", "+", "0.1")  # more of deck A: "+" moves by 0.1
    v = show.until(lambda v: v["clips.crossfade"] < 0.2)
    assert v["clips.crossfade"] == pytest.approx(0.15)
    send(hub, "/composition/master", "sf", "*", "0.5")
    assert show.until(lambda v: v["master.level"] < 0.5)["master.level"] == pytest.approx(0.25)
    send(hub, "/composition/master", "sf", "-", "0.05")
    assert show.until(lambda v: v["master.level"] < 0.25)["master.level"] == pytest.approx(0.2)
    send(hub, "/composition/master", "sf", "a", "0.9")  # "a": absolute, as a plain number
    assert show.until(lambda v: v["master.level"] > 0.5)["master.level"] == pytest.approx(0.9)
    send(hub, "/composition/crossfader/sideb", "i", "1")
    assert show.until(lambda v: v["clips.crossfade"] == 1.0)["clips.crossfade"] == 1.0
    send(hub, "/composition/layers/2/bypassed", "i", "1")  # deck B bypassed: the crossfader shows A
    assert show.until(lambda v: v["clips.crossfade"] == 0.0)["clips.crossfade"] == 0.0
    send(hub, "/composition/disconnectall", "i", "1")
    assert show.until(lambda v: v["master.blackout"])["master.blackout"] is True
    send(hub, "/composition/bypassed", "i", "0")  # the composition's bypass is the blackout
    assert show.until(lambda v: not v["master.blackout"])["master.blackout"] is False


def test_resolume_columns_and_clips_step_the_show(rig):
    hub, show = rig()
    for address in (
        "/composition/connectnextcolumn",
        "/composition/connectprevcolumn",
        "/composition/selectedclip/connect",
        "/composition/columns/3/connect",
    ):
        send(hub, address, "i", "1")
        count = len(show.actions)
        show.until(lambda v, n=count: len(show.actions) > n)
    assert show.actions == ["cue.go", "cue.back", "transition.fire", "cue.goto"]


def test_resolume_tempo_controller_reaches_the_clock(rig):
    hub, show = rig()
    send(hub, "/composition/tempocontroller/tempo", "f", "0.25")  # 0.25 of 20..500 BPM
    assert show.until(lambda v: v["tempo.bpm"] == 140.0)["tempo.bpm"] == 140.0
    send(hub, "/composition/tempocontroller/tempo", "f", "128.0")  # a tool that sends the BPM itself
    assert show.until(lambda v: v["tempo.bpm"] == 128.0)["tempo.bpm"] == 128.0
    send(hub, "/composition/tempocontroller/tempo", "i", "0")  # the slider's floor: follow the music
    assert show.until(lambda v: v["tempo.bpm"] == 0.0)["tempo.bpm"] == 0.0
    for address in ("tempo/multiply", "tempo/divide", "tempotap", "tempopush", "tempopull"):
        count = len(show.tempo)
        send(hub, f"/composition/tempocontroller/{address}", "i", "1")
        show.until(lambda v, n=count: len(show.tempo) > n)
    kinds = [(c.kind, c.value) for c in show.tempo]
    assert kinds[:2] == [("bpm", 140.0), ("bpm", 128.0)]
    nudges = [("nudge", 0.05), ("nudge", -0.05)]  # push: the beat earlier, pull: later
    assert kinds[2:] == [("bpm", 0.0), ("double", 0.0), ("half", 0.0), ("tap", 0.0), *nudges]


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dump:
    """liblo's oscdump on a port, its lines read on a thread; ready once it has heard a probe."""

    def __init__(self, port: int):
        self.port = port
        self.proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 10
        while "/probe" not in self.heard(0.1):
            assert time.monotonic() < deadline, "oscdump never heard its probe"
            subprocess.run(["oscsend", "localhost", str(port), "/probe"], check=True, timeout=10)

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line.split(" ", 1)[-1].strip())  # after oscdump's timetag

    def heard(self, timeout: float) -> set[str]:
        out = set()
        try:
            out.add(self.lines.get(timeout=timeout))
            while True:
                out.add(self.lines.get_nowait())
        except queue.Empty:
            return out

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


def test_feedback_reaches_the_resolume_addresses(rig):
    dump = Dump(_free_udp_port())
    try:
        hub, show = rig(feedback=(("127.0.0.1", dump.port),))
        send(hub, "/hl/master/level", "f", "0.5")
        send(hub, "/hl/clips/crossfade", "f", "0.25")
        show.bpm = 140.0  # the clock's tempo (heard, tapped or set): what Resolume's slider shows
        want = {
            "/composition/master f 0.500000",
            "/composition/layers/1/video/opacity f 0.750000",  # deck A: 1 − crossfade
            "/composition/layers/2/video/opacity f 0.250000",
            "/composition/tempocontroller/tempo f 0.250000",
        }
        heard: set[str] = set()
        deadline = time.monotonic() + 10
        while not want <= heard and time.monotonic() < deadline:
            show.until(lambda v: False, timeout=0.1)  # frames keep the feedback going
            heard |= dump.heard(0.05)
        assert want <= heard
    finally:
        dump.close()


def test_a_question_mark_asks_for_the_value(rig):
    from engine.control.codec import decode_packet, encode_message

    hub, show = rig()
    send(hub, "/composition/layers/2/video/opacity", "f", "0.25")
    show.until(lambda v: v["clips.crossfade"] == 0.25)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        desk.bind(("127.0.0.1", 0))
        desk.settimeout(5)
        answers = {}
        for address in (
            "/composition/layers/1/video/opacity",
            "/hl/clips/crossfade",
            "/composition/bypassed",
        ):
            desk.sendto(encode_message(address, ["?"]), ("127.0.0.1", hub.udp.port))
            (reply,) = decode_packet(desk.recv(2048))
            answers[reply.address] = reply.args
    assert answers == {
        "/composition/layers/1/video/opacity": (pytest.approx(0.75),),  # deck A shows 1 − crossfade
        "/hl/clips/crossfade": (0.25,),
        "/composition/bypassed": (0.0,),
    }
    assert show.frame()["clips.crossfade"] == 0.25  # asking changed nothing
