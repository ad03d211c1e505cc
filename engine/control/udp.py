"""OSC over UDP: one blocking receive thread, a large receive buffer, 64 KiB datagrams.

python-osc's threading server spawns a thread per packet and lost 38 % of messages at 5 k msg/s; its
socketserver drops datagrams over 8 KiB. One thread that only receives and routes keeps up with 10 k msg/s.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time

from engine.control.guard import MAX_PACKET
from engine.control.router import Router, Source
from engine.errors import HalationError

log = logging.getLogger(__name__)
RECEIVE_BUFFER = 8 * 1024 * 1024
# senders remembered (how to answer each): a desk keeps its port, but a script's oscsend comes from a new one
# every message, and an hour of those must not pile up (the least recently heard is forgotten first)
MAX_SOURCES = 256
MAX_DEFER = 0.015  # the part of a frame that decoding leaves to the render thread: all of a 60 fps frame


class FrameTurn:
    """When the render thread draws a frame, and since when. Receivers decode between frames; a packet
    that comes while a frame draws waits until the frame ends or its first `budget` seconds are over, and
    is applied at the next frame's start all the same. The budget counts from the frame's start, not
    from each packet: a show whose frames outlast their period never rests, and a wait per packet let one
    packet in 10 ms through (720p on llvmpipe, a 10 000 msg/s desk: 77 % dropped by the kernel and the
    fader's last values lost; now 95 % at load 3 and the last values kept)."""

    def __init__(self) -> None:
        self._resting = threading.Event()
        self._resting.set()
        self.started = 0.0  # monotonic time the frame being drawn began

    def begin(self) -> None:
        self.started = time.monotonic()
        self._resting.clear()

    def end(self) -> None:
        self._resting.set()

    def wait_turn(self, budget: float) -> None:
        if not self._resting.is_set():
            left = self.started + budget - time.monotonic()
            if left > 0:
                self._resting.wait(left)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def open_udp(host: str, port: int, what: str = "OSC UDP") -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_DGRAM)
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            break
        except OSError:
            continue  # SO_RCVBUFFORCE needs privileges; SO_RCVBUF is capped by net.core.rmem_max
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HalationError(
            f"{what}: cannot listen on {host}:{port} ({exc.strerror}); pick another port"
        ) from None
    return sock


class UdpInput:
    """Receives datagrams and hands each to the router; replies go back to the sender's address.

    After a datagram wakes it, the thread pauses `batch_wait` (1 ms) and then takes everything waiting in one
    go: a flood costs one wake-up per burst instead of one per packet. While the render thread draws a
    frame, decoding waits (see FrameTurn), so a flood neither holds the GIL nor takes a core from the frame.
    """

    def __init__(self, router: Router, host: str = "0.0.0.0", port: int = 9000):
        self.router = router
        self.sock = open_udp(host, port)
        self.batch_wait = 0.001
        self.turn: FrameTurn | None = None  # the hub's: when the render thread draws
        self.max_defer = MAX_DEFER
        self._sources: dict[tuple, Source] = {}
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.buffer_bytes = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-osc-udp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, packet: bytes, address: tuple[str, int]) -> bool:
        try:
            self.sock.sendto(packet, address)
        except OSError:
            self.router.counters.add("send-failed")
        return True

    def _run(self) -> None:
        recvfrom = self.sock.recvfrom
        while not self._halt.is_set():
            try:
                data, address = recvfrom(MAX_PACKET + 1)  # blocks until a datagram (or stop's wake-up)
            except OSError:
                continue
            if self._halt.is_set():
                break
            self._take(data, address)
            if self.batch_wait:
                time.sleep(self.batch_wait)  # under a flood, let a burst gather: one wake-up per burst
            while not self._halt.is_set():  # then everything that is waiting, without blocking
                try:
                    data, address = recvfrom(MAX_PACKET + 1, socket.MSG_DONTWAIT)
                except OSError:  # BlockingIOError: nothing more is waiting
                    break
                self._take(data, address)

    def _take(self, data: bytes, address: tuple) -> None:
        if self.turn is not None:
            self.turn.wait_turn(self.max_defer)  # between frames, or once the frame's first part is over
        self._deliver(data, address)

    def _deliver(self, data: bytes, address: tuple) -> None:
        source = self._sources.get(address)
        if source is None:
            if len(self._sources) >= MAX_SOURCES:  # the one heard from longest ago goes
                del self._sources[next(iter(self._sources))]
            source = self._sources[address] = Source(
                address[0], address[1], "udp", lambda packet, a=address: self.send(packet, a)
            )
        elif next(reversed(self._sources)) != address:
            self._sources[address] = self._sources.pop(address)  # heard now: the last to go
        try:
            self.router.handle(data, source)
        except Exception:  # a bug must cost a packet, never the receive thread
            self.router.counters.add("internal-error")
            log.exception("OSC UDP: packet from %s failed", address[0])

    def stop(self) -> None:
        self._halt.set()
        wake_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        with contextlib.suppress(OSError), socket.socket(self.sock.family, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", (wake_host, self.port))  # wakes the blocked recvfrom now
        self._thread.join(timeout=2.0)
        self.sock.close()
