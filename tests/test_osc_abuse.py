"""OSC under abuse (issue 16): idle and half-frame TCP clients cannot lock a real desk out, and malformed or
64 KB packets are dropped and counted while the desk is still served. A real desk here is liblo's oscsend."""

from __future__ import annotations

import shutil
import socket
import struct

import pytest
from conftest import until
from test_osc_server import PARAMS, Show, oscsend

from engine.control import tcp
from engine.control.hub import ControlHub, OscConfig

pytestmark = pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")


@pytest.fixture
def hub():
    hub = ControlHub(OscConfig(udp_port=0, tcp_port=0, zeroconf=False))
    hub.start(PARAMS)
    yield hub
    hub.stop()


def test_200_idle_connections_do_not_lock_a_desk_out(hub, monkeypatch):
    monkeypatch.setattr(tcp, "EVICT_AFTER", 0.2)
    show = Show(hub)
    idle = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", hub.tcp.port))
            idle.append(s)
        assert until(lambda: hub.tcp.connections == tcp.MAX_CONNECTIONS)  # capped, never more
        level = iter(range(1, 1000))

        def desk_gets_through() -> bool:
            value = next(level) / 1000
            oscsend(f"osc.tcp://localhost:{hub.tcp.port}", "/hl/master/level", "f", str(value))
            return show.until(lambda v: v["master.level"] == pytest.approx(value), 0.5)[
                "master.level"
            ] == pytest.approx(value)

        assert until(desk_gets_through, timeout=15), "the desk was never served"
        assert hub.counters["evicted"] >= 1
        assert hub.tcp.connections <= tcp.MAX_CONNECTIONS
    finally:
        for s in idle:
            s.close()


def test_a_client_that_sends_half_a_frame_and_hangs_is_closed(hub):
    hub.tcp.partial_timeout = 0.5
    hub.tcp.quiet_timeout = 0.5
    show = Show(hub)
    half = socket.create_connection(("127.0.0.1", hub.tcp.port))
    silent = socket.create_connection(("127.0.0.1", hub.tcp.port))
    try:
        half.sendall(struct.pack(">i", 100) + b"/hl/master/le")  # 17 of the 104 bytes promised
        assert until(lambda: hub.counters["idle-closed"] >= 2)
        half.settimeout(5)
        assert half.recv(10) == b""  # the server hung up on it
        oscsend(f"osc.tcp://localhost:{hub.tcp.port}", "/hl/master/level", "f", "0.3")
        assert show.until(lambda v: v["master.level"] == pytest.approx(0.3))["master.level"] == pytest.approx(
            0.3
        )
    finally:
        half.close()
        silent.close()


def test_malformed_and_64k_packets_are_dropped_and_counted_while_a_desk_is_served(hub):
    show = Show(hub)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    try:
        before = hub.counters["packets"]
        bad = [b"\xff" * 13, b"/hl/master/level\0\0\0\0,f\0\0", b"#bundle\0" + b"\x01" * 9, b""]
        for packet in bad:
            sender.sendto(packet, ("127.0.0.1", hub.udp.port))
        big = b"/hl/master/level\0\0\0\0,f\0\0" + b"\0" * 65400  # a 64 KB datagram
        sender.sendto(big, ("127.0.0.1", hub.udp.port))
        assert until(lambda: hub.counters["packets"] - before >= len(bad) + 1)
        oscsend("localhost", str(hub.udp.port), "/hl/master/level", "f", "0.7")
        assert show.until(lambda v: v["master.level"] == pytest.approx(0.7))["master.level"] == pytest.approx(
            0.7
        )
        counts = hub.counters.snapshot()
        for reason in ("not-osc", "truncated", "bad-bundle", "empty", "bad-length"):  # the 64 KB one last
            assert counts.get(reason, 0) >= 1, (reason, counts)
        assert hub.udp._thread.is_alive()
    finally:
        sender.close()
