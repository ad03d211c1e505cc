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

The phase model (why the node's beat is the leader's at every frame, `halation bench sync`):
- the leader schedules each move of its beat grid 100 ms ahead (engine.sync.schedule) and every bundle says
  so (/hl/frame/next_grid): the node switches at the same moment, not a network hop later;
- the grid carries the leader's last beat as well as its next one, so the node interpolates the same beat;
- a bundle older than the newest one heard (UDP may reorder) is ignored;
- with Link as well, the leader's wall clock is read through Link's shared beat timeline (each bundle
  carries the session's beat at the frame): a smoothed offset that ignores a moment's disagreement while
  a tempo change or phase move crosses the network, so the nodes need no NTP between them.
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
from engine.sync.timebase import ClockOffset, SteadyOffset, link_clock

log = logging.getLogger(__name__)

LOST = 1.0  # s without a frame from the leader: the node says so and falls to silence
STALE_FRAMES = 600  # a bundle this many frames or fewer behind the newest is old news
LINK_TEMPO = 0.01  # BPM: a Link reading is used only while both ends see the same session tempo
FRAME = f"{PREFIX}/frame/"


@dataclass(frozen=True)
class Received:
    """One frame of the leader's stream: its Features (beat times still on the wall clock) and when."""

    features: Features
    wall: float  # the wall-clock time the leader showed this frame for (the bundle's timetag)
    show_time: float  # the leader's show time of the frame
    received: float  # monotonic time it arrived
    index: int = 0  # the leader's frame number
    pending: tuple[BeatGrid, float] | None = None  # the grid the leader draws from a wall time on
    link: tuple[float, float] | None = None  # the Link session's beat at the frame (wall) and its tempo


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
    grid = _grid(values["grid"])
    pending = None
    if len(values.get("next_grid", ())) == 9 and values["next_grid"][0] > 0:
        pending = (_grid(values["next_grid"][:8]), float(values["next_grid"][8]))
    link = values.get("link")
    link = (float(link[0]), float(link[1])) if link and len(link) == 2 and link[1] > 0 else None
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
    index, show_time = values["index"]
    wall = ntp_to_unix(messages[0].timetag)
    return Received(features, wall, float(show_time), time.monotonic(), int(index), pending, link)


def _grid(args) -> BeatGrid:
    """A grid as the stream carries it (ffdiiii, then the last beat: a stream of an older Halation lacks
    it, and the last beat is one period back)."""
    bpm, confidence, next_beat, count, per_bar, downbeat, locked = args[:7]
    period = 60.0 / bpm if bpm > 0 else 0.0
    last_beat = args[7] if len(args) > 7 and bpm > 0 else next_beat - period
    return BeatGrid(bpm, confidence, last_beat, next_beat, count, per_bar, downbeat, bool(locked))


def _floats(args, size: int) -> np.ndarray:
    if not args or not isinstance(args[0], bytes | bytearray) or len(args[0]) != 4 * size:
        return np.zeros(size, np.float32)
    return np.frombuffer(args[0], ">f4").astype(np.float32)


class StreamReceiver:
    """Listens on PORT for the leader's bundles, on its own thread; `latest` is the newest frame."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.latest: Received | None = None
        self.frames = self.rejected = self.stale = 0
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
            if frame is None:
                continue
            latest = self.latest
            if latest is not None and 0 <= latest.index - frame.index < STALE_FRAMES:
                self.stale += 1  # reordered on the way, or a copy: the newer one stands
                continue
            self.frames += 1
            self.latest = frame  # (a much lower number: the leader restarted)

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

    def __init__(self, receiver: StreamReceiver, position: Callable[[], float | None], link=None):
        self.receiver = receiver
        self.clock = ClockOffset(position, time.time)
        self.link = link  # the node's LinkSync, when it is in the session too (the leader's clock via Link)
        self._link_clock = ClockOffset(position, link_clock)
        self._via_link = SteadyOffset()
        self._sampled = -1  # the leader frame last read through Link
        self.connected = False
        self._pending: tuple[BeatGrid, float] | None = None

    def params(self) -> list[Param]:
        return []

    def status(self) -> dict[str, str | int]:
        r = self.receiver
        return {"follow/leader": f"{r.host}:{r.port}", "follow/connected": int(self.connected)}

    def pending(self) -> tuple[BeatGrid, float] | None:
        """The leader's scheduled grid change on this node's show clock (a node that streams passes it on)."""
        return self._pending

    def transform(self, features: Features, at: float, params: ParamStore | None = None) -> Features:
        latest = self.receiver.latest
        offset = self._offset(latest)
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
        grid = _moved(ours.grid, -offset)
        self._pending = None
        if latest.pending is not None:
            upcoming, due = _moved(latest.pending[0], -offset), latest.pending[1] - offset
            if at >= due:
                grid = upcoming  # the leader draws it from this moment on too
            else:
                self._pending = (upcoming, due)
        local_time = latest.wall - offset - (latest.show_time - ours.time)
        if lost:
            silent = {name: BandFeatures() for name in ours.bands}
            return Features(time=local_time, bands=silent, grid=grid)
        return replace(ours, time=local_time, grid=grid)

    def _offset(self, latest: Received | None) -> float | None:
        """The leader's wall clock minus this node's show clock: read through Link's shared timeline when
        both are in a session with one tempo, else through this machine's wall clock (NTP)."""
        wall = self.clock.update()
        if self.link is None or latest is None or latest.link is None:
            return wall
        link_offset = self._link_clock.update()
        state = self.link.peer.state()
        beat, tempo = latest.link
        if link_offset is None or state.peers == 0 or abs(state.tempo - tempo) > LINK_TEMPO:
            return self._via_link.offset if self._via_link.offset is not None else wall
        if latest.index != self._sampled:  # one sample a leader frame
            self._sampled = latest.index
            at_beat = state.time + (beat - state.beat) * 60.0 / state.tempo  # that frame on our Link clock
            sample = latest.wall - (at_beat - link_offset)
            if wall is not None:  # Link's peers agree on the phase within a beat, not on the beat's number
                period = 60.0 / state.tempo  # (which depends on each peer's quantum): the beat nearest to
                sample += round((wall - sample) / period) * period  # what the wall clocks say (NTP: ms)
            self._via_link.add(sample)
        return self._via_link.offset

    def _who(self) -> tuple[str, int]:
        return self.receiver.host, self.receiver.port

    def close(self) -> None:
        self.receiver.close()


def _moved(grid: BeatGrid, by: float) -> BeatGrid:
    """The grid with its beat times `by` seconds later (from the leader's wall clock onto our show clock)."""
    if grid.bpm <= 0:
        return grid
    return replace(grid, last_beat=grid.last_beat + by, next_beat=grid.next_beat + by)


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
