"""Art-Net in, driven by PyPI's stupidArtnet sender on loopback: a desk that speaks only Art-Net (QLC+, small
consoles) patches Halation as the same fixture as over sACN, on a NET:SUBNET:UNIVERSE Port-Address; other
universes are ignored, and an ArtPoll finds Halation in the desk's node list."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from test_sacn import free_udp_port, until  # the same desk-side helpers as the sACN tests

from engine.control.artnet import ArtnetInput, parse_artdmx, port_address
from engine.control.fixture import DEFAULT
from engine.control.hub import ControlHub, OscConfig
from engine.errors import HalationError
from engine.params.show_params import show_params
from engine.params.store import ParamStore

StupidArtnet = pytest.importorskip("stupidArtnet", reason="stupidArtnet is not installed").StupidArtnet
PARAMS = {p.name: p for p in show_params()}
UNIVERSE = "0:1:3"  # net 0, subnet 1, universe 3: Port-Address 19


@pytest.fixture
def rig():
    made = []

    def make(address: int = 10):
        dmx = ArtnetInput(port_address(UNIVERSE), address, DEFAULT, bind="127.0.0.1", port=free_udp_port())
        hub = ControlHub(OscConfig(), (dmx,))
        hub.start(PARAMS)
        desk = StupidArtnet("127.0.0.1", port_address(UNIVERSE), 512, 30, port=dmx.port)
        made.append((hub, desk))
        return hub, desk, dmx

    yield make
    for hub, desk in made:
        desk.close()
        hub.stop()


def test_an_artnet_desk_rides_levels_flashes_buttons_and_picks_cues(rig):
    hub, desk, _ = rig(address=10)
    store, commands = ParamStore(PARAMS.values()), []
    desk.set_16bit(10, 0x8000, high_first=True)  # master.level, coarse then fine: half
    desk.set_single_value(12, 255)  # blackout on (channel 3 of the fixture)
    desk.set_single_value(23, 5)  # cue.goto 5 (channel 14 of the fixture)
    desk.show()
    values = until(hub, store, lambda v: v["master.blackout"] and commands, commands)
    assert values["master.level"] == pytest.approx(0x8000 / 65535, abs=1e-6)
    assert [(c.action, c.args) for c in commands] == [("cue.goto", (5.0,))]
    desk.set_single_value(21, 255)  # cue.go crossing 50 % upwards
    desk.show()
    until(hub, store, lambda v: len(commands) > 1, commands)
    desk.show()  # the same levels again: nothing fires twice
    desk.set_single_value(12, 0)
    desk.show()
    values = until(hub, store, lambda v: not v["master.blackout"], commands)
    assert [c.action for c in commands] == ["cue.goto", "cue.go"]


def test_other_universes_and_late_packets_are_ignored(rig):
    hub, desk, dmx = rig(address=1)
    store, commands = ParamStore(PARAMS.values()), []
    other = StupidArtnet("127.0.0.1", port_address("0:1:4"), 512, 30, port=dmx.port)
    try:
        desk.set_16bit(1, 0x4000, high_first=True)
        desk.show()
        until(hub, store, lambda v: v["master.level"] < 0.5, commands)
        other.set_16bit(1, 0xFFFF)  # the desk next door, on universe 0:1:4
        other.show()
        desk.set_16bit(5, 0xFFFF)  # then ours moves the crossfader: everything before it has arrived
        desk.show()
        values = until(hub, store, lambda v: v["clips.crossfade"] == 1.0, commands)
        assert values["clips.crossfade"] == 1.0
        assert values["master.level"] == pytest.approx(0x4000 / 65535, abs=1e-6)  # not the other desk's full
    finally:
        other.close()
    fresh = ArtnetInput(0)
    assert fresh._in_order(200) and not fresh._in_order(150) and fresh._in_order(10)  # 10 after 200 wrapped


def test_an_artpoll_finds_halation(rig):
    _, _, dmx = rig()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk_socket:
        desk_socket.bind(("127.0.0.1", 0))
        desk_socket.settimeout(3)
        poll = b"Art-Net\x00" + struct.pack("<H", 0x2000) + bytes([0, 14, 0, 0])
        desk_socket.sendto(poll, ("127.0.0.1", dmx.port))
        reply, _ = desk_socket.recvfrom(1024)
    assert reply[:8] == b"Art-Net\x00" and struct.unpack_from("<H", reply, 8)[0] == 0x2100
    assert reply[26:34] == b"Halation" and reply[18] == 0 and reply[19] == 1 and reply[190] == 3


def test_universes_are_written_the_way_desks_write_them():
    assert port_address("0:1:3") == 19 == port_address("19")
    assert port_address("127:15:15") == 0x7FFF
    for bad in ("0:16:0", "128:0:0", "32768", "a:b:c", "1:2"):
        with pytest.raises(HalationError, match="--artnet-universe"):
            port_address(bad)
    assert parse_artdmx(b"Art-Net\x00\x00\x50\x00\x0e\x01\x00\x13\x00\x00\x02\x7f\x80").data == b"\x7f\x80"
    assert parse_artdmx(b"not art-net at all") is None


@pytest.mark.slow
def test_perform_patched_over_artnet_from_the_command_line():
    """`halation perform --artnet-universe 0:1:3`: the desk's 16-bit master reaches the show's value that
    OSCQuery reports."""
    import re

    pytest.importorskip("websockets", reason="OSCQuery needs websockets")
    from test_control_e2e import Performance

    perf = Performance("--artnet-universe", UNIVERSE, "--artnet-address", "101", "--artnet-port", "0")
    try:
        deadline = time.monotonic() + 30
        port = None
        while port is None:
            assert time.monotonic() < deadline, "no 'Art-Net listening' line:\n" + "".join(perf.lines)
            port = next(
                (int(m.group(1)) for line in perf.lines if (m := re.search(r"Art-Net .* port (\d+)", line))),
                None,
            )
            time.sleep(0.05)
        desk = StupidArtnet("127.0.0.1", port_address(UNIVERSE), 512, 30, port=port)
        try:
            desk.set_16bit(101, 0x4000, high_first=True)
            deadline = time.monotonic() + 15
            while (value := perf.value("/hl/master/level")[0]) > 0.5 and time.monotonic() < deadline:
                desk.show()  # a desk repeats its universe (here a few times a second)
                time.sleep(0.2)
            assert value == pytest.approx(0x4000 / 65535, abs=1e-4)
        finally:
            desk.close()
    finally:
        perf.stop()


def test_a_channel_follows_the_look_on_screen():
    """A channel patched to a shader input drives it in each look that has it, in that look's range."""
    from engine.control.fixture import Channel, Fixture
    from engine.params.store import Param

    fixture = Fixture("Halation", "zoom", (Channel(1, "shader.zoom"),))
    dmx = ArtnetInput(0, 1, fixture, bind="127.0.0.1", port=free_udp_port())
    hub = ControlHub(OscConfig(), (dmx,))
    hub.start(PARAMS)  # the first look has no zoom: the channel is skipped
    desk = StupidArtnet("127.0.0.1", 0, 512, 30, port=dmx.port)
    try:
        look = {**PARAMS, "shader.zoom": Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")}
        hub.retarget(look)  # a cue brings a look with a zoom
        store, commands = ParamStore(look.values()), []
        desk.set_single_value(1, 255)
        deadline = time.monotonic() + 4
        while store.base()["shader.zoom"] != 4.0 and time.monotonic() < deadline:
            desk.show()
            until(hub, store, lambda v: v["shader.zoom"] == 4.0, commands, timeout=0.2)
        assert store.base()["shader.zoom"] == 4.0
    finally:
        desk.close()
        hub.stop()
