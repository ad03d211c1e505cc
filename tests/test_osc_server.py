"""OSC servers over real sockets, driven by independent peers (liblo's oscsend, raw sockets, python-osc's
encoder): what a lighting desk sends reaches the show's parameters, replies and feedback come back, and
floods, strangers and bad packets are counted and kept out."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest
from conftest import until

from engine.analysis.features import silent_features
from engine.control.codec import decode_packet, encode_bundle, encode_message, unix_to_ntp
from engine.control.framing import slip_encode
from engine.control.hub import ControlHub, OscConfig
from engine.control.profiles import parse_rule
from engine.live import ShowState
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore

pytestmark = pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")
PARAMS = {p.name: p for p in show_params()}
PARAMS["shader.zoom"] = Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")


class Show:
    """The render thread's side: a real ParamStore that drains the hub and publishes what it 'drew'."""

    def __init__(self, hub: ControlHub):
        self.hub = hub
        self.store = ParamStore(PARAMS.values())
        self.commands = []
        self.time = 0.0

    def frame(self) -> dict:
        self.store.apply(self.hub.drain())
        self.commands += self.hub.drain_commands()
        values = self.store.base()
        self.hub.publish(ShowState(self.time, values, silent_features(("bass",))))
        self.time += 1 / 60
        return values

    def until(self, predicate, timeout: float = 3.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            values = self.frame()
            if predicate(values) or time.monotonic() > deadline:
                return values
            time.sleep(0.005)


@pytest.fixture
def hub_factory():
    hubs = []

    def make(**config) -> ControlHub:
        config = {"udp_port": 0, "tcp_port": 0, "zeroconf": False, **config}
        hub = ControlHub(OscConfig(**config))
        hub.start(PARAMS)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.stop()


@pytest.fixture
def hub(hub_factory):
    return hub_factory()


def oscsend(*args: str) -> None:
    subprocess.run(["oscsend", *args], check=True, timeout=10, capture_output=True)


def udp_send(port: int, packet: bytes, sock: socket.socket | None = None) -> None:
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(packet, ("127.0.0.1", port))
    if sock is None:
        s.close()


def test_oscsend_over_udp_sets_a_level_with_any_argument_type(hub):
    show = Show(hub)
    port = str(hub.udp.port)
    for types, value, expected in [("f", "0.25", 0.25), ("i", "1", 1.0), ("s", "0.5", 0.5), ("F", None, 0.0)]:
        oscsend("localhost", port, "/hl/master/level", types, *([value] if value else []))
        values = show.until(lambda v, e=expected: v["master.level"] == pytest.approx(e))
        assert values["master.level"] == pytest.approx(expected)


def test_an_hour_of_one_shot_senders_is_not_remembered_but_the_desk_is(hub):
    """Scripts' oscsend comes from a new port every message: the show keeps how to answer the latest few
    hundred senders, not all of them, and a desk that keeps talking is still answered."""
    from engine.control.udp import MAX_SOURCES

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        desk.settimeout(3)
        for i in range(MAX_SOURCES + 200):
            udp_send(hub.udp.port, encode_message("/hl/master/level", [0.5]))  # a fresh port each
            if i % 100 == 0:
                udp_send(hub.udp.port, encode_message("/ping", [i]), desk)
                assert decode_packet(desk.recv(1024))[0].args == (i,)
        udp_send(hub.udp.port, encode_message("/ping", [-1]), desk)
        assert decode_packet(desk.recv(1024))[0].args == (-1,)
    assert len(hub.udp._sources) <= MAX_SOURCES


def test_oscsend_over_tcp_sets_a_parameter(hub):
    show = Show(hub)
    oscsend(f"osc.tcp://localhost:{hub.tcp.port}", "/hl/shader/zoom", "f", "2.5")
    assert show.until(lambda v: v["shader.zoom"] == 2.5)["shader.zoom"] == 2.5


@pytest.mark.parametrize("framing", ["double-end", "single-end"])
def test_slip_framed_tcp_is_detected_per_connection(hub, framing):
    show = Show(hub)
    frames = [slip_encode(encode_message("/hl/master/level", [0.125])), slip_encode(encode_message("/ping"))]
    if framing == "single-end":
        frames = [f[1:] for f in frames]
    with socket.create_connection(("127.0.0.1", hub.tcp.port), timeout=3) as conn:
        conn.sendall(b"".join(frames))
        reply = conn.recv(1024)
    assert show.until(lambda v: v["master.level"] == 0.125)["master.level"] == 0.125
    assert reply.startswith(b"\xc0") and reply.endswith(b"\xc0")  # answered in SLIP, as asked
    assert decode_packet(reply.strip(b"\xc0"))[0].address == "/pong"


def test_ping_is_answered_over_udp_and_length_prefixed_tcp(hub):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.settimeout(3)
        udp_send(hub.udp.port, encode_message("/hl/ping", [7]), peer)
        (pong,) = decode_packet(peer.recv(1024))
    assert (pong.address, pong.args) == ("/hl/pong", (7,))
    with socket.create_connection(("127.0.0.1", hub.tcp.port), timeout=3) as conn:
        packet = encode_message("/ping")
        conn.sendall(struct.pack(">i", len(packet)) + packet)
        head = conn.recv(4)
        body = conn.recv(struct.unpack(">i", head)[0])
    assert decode_packet(body)[0].address == "/pong"


def test_desk_profiles_read_percent_and_leave_bpm_in_bpm(hub_factory):
    hub = hub_factory(profiles=(parse_rule("127.0.0.1=ma3"),))
    show = Show(hub)
    oscsend("localhost", str(hub.udp.port), "/hl/master/level", "i", "50")
    oscsend("localhost", str(hub.udp.port), "/hl/tempo/bpm", "i", "128")
    values = show.until(lambda v: v["tempo.bpm"] == 128.0)
    assert values["master.level"] == 0.5
    assert values["tempo.bpm"] == 128.0


def test_a_trigger_fires_once_and_its_release_does_not(hub):
    show = Show(hub)
    port = str(hub.udp.port)
    oscsend("localhost", port, "/hl/cue/go")  # Eos: a button without an argument
    oscsend("localhost", port, "/hl/cue/go", "f", "0.0")  # …and its release
    oscsend("localhost", port, "/hl/cue/goto", "s", "chorus")
    show.until(lambda v: len(show.commands) >= 2)
    time.sleep(0.1)
    show.frame()
    assert [(c.action, c.args) for c in show.commands] == [("cue.go", ()), ("cue.goto", ("chorus",))]


def test_a_bundle_for_later_waits_for_the_show_clock(hub):
    show = Show(hub)
    show.frame()
    bundle = encode_bundle([encode_message("/hl/master/blackout", [True])], unix_to_ntp(time.time() + 0.4))
    udp_send(hub.udp.port, bundle)
    time.sleep(0.15)
    assert show.frame()["master.blackout"] is False  # received, held, not yet due
    assert hub.counters["scheduled"] == 1
    values = show.until(lambda v: v["master.blackout"], timeout=2.0)
    assert values["master.blackout"] is True


def test_strangers_are_turned_away(hub_factory):
    hub = hub_factory(allow=(ipaddress.ip_network("10.0.0.0/8"),))
    show = Show(hub)
    oscsend("localhost", str(hub.udp.port), "/hl/master/level", "f", "0.1")
    deadline = time.monotonic() + 3
    while hub.counters["denied"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hub.counters["denied"] == 1
    assert show.frame()["master.level"] == 1.0


def test_a_desk_is_heard_in_full_while_frames_outlast_their_period(hub_factory):
    """While a frame draws, the show decodes nothing before the frame's turn, and a show whose frames never
    rest (720p on a laptop's GPU) still takes every message of a flood and ends on the last value sent."""
    hub = hub_factory(rate_limit=0)
    show, port, n = Show(hub), hub.udp.port, 1000
    hub.udp.max_defer = 3600.0  # a frame that never gives decoding its turn
    hub.turn.begin()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        for i in range(n):
            peer.sendto(encode_message("/hl/master/level", [(i + 1) / n]), ("127.0.0.1", port))
        peer.sendto(encode_message("/ping", []), ("127.0.0.1", port))
        assert not until(lambda: hub.counters["packets"] > 1, timeout=0.5)  # the first wakes; it waits
    hub.turn.end()
    assert until(lambda: hub.counters["packets"] == n + 1)
    assert show.frame()["master.level"] == pytest.approx(1.0)

    hub.udp.max_defer = 0.015  # frames of 40 ms back to back: decoding goes on after each one's first part
    halt = threading.Event()

    def frames() -> None:
        while not halt.is_set():
            hub.turn.begin()
            halt.wait(0.04)
            hub.turn.end()

    drawing = threading.Thread(target=frames)
    drawing.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            for i in range(3 * n):
                peer.sendto(encode_message("/hl/master/level", [i / n]), ("127.0.0.1", port))
        assert until(lambda: hub.counters["packets"] == 4 * n + 1)  # a wait per packet took 30 s for these
    finally:
        halt.set()
        drawing.join()


def test_a_flood_is_rate_limited_and_costs_no_memory(hub_factory):
    hub = hub_factory(rate_limit=500.0)
    show = Show(hub)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        for i in range(5000):
            peer.sendto(encode_message("/hl/master/level", [i / 5000]), ("127.0.0.1", hub.udp.port))
    deadline = time.monotonic() + 5
    while hub.counters["packets"] < 5000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hub.inbox.pending() <= 1  # the flood coalesced into one pending value
    counts = hub.counters.snapshot()
    assert counts["rate-limited"] >= 3000
    assert counts["messages"] + counts["rate-limited"] == counts["packets"]
    show.frame()
    assert hub.inbox.pending() == 0


def test_a_flood_of_garbage_is_dropped_undecoded_once_the_budget_is_spent(hub_factory):
    hub = hub_factory(rate_limit=500.0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        for _ in range(3000):
            peer.sendto(b"/not/osc", ("127.0.0.1", hub.udp.port))
    deadline = time.monotonic() + 5
    while hub.counters["packets"] < 3000 and time.monotonic() < deadline:
        time.sleep(0.01)
    counts = hub.counters.snapshot()
    assert counts["rate-limited"] >= 1500  # never decoded
    assert counts["packets"] - counts["rate-limited"] <= 1500  # what the budget let through to the decoder


def test_registered_clients_hear_changes_in_their_own_units(hub_factory):
    hub = hub_factory(profiles=(parse_rule("127.0.0.1=0-100"),))
    show = Show(hub)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        client.settimeout(3)
        client.sendto(encode_message("/hl/feedback/register"), ("127.0.0.1", hub.udp.port))
        client.sendto(encode_message("/hl/master/level", [40]), ("127.0.0.1", hub.udp.port))
        show.until(lambda v: v["master.level"] == 0.4)
        heard = {}
        deadline = time.monotonic() + 3
        while heard.get("/hl/master/level") != (40,) or "/hl/master/blackout" not in heard:
            show.frame()
            try:
                (message,) = decode_packet(client.recv(2048))
            except TimeoutError:
                break
            heard[message.address] = message.args
            assert time.monotonic() < deadline
    assert heard["/hl/master/level"] == (40,)  # a percent desk hears percent
    assert heard["/hl/master/blackout"] == (0.0,)


def test_a_desks_own_addresses_can_be_aliased_onto_targets(hub_factory, tmp_path):
    from engine.control.aliases import load_aliases

    aliases = tmp_path / "desk.toml"
    aliases.write_text(
        "[alias]\n"
        '"/gma3/Page1/Fader201" = { target = "master.level", profile = "ma3" }\n'
        '"/gma3/Page1/Key201" = "cue.go"\n'
        '"/0/dmx/3" = { target = "shader.zoom", profile = "0-255" }  # QLC+ (older: 0-255)\n'
    )
    hub = hub_factory(aliases=load_aliases(aliases))
    show = Show(hub)
    port = str(hub.udp.port)
    oscsend("localhost", port, "/gma3/Page1/Fader201", "i", "30")  # an MA3 executor fader sending itself
    oscsend("localhost", port, "/gma3/Page1/Key201", "i", "1")
    oscsend("localhost", port, "/0/dmx/3", "i", "255")
    values = show.until(lambda v: v["shader.zoom"] == 4.0 and show.commands)
    assert values["master.level"] == pytest.approx(0.3)
    assert [c.action for c in show.commands] == ["cue.go"]
