"""sACN (E1.31) in, driven by the `sacn` package's own sender on loopback: a desk without OSC patches Halation
as a fixture and rides its levels at 8 and 16 bit, flashes its buttons and picks cues by DMX value."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from engine.control.dmx import SacnInput
from engine.control.fixture import DEFAULT, fixture_toml, load_fixture
from engine.control.hub import ControlHub, OscConfig
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore

sacn = pytest.importorskip("sacn", reason="the sacn package is not installed")
PARAMS = {p.name: p for p in show_params()}
PARAMS["shader.zoom"] = Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")
DOCS_FIXTURE = Path(__file__).resolve().parent.parent / "docs" / "fixtures" / "halation-sacn.toml"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Desk:
    """sacn's sender, unicast to the receiver's port on loopback."""

    def __init__(self, monkeypatch, port: int, universe: int):
        # sacn sends to the standard port 5568; point it at this test's receiver instead
        monkeypatch.setattr("sacn.sending.sender_socket_udp.DEFAULT_PORT", port)
        self.sender = sacn.sACNsender(bind_address="127.0.0.1", bind_port=0, fps=40)
        self.universe = universe
        self.sender.activate_output(universe)
        self.sender[universe].multicast = False
        self.sender[universe].destination = "127.0.0.1"
        self.levels = [0] * 512
        self.sender.start()

    def set(self, address: int, *values: int) -> None:
        for i, v in enumerate(values):
            self.levels[address - 1 + i] = v
        self.sender[self.universe].dmx_data = tuple(self.levels)

    def stop(self) -> None:
        self.sender.stop()


@pytest.fixture
def rig(monkeypatch):
    made = []

    def make(address: int, fixture=DEFAULT):
        port = free_udp_port()
        dmx = SacnInput(7, address, fixture, bind="127.0.0.1", port=port, multicast=False)
        hub = ControlHub(OscConfig(), (dmx,))
        hub.start(PARAMS)
        desk = Desk(monkeypatch, port, 7)
        made.append((hub, desk))
        return hub, desk, ParamStore(PARAMS.values())

    yield make
    for hub, desk in made:
        desk.stop()
        hub.stop()


def until(hub, store, predicate, commands=None, timeout=4.0):
    deadline = time.monotonic() + timeout
    while True:
        store.apply(hub.drain())
        if commands is not None:
            commands += hub.drain_commands()
        values = store.base()
        if predicate(values) or time.monotonic() > deadline:
            return values
        time.sleep(0.01)


def test_the_default_fixture_rides_16_bit_levels_and_fires_buttons(rig):
    hub, desk, store = rig(address=101)
    desk.set(101, 0x40, 0x00)  # master level, 16-bit: 25 %
    desk.set(105, 0xFF, 0xFF)  # crossfade full
    values = until(hub, store, lambda v: v["clips.crossfade"] == 1.0)
    assert values["master.level"] == pytest.approx(0x4000 / 65535)
    desk.set(101, 0x40, 0x01)  # the fine channel alone moves the level a 65535th
    values = until(hub, store, lambda v: v["master.level"] > 0x4000 / 65535)
    assert values["master.level"] == pytest.approx(0x4001 / 65535)
    desk.set(103, 255)  # blackout on
    assert until(hub, store, lambda v: v["master.blackout"])["master.blackout"] is True
    commands = []
    desk.set(112, 255)  # cue go: fires as the channel crosses 50 %
    desk.set(114, 3)  # go to cue 3
    until(hub, store, lambda v: len(commands) >= 2, commands)
    assert sorted((c.action, c.args) for c in commands) == [("cue.go", ()), ("cue.goto", (3.0,))]
    desk.set(112, 200)  # still above half: no second go
    time.sleep(0.2)
    until(hub, store, lambda v: False, commands, timeout=0.2)
    assert [c.action for c in commands].count("cue.go") == 1


def test_a_custom_fixture_drives_a_shader_input_at_8_bit(rig, tmp_path):
    path = tmp_path / "zoom.toml"
    path.write_text('name = "Zoom only"\n[[channel]]\noffset = 1\ntarget = "shader.zoom"\nbits = 8\n')
    hub, desk, store = rig(address=1, fixture=load_fixture(path))
    desk.set(1, 255)
    assert until(hub, store, lambda v: v["shader.zoom"] == 4.0)["shader.zoom"] == 4.0
    desk.set(1, 0)
    assert until(hub, store, lambda v: v["shader.zoom"] == 0.5)["shader.zoom"] == 0.5


def test_the_shipped_channel_list_is_the_default_fixture():
    assert DOCS_FIXTURE.read_text() == fixture_toml(DEFAULT)
    assert load_fixture(DOCS_FIXTURE) == DEFAULT
