"""Render nodes: `perform --follow HOST:PORT` draws from another Halation's ears.

A render node has no audio input. It receives the leader's feature stream (engine.output.features_out) on
PORT, rebuilds each frame's Features from it, and draws its own outputs (its own preset and stage file)
from them: an LED wall or a second pair of projectors on another machine, on the same beat. The beat grid
arrives with its beats on the wall clock; the node maps them onto its own show clock, so network delay does
not move the beat. With `--link follow` as well, Link's session (tighter across machines than their wall
clocks) gives the phase.

HOST is the leader: packets from any other address are ignored (0.0.0.0 takes any); a multicast group
(224.0.0.0/4) is joined, so one stream feeds every node. If the leader goes quiet, the node keeps the last
beat grid running (predicted, so the visuals stay on the beat) while the levels fall to silence, and says
so once; when the stream comes back, so does the music.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from engine.analysis.features import SPECTRUM_BINS, WAVEFORM_SAMPLES, BandFeatures, BeatGrid, Features
from engine.control.codec import Decoded, decode_packet, ntp_to_unix
from engine.control.guard import PacketError
from engine.errors import HalationError
from engine.output.features_out import BAND_VALUES, FRAME_VALUES, PREFIX
from engine.params.store import Param, ParamStore
from engine.sync.timebase import ClockOffset

log = logging.getLogger(__name__)

LOST = 1.0  # s without a frame from the leader: the node says so and falls to silence
FRAME = f"{PREFIX}/frame/"


@dataclass(frozen=True)
class Received:
    """One frame of the leader's stream: its Features (beat times still on the wall clock) and when."""

    features: Features
    wall: float  # the wall-clock time the leader showed this frame for (the bundle's timetag)
    show_time: float  # the leader's show time of the frame
    received: float  # monotonic time it arrived


def features_of(messages: list[Decoded]) -> Received | None:
    """The Features one frame bundle describes (None: not a frame bundle). Grid beat times stay on the
    wall clock; `FollowStage` moves them onto the node's show clock."""
    values = {m.address[len(FRAME) :]: m.args for m in messages if m.address.startswith(FRAME)}
    if "grid" not in values or "index" not in values:
        return None
    bands: dict[str, dict[str, float]] = {}
    for key, args in values.items():
        band, _, name = key.rpartition("/")
        if band and name in BAND_VALUES:
            bands.setdefault(band, {})[name] = float(args[0])
    bpm, confidence, next_beat, count, per_bar, downbeat, locked = values["grid"]
    period = 60.0 / bpm if bpm > 0 else 0.0
    grid = BeatGrid(bpm, confidence, next_beat - period, next_beat, count, per_bar, downbeat, bool(locked))
    scalars = {name: float(values[name][0]) for name in FRAME_VALUES if name in values}
    features = Features(
        time=float(values.get("audio_time", (0.0,))[0]),
        bands={band: BandFeatures(**v) for band, v in bands.items()},
        silence=bool(values.get("silence", (1,))[0]),
        onset_count=int(values.get("onset_count", (0,))[0]),
        spectrum=_floats(values.get("spectrum"), SPECTRUM_BINS),
        waveform=_floats(values.get("waveform"), WAVEFORM_SAMPLES),
        grid=grid,
        **scalars,
    )
    return Received(features, ntp_to_unix(messages[0].timetag), float(values["index"][1]), time.monotonic())


def _floats(args, size: int) -> np.ndarray:
    if not args or not isinstance(args[0], bytes | bytearray) or len(args[0]) != 4 * size:
        return np.zeros(size, np.float32)
    return np.frombuffer(args[0], ">f4").astype(np.float32)


class StreamReceiver:
    """Listens on PORT for the leader's bundles, on its own thread; `latest` is the newest frame."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.latest: Received | None = None
        self.frames = self.rejected = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._source: str | None = None
        group = _multicast(host)
        try:
            self._socket.bind(("", port))
        except OSError as exc:
            raise HalationError(
                f"--follow {host}:{port}: cannot listen on port {port} ({exc.strerror})"
            ) from None
        if group:
            mreq = struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("0.0.0.0"))
            self._socket.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        elif host not in ("0.0.0.0", "*", ""):
            try:
                self._source = socket.gethostbyname(host)
            except OSError as exc:
                raise HalationError(f"--follow {host}:{port}: {exc}; check the leader's name") from None
        self._socket.settimeout(0.5)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-follow", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                data, (source, _) = self._socket.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            if self._source is not None and source != self._source:
                continue
            try:
                frame = features_of(decode_packet(data))
            except (PacketError, ValueError, TypeError, KeyError):
                self.rejected += 1
                continue
            if frame is not None:
                self.frames += 1
                self.latest = frame

    def close(self) -> None:
        self._halt.set()
        self._socket.close()
        self._thread.join(timeout=2.0)


def _multicast(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False


class FollowStage:
    """The Features stage of a render node: the leader's, moved onto this node's show clock."""

    name = "follow"
    grid_heard = False  # the beat grid is the leader's

    def __init__(self, receiver: StreamReceiver, position: Callable[[], float | None]):
        self.receiver = receiver
        self.clock = ClockOffset(position, time.time)
        self.connected = False

    def params(self) -> list[Param]:
        return []

    def status(self) -> dict[str, str | int]:
        r = self.receiver
        return {"follow/leader": f"{r.host}:{r.port}", "follow/connected": int(self.connected)}

    def transform(self, features: Features, at: float, params: ParamStore | None = None) -> Features:
        latest = self.receiver.latest
        offset = self.clock.update()
        if latest is None or offset is None:
            return features
        lost = time.monotonic() - latest.received > LOST
        if lost == self.connected:
            self.connected = not lost
            if lost:
                log.warning(
                    "leader %s:%d went quiet: the beat runs on, the levels fall to silence", *self._who()
                )
            else:
                log.info("following %s:%d", *self._who())
        ours = latest.features
        grid = ours.grid
        if grid.bpm > 0:
            grid = replace(grid, last_beat=grid.last_beat - offset, next_beat=grid.next_beat - offset)
        local_time = latest.wall - offset - (latest.show_time - ours.time)
        if lost:
            silent = {name: BandFeatures() for name in ours.bands}
            return Features(time=local_time, bands=silent, grid=grid)
        return replace(ours, time=local_time, grid=grid)

    def _who(self) -> tuple[str, int]:
        return self.receiver.host, self.receiver.port

    def close(self) -> None:
        self.receiver.close()


class ClockFeed:
    """The audio feed of a render node: no samples, only a clock (monotonic), so the show clock runs."""

    blocksize = 0

    def __init__(self, sample_rate: int = 48000):
        self.sample_rate = sample_rate
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.monotonic()

    def read(self) -> np.ndarray:
        return np.zeros(0, np.float32)

    def position(self) -> float | None:
        return None if self._t0 is None else time.monotonic() - self._t0

    def stop(self) -> None:
        self._t0 = None
