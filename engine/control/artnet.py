"""Art-Net input (ArtDmx on UDP 6454): the desks that speak only Art-Net (QLC+, many small consoles and
apps) patch Halation as the same fixture as over sACN.

A universe is Art-Net's 15-bit Port-Address: net (0–127), subnet (0–15) and universe (0–15), written
`NET:SUBNET:UNIVERSE` or as the one number `net * 256 + subnet * 16 + universe` (what QLC+ and most apps
call "universe" when they count from 0). Packets are parsed here (the format is fixed and small, and a
receive loop of our own stops cleanly), an ArtDmx for another universe or an older sequence number is
ignored, and an ArtPoll is answered with an ArtPollReply so a desk's node list shows Halation.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.control.dmx import FixtureInput
from engine.control.fixture import DEFAULT, Fixture
from engine.errors import HalationError

if TYPE_CHECKING:
    from engine.control.hub import ControlHub

log = logging.getLogger(__name__)
ARTNET_PORT = 6454
ID = b"Art-Net\x00"
OP_POLL, OP_POLL_REPLY, OP_DMX = 0x2000, 0x2100, 0x5000
PROTOCOL = 14


def port_address(text: str) -> int:
    """`NET:SUBNET:UNIVERSE` or one number 0–32767 → the 15-bit Port-Address."""
    parts = text.strip().split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise HalationError(f"--artnet-universe '{text}': use NET:SUBNET:UNIVERSE or 0–32767") from None
    if len(numbers) == 1 and 0 <= numbers[0] <= 0x7FFF:
        return numbers[0]
    if len(numbers) == 3:
        net, sub, uni = numbers
        if 0 <= net <= 127 and 0 <= sub <= 15 and 0 <= uni <= 15:
            return net << 8 | sub << 4 | uni
    raise HalationError(
        f"--artnet-universe '{text}': net 0–127, subnet 0–15, universe 0–15 (or one number 0–32767)"
    )


def describe(address: int) -> str:
    return f"{address >> 8}:{(address >> 4) & 15}:{address & 15}"


@dataclass(frozen=True)
class ArtDmx:
    sequence: int  # 1–255, 0 = the sender does not number its packets
    universe: int  # the 15-bit Port-Address
    data: bytes


def parse_artdmx(packet: bytes) -> ArtDmx | None:
    """An ArtDmx packet's contents; None for anything else (or a malformed one)."""
    if len(packet) < 18 or packet[:8] != ID:
        return None
    opcode, version = struct.unpack_from("<HxB", packet, 8)  # opcode low byte first, version high first
    if opcode != OP_DMX or version < PROTOCOL:
        return None
    sequence, _physical, subuni, net, length = struct.unpack_from(">BBBBH", packet, 12)
    data = packet[18 : 18 + length]
    if length < 2 or length > 512 or len(data) != length:
        return None
    return ArtDmx(sequence, (net & 0x7F) << 8 | subuni, data)


def is_poll(packet: bytes) -> bool:
    return len(packet) >= 14 and packet[:8] == ID and struct.unpack_from("<H", packet, 8)[0] == OP_POLL


def poll_reply(ip: str, port: int, universe: int, name: str = "Halation") -> bytes:
    """An ArtPollReply: this node, its one output port (what it listens to) and its name."""
    packet = bytearray(239)
    packet[:8] = ID
    struct.pack_into("<H", packet, 8, OP_POLL_REPLY)
    packet[10:14] = socket.inet_aton(ip)
    struct.pack_into("<H", packet, 14, port)
    packet[18] = (universe >> 8) & 0x7F  # NetSwitch
    packet[19] = (universe >> 4) & 0x0F  # SubSwitch
    packet[26:44] = name.encode()[:17].ljust(18, b"\x00")  # short name
    packet[44:108] = f"{name} visuals (fixture over Art-Net)".encode()[:63].ljust(64, b"\x00")
    struct.pack_into(">H", packet, 172, 1)  # NumPorts
    packet[174] = 0x80 | 0x05  # port 1 can output DMX from the network (to the show), Art-Net
    packet[182] = 0x80  # GoodOutput: data is being output
    packet[190] = universe & 0x0F  # SwOut
    return bytes(packet)


class ArtnetInput(FixtureInput):
    """Listens for ArtDmx on one Port-Address; the fixture sits at `address` within it."""

    def __init__(
        self,
        universe: int = 0,
        address: int = 1,
        fixture: Fixture = DEFAULT,
        *,
        bind: str = "0.0.0.0",
        port: int = ARTNET_PORT,
    ):
        if not 0 <= universe <= 0x7FFF:
            raise HalationError(f"--artnet-universe {universe}: use 0–32767")
        super().__init__(address, fixture, "--artnet-address")
        self.universe = universe
        self.host = bind
        self.port = port
        self._sequence = 0
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()

    def start(self, hub: ControlHub) -> None:
        self.bind(hub, "Art-Net")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # beside another Art-Net app
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise HalationError(f"Art-Net: cannot listen on port {self.port} ({exc.strerror})") from None
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._socket = sock
        self._halt.clear()
        self._thread = threading.Thread(target=self._receive, name="halation-artnet", daemon=True)
        self._thread.start()
        log.info(
            "Art-Net listening on port %d: universe %s (%d), address %d, %d channels (%s)",
            self.port,
            describe(self.universe),
            self.universe,
            self.address,
            self.fixture.footprint,
            self.fixture.mode,
        )

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _receive(self) -> None:
        sock = self._socket
        assert sock is not None
        while not self._halt.is_set():
            try:
                packet, source = sock.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self._on_packet(packet, source)
            except Exception:
                log.exception("Art-Net: packet failed")

    def _on_packet(self, packet: bytes, source: tuple[str, int]) -> None:
        if is_poll(packet):
            self._answer_poll(source)
            return
        dmx = parse_artdmx(packet)
        if dmx is None or dmx.universe != self.universe or not self._in_order(dmx.sequence):
            return
        self.apply(dmx.data)

    def _in_order(self, sequence: int) -> bool:
        """Art-Net numbers packets 1–255 (0: not numbered); a packet up to half the ring behind the last
        one arrived late over the network and would undo a newer level."""
        if sequence == 0 or self._sequence == 0:
            self._sequence = sequence
            return True
        behind = (self._sequence - sequence) % 256
        if 0 < behind < 128:
            return False
        self._sequence = sequence
        return True

    def _answer_poll(self, source: tuple[str, int]) -> None:
        sock = self._socket
        if sock is None:
            return
        ip = sock.getsockname()[0]
        if ip == "0.0.0.0":
            ip = _route_to(source[0])
        try:
            sock.sendto(poll_reply(ip, self.port, self.universe), (source[0], ARTNET_PORT))
            if source[1] != ARTNET_PORT:  # a poller on another port (a test, an app) hears it there too
                sock.sendto(poll_reply(ip, self.port, self.universe), source)
        except OSError as exc:
            log.debug("Art-Net: poll reply to %s failed (%s)", source[0], exc)


def _route_to(host: str) -> str:
    """This machine's address on the way to `host` (what an ArtPollReply names)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, ARTNET_PORT))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
