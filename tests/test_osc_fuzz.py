"""Property-based fuzzing over real sockets: whatever arrives over UDP or TCP, the receivers never die, and
every packet is either handed on or counted as rejected with a reason."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.control.codec import encode_bundle
from engine.control.hub import ControlHub, OscConfig
from engine.control.stats import ACCEPTED
from engine.params.show_params import show_params

PARAMS = {p.name: p for p in show_params()}
# Rejections of a whole packet (the rest, like unknown-address, are per message inside a good packet).
PACKET_REJECTIONS = {
    "bad-address",
    "bad-array",
    "bad-bundle",
    "bad-length",
    "bad-string",
    "bad-type-tag",
    "bad-value",
    "empty",
    "not-osc",
    "too-big",
    "too-deep",
    "truncated",
    "bad-framing",
    "bad-frame-length",
    "bad-slip-escape",
}


@pytest.fixture(scope="module")
def hub():
    hub = ControlHub(OscConfig(udp_port=0, tcp_port=0, zeroconf=False, rate_limit=0))
    hub.start(PARAMS)
    yield hub
    hub.stop()


def wait_packets(hub: ControlHub, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while hub.counters["packets"] < count and time.monotonic() < deadline:
        hub.drain()
        time.sleep(0.002)


def packet_rejections(hub: ControlHub) -> int:
    return sum(v for k, v in hub.counters.snapshot().items() if k in PACKET_REJECTIONS)


addresses = st.sampled_from(["/hl/master/level", "/hl/tempo/tap", "/hl/cue/goto", "/hl/nope", "/ping", "/x"])
args = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32),
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8),
        st.booleans(),
        st.none(),
    ),
    max_size=4,
)


@st.composite
def good_packets(draw) -> bytes:
    builder = OscMessageBuilder(draw(addresses))
    for a in draw(args):
        builder.add_arg(a)
    message = builder.build().dgram
    return encode_bundle([message], draw(st.sampled_from([1, 0]))) if draw(st.booleans()) else message


@st.composite
def bad_packets(draw) -> bytes:
    good = draw(good_packets())
    kind = draw(st.sampled_from(["misaligned", "unknown-tag", "garbage", "bundle-size", "deep", "utf8"]))
    if kind == "misaligned":
        return good + b"\0" * draw(st.integers(1, 3))
    if kind == "unknown-tag":
        return (
            b"/hl/master/level\0\0\0\0,"
            + draw(st.sampled_from([b"S", b"c", b"fS", b"x"]))
            + b"\0\0"
            + bytes(8)
        )
    if kind == "garbage":
        return draw(st.sampled_from([b"\x00", b"\xff", b"G", b"{"])) + draw(st.binary(max_size=60))
    if kind == "bundle-size":
        return b"#bundle\0" + bytes(8) + struct.pack(">i", draw(st.integers(-5, 1 << 20)) | 1) + good
    if kind == "deep":
        for _ in range(12):
            good = encode_bundle([good])
        return good
    return b"/hl/cue/goto\0\0\0\0,s\0\0\xff\xfe\xfd\0"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), good_packets(), bad_packets()), min_size=1, max_size=25))
def test_udp_fuzz_never_kills_the_receiver_and_counts_every_bad_packet(hub, batch):
    before_total, before_bad = hub.counters["packets"], packet_rejections(hub)
    sent_bad = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        for use_bad, good, bad in batch:
            peer.sendto(bad if use_bad else good, ("127.0.0.1", hub.udp.port))
            sent_bad += use_bad
    wait_packets(hub, before_total + len(batch))
    assert hub.counters["packets"] == before_total + len(batch)
    assert packet_rejections(hub) - before_bad == sent_bad
    assert hub.counters["internal-error"] == 0
    assert hub.udp._thread.is_alive()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.booleans(), good_packets(), bad_packets()), min_size=1, max_size=12),
    st.lists(st.integers(1, 64), max_size=10),
)
def test_tcp_stream_fuzz_counts_every_frame_and_keeps_serving(hub, batch, cuts):
    before_total, before_bad = hub.counters["packets"], packet_rejections(hub)
    stream = b"".join(struct.pack(">i", len(p)) + p for p in (bad if b else good for b, good, bad in batch))
    with socket.create_connection(("127.0.0.1", hub.tcp.port), timeout=3) as conn:
        i = 0
        for cut in [*cuts, len(stream)]:
            conn.sendall(stream[i : i + cut])
            i += cut
        wait_packets(hub, before_total + len(batch))
    assert hub.counters["packets"] == before_total + len(batch)
    assert packet_rejections(hub) - before_bad == sum(b for b, _, _ in batch)
    assert hub.counters["internal-error"] == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=300))
def test_tcp_garbage_closes_only_that_connection(hub, junk):
    with socket.create_connection(("127.0.0.1", hub.tcp.port), timeout=3) as conn:
        conn.sendall(junk)
        time.sleep(0.01)
    with socket.create_connection(("127.0.0.1", hub.tcp.port), timeout=3) as conn:
        packet = OscMessageBuilder("/ping").build().dgram
        conn.sendall(struct.pack(">i", len(packet)) + packet)
        assert conn.recv(4)  # still answering: the pong's length prefix
    assert hub.counters["internal-error"] == 0
    rejected = {k for k in hub.counters.rejected() if k not in ACCEPTED}
    assert rejected <= PACKET_REJECTIONS | {
        "unknown-address",
        "bad-argument",
        "missing-value",
        "bad-argument-count",
    }
