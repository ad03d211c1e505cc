"""OSC over TCP: one thread serves every connection through a selector; framing is detected per connection.

ETC Eos prefers TCP (OSC 1.0 length prefix by default, SLIP as an option); liblo's osc.tcp:// uses the
length prefix. Replies and feedback go back on the same connection in its own framing; they are queued and
written by this thread, so frames from different threads never interleave.

Abuse cannot lock a desk out: a connection that has sent no complete packet within `quiet_timeout`, or
holds half a frame for `partial_timeout`, is closed; and when all `MAX_CONNECTIONS` places are taken, a new
client takes the place of the one quiet the longest (a real desk talks, or at least answers pings).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from engine.control.framing import BadFrame, Deframer, StreamError
from engine.control.router import Router, Source
from engine.errors import HalationError

log = logging.getLogger(__name__)
MAX_CONNECTIONS = 64
MAX_OUTBOX = 1024  # queued reply frames per connection; a client that stops reading loses the oldest
QUIET_TIMEOUT = 30.0  # seconds a new connection may stay without sending one complete packet
PARTIAL_TIMEOUT = 10.0  # seconds a connection may sit on half a frame
EVICT_AFTER = 2.0  # at capacity, only a connection quiet this long makes way for a new one


@dataclass(eq=False)
class Connection:
    sock: socket.socket
    peer: tuple[str, int]
    deframer: Deframer = field(default_factory=Deframer)
    outbox: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_OUTBOX))
    source: Source | None = None
    opened: float = field(default_factory=time.monotonic)
    last_packet: float | None = None  # when it last sent a complete packet
    partial_since: float | None = None  # when it started the frame it has not finished

    def quiet_since(self) -> float:
        return self.last_packet if self.last_packet is not None else self.opened


class TcpInput:
    def __init__(
        self,
        router: Router,
        host: str = "0.0.0.0",
        port: int = 9000,
        *,
        quiet_timeout: float = QUIET_TIMEOUT,
        partial_timeout: float = PARTIAL_TIMEOUT,
    ):
        self.router = router
        self.quiet_timeout = quiet_timeout
        self.partial_timeout = partial_timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.server = socket.socket(family, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((host, port))
        except OSError as exc:
            self.server.close()
            raise HalationError(
                f"OSC TCP: cannot listen on {host}:{port} ({exc.strerror}); pick another port"
            ) from None
        self.server.listen(16)
        self.server.setblocking(False)
        self.host = host
        self.port = self.server.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self.server, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._connections: dict[socket.socket, Connection] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-osc-tcp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def connections(self) -> int:
        return len(self._connections)

    def send(self, connection: Connection, packet: bytes) -> bool:
        """Queue a packet for a connection (any thread); the TCP thread frames and writes it.
        False once the connection is gone."""
        if connection.sock not in self._connections:
            return False
        if connection.deframer.mode is None:
            return True
        with self._lock:
            connection.outbox.append(connection.deframer.encode(packet))
        with contextlib.suppress(OSError):  # full: already woken
            self._wake_w.send(b"\0")
        return True

    def _run(self) -> None:
        while not self._halt.is_set():
            self._expire(time.monotonic())
            for key, events in self._selector.select(timeout=0.25):
                try:
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        if events & selectors.EVENT_READ:
                            self._read(key.data)
                        if events & selectors.EVENT_WRITE:
                            self._flush(key.data)
                except Exception:  # a bug must cost a connection, never the thread
                    self.router.counters.add("internal-error")
                    log.exception("OSC TCP: connection failed")
                    if isinstance(key.data, Connection):
                        self._close(key.data)

    def _accept(self) -> None:
        try:
            sock, peer = self.server.accept()
        except OSError:
            return
        full = len(self._connections) >= MAX_CONNECTIONS and not self._evict_quietest(time.monotonic())
        if full or not self.router.allowlist.allows(peer[0]):
            self.router.counters.add("denied")
            sock.close()
            return
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = Connection(sock, peer[:2])
        connection.source = Source(peer[0], peer[1], "tcp", lambda packet: self.send(connection, packet))
        self._connections[sock] = connection
        self._selector.register(sock, selectors.EVENT_READ, connection)

    def _expire(self, now: float) -> None:
        """Close connections that never said anything, or hang on half a frame (counted as "idle-closed")."""
        for connection in list(self._connections.values()):
            never_spoke = connection.last_packet is None and now - connection.opened > self.quiet_timeout
            stuck = (
                connection.partial_since is not None and now - connection.partial_since > self.partial_timeout
            )
            if never_spoke or stuck:
                self.router.counters.add("idle-closed")
                self._close(connection)

    def _evict_quietest(self, now: float) -> bool:
        """At capacity: close the connection quiet the longest, if it has been quiet a while."""
        quietest = min(self._connections.values(), key=Connection.quiet_since, default=None)
        if quietest is None or now - quietest.quiet_since() < EVICT_AFTER:
            return False
        self.router.counters.add("evicted")
        self._close(quietest)
        return True

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        for connection in list(self._connections.values()):
            if connection.outbox:
                self._flush(connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(connection)
            return
        try:
            frames = connection.deframer.feed(data)
        except StreamError as exc:
            self.router.counters.add("packets")
            self.router.counters.add(exc.reason)
            self._close(connection)
            return
        now = time.monotonic()
        if frames:
            connection.last_packet = now
        connection.partial_since = (connection.partial_since or now) if connection.deframer.pending else None
        for frame in frames:
            if isinstance(frame, BadFrame):
                self.router.counters.add("packets")
                self.router.counters.add(frame.reason)
            else:
                self.router.handle(frame, connection.source)  # type: ignore[arg-type]

    def _flush(self, connection: Connection) -> None:
        with self._lock:
            pending = b"".join(connection.outbox)
            connection.outbox.clear()
        if not pending:
            return
        try:
            sent = connection.sock.send(pending)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(connection)
            return
        rest = pending[sent:]
        events = selectors.EVENT_READ
        if rest:
            with self._lock:
                connection.outbox.appendleft(rest)
            events |= selectors.EVENT_WRITE
        if connection.sock in self._connections:
            self._selector.modify(connection.sock, events, connection)

    def _close(self, connection: Connection) -> None:
        if self._connections.pop(connection.sock, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()

    def stop(self) -> None:
        self._halt.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        self._thread.join(timeout=2.0)
        for connection in list(self._connections.values()):
            self._close(connection)
        self._selector.close()
        self.server.close()
        self._wake_r.close()
        self._wake_w.close()
