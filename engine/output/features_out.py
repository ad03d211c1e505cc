"""The analysis, streamed: `perform --send-features HOST:PORT` sends what Halation hears as OSC bundles
with NTP timetags, so a lighting desk can put light on the beat and render nodes (`perform --follow`) can
draw from the same ears. The address space is in docs/control.md ("Feature stream").

Every frame is one bundle, timetagged with the wall-clock moment the frame is shown for (show time mapped
onto the wall clock), carrying the tempo, beat and bar phase, the band levels and hits, energy, and what a
render node needs to draw the same Features (spectrum, waveform, the beat grid). Each analysis event (onset,
beat, downbeat, drop, section) is a bundle of its own, timetagged with the moment it refers to: an onset is
known a few ms after it happened, a beat is predicted before it falls.

A sink of the frame loop (engine.output.sink) that never blocks it: present() hands the frame's immutable
Features to a sender thread, which encodes and sends; if the sender falls behind, the oldest frames are
dropped, never the show's.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import moderngl
import numpy as np

from engine.analysis.beats import Beat
from engine.analysis.features import BeatGrid, Features
from engine.control.codec import BUNDLE_HEAD, encode_bundle, unix_to_ntp
from engine.errors import HalationError
from engine.output.sink import FrameInfo
from engine.sync.timebase import ClockOffset

log = logging.getLogger(__name__)

PREFIX = "/hl"
QUEUE = 16  # frames and events waiting for the sender; older ones are dropped when it falls behind
FRAME_VALUES = ("rms", "loudness", "centroid", "flux", "energy", "onset")
BAND_VALUES = ("level", "hits", "presence", "time")


def parse_target(text: str) -> tuple[str, int]:
    """'HOST:PORT' → (host, port); a clear error for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise HalationError(f"'{text}': give HOST:PORT, e.g. 192.168.1.20:9100 or 127.0.0.1:9100")
    return host.strip("[]"), int(port)


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (4 - len(data) % 4)


@lru_cache(maxsize=512)
def _head(address: str, tags: str) -> bytes:
    return _pad(address.encode()) + _pad(("," + tags).encode())


def message(address: str, tags: str, *args: Any) -> bytes:
    """One OSC message of numbers, strings and blobs (f i d s b), encoded with struct: a frame has some 30
    messages, and the sender should cost the show next to nothing."""
    parts = [_head(address, tags)]
    for tag, arg in zip(tags, args, strict=True):
        if tag == "s":
            parts.append(_pad(str(arg).encode()))
        elif tag == "b":
            blob = bytes(arg)
            parts.append(struct.pack(">i", len(blob)) + blob + b"\0" * (-len(blob) % 4))
        else:
            parts.append(struct.pack(">" + tag, arg))
    return b"".join(parts)


_ARG_FORMATS = {"f": "f", "i": "i", "d": "d"}


@lru_cache(maxsize=8)
def _frame_layout(bands: tuple[str, ...], blobs: tuple[int, int]) -> tuple[struct.Struct, tuple]:
    """The whole frame bundle as one struct (a frame's layout only changes with the band names): one pack
    call instead of some 30 message builds, so the sender costs the show next to nothing."""
    p = f"{PREFIX}/frame"
    elements = [
        (f"{p}/index", "id"),
        (f"{p}/bpm", "f"),
        (f"{p}/confidence", "f"),
        (f"{p}/beat", "f"),
        (f"{p}/bar", "f"),
        (f"{p}/count", "ii"),
        *((f"{p}/{name}", "f") for name in FRAME_VALUES),
        (f"{p}/silence", "i"),
        (f"{p}/onset_count", "i"),
        (f"{p}/audio_time", "d"),
        *((f"{p}/{band}/{name}", "f") for band in bands for name in BAND_VALUES),
        (f"{p}/spectrum", "b"),
        (f"{p}/waveform", "b"),
        (f"{p}/grid", "ffdiiiid"),
        (f"{p}/next_grid", "ffdiiiidd"),
        (f"{p}/link", "dd"),
    ]
    layout, constants = ">8sQ", []
    blob_sizes = iter(blobs)
    for address, tags in elements:
        head = _head(address, tags)
        args = "".join(_ARG_FORMATS.get(t) or f"i{next(blob_sizes)}s" for t in tags)
        size = len(head) + struct.calcsize(">" + args)
        layout += f"i{len(head)}s{args}"
        constants.append((size, head))
    return struct.Struct(layout), tuple(constants)


def _grid_args(grid: BeatGrid, wall_offset: float) -> tuple:
    """A beat grid as the stream carries it (ffdiiiid), its beat times on the wall clock."""
    if grid.bpm <= 0:
        return (0.0, grid.confidence, 0.0, 0, grid.beats_per_bar, grid.downbeat, int(grid.locked), 0.0)
    return (
        grid.bpm,
        grid.confidence,
        grid.next_beat + wall_offset,
        grid.count,
        grid.beats_per_bar,
        grid.downbeat,
        int(grid.locked),
        grid.last_beat + wall_offset,
    )


def frame_bundle(
    features: Features,
    time_: float,
    index: int,
    wall_offset: float,
    pending: tuple[BeatGrid, float] | None = None,
    link: tuple[float, float] | None = None,
) -> bytes:
    """The bundle of one frame shown at show time `time_` (wall time `time_ + wall_offset`). `pending`: the
    grid the show will draw with from show time `due` on (engine.sync.schedule), so that a render node
    switches at the same moment instead of a network hop later. `link`: the Link session's beat at the frame
    and its tempo, so a node in the same session maps the grid through Link's clock (engine.sync.follow)."""
    grid = features.grid
    count, phase = grid.beat_position(time_)
    n = grid.beats_per_bar
    in_bar = (count - grid.downbeat) % n
    spectrum = np.asarray(features.spectrum, ">f4").tobytes()
    waveform = np.asarray(features.waveform, ">f4").tobytes()
    layout, heads = _frame_layout(tuple(features.bands), (len(spectrum), len(waveform)))
    beating = grid.bpm > 0
    values = [
        (index, time_),
        (grid.bpm,),
        (grid.confidence,),
        (phase if beating else 0.0,),
        ((in_bar + phase) / n if beating else 0.0,),
        (count if beating else 0, (count - grid.downbeat) // n if beating else 0),
        *((float(getattr(features, name)),) for name in FRAME_VALUES),
        (int(features.silence),),
        (features.onset_count,),
        (features.time,),
        *((getattr(b, name),) for b in features.bands.values() for name in BAND_VALUES),
        (len(spectrum), spectrum),
        (len(waveform), waveform),
        _grid_args(grid, wall_offset),
        (*_grid_args(pending[0], wall_offset), pending[1] + wall_offset) if pending else NO_PENDING,
        link or (0.0, 0.0),
    ]
    flat: list[Any] = [BUNDLE_HEAD, unix_to_ntp(time_ + wall_offset)]
    for (size, head), args in zip(heads, values, strict=True):
        flat += (size, head, *args)
    return layout.pack(*flat)


NO_PENDING = (0.0, 0.0, 0.0, 0, 4, 0, 0, 0.0, 0.0)  # next_grid when no change is scheduled

EVENT_NODES = (  # (kind, OSC types, what it carries): the time it refers to (show time, s) comes first
    ("onset", "dfs", "an onset: time, strength, the band that heard it"),
    ("beat", "di", "a beat: time, its count"),
    ("downbeat", "di", "a beat that starts a bar: time, the bar's count"),
    ("buildup", "d", "a build-up starts: time, then its numbers"),
    ("drop", "d", "a drop: time, then its numbers"),
    ("breakdown", "d", "a breakdown starts: time, then its numbers"),
    ("phrase", "d", "a phrase boundary: time, then its numbers"),
    ("section", "d", "a section change: time, then its numbers"),
)


def stream_nodes(bands: Sequence[str]) -> list[tuple[str, str, str]]:
    """(address, OSC types, description) of everything the stream sends, for OSCQuery to list."""
    layout = [
        (f"{PREFIX}/frame/index", "id", "frame number and its show time (s)"),
        (f"{PREFIX}/frame/bpm", "f", "tempo (BPM)"),
        (f"{PREFIX}/frame/confidence", "f", "tempo confidence 0..1"),
        (f"{PREFIX}/frame/beat", "f", "beat phase 0..1"),
        (f"{PREFIX}/frame/bar", "f", "bar phase 0..1"),
        (f"{PREFIX}/frame/count", "ii", "beat and bar counts"),
        *((f"{PREFIX}/frame/{name}", "f", name) for name in FRAME_VALUES),
        (f"{PREFIX}/frame/silence", "i", "1 while the input is silent"),
        (f"{PREFIX}/frame/onset_count", "i", "onsets heard so far"),
        (f"{PREFIX}/frame/audio_time", "d", "audio time of the analysis (s)"),
        *((f"{PREFIX}/frame/{band}/{name}", "f", f"{band} {name}") for band in bands for name in BAND_VALUES),
        (f"{PREFIX}/frame/spectrum", "b", "spectrum (float32 blob)"),
        (f"{PREFIX}/frame/waveform", "b", "waveform (float32 blob)"),
        (f"{PREFIX}/frame/grid", "ffdiiiid", "the beat grid a render node draws from"),
        (f"{PREFIX}/frame/next_grid", "ffdiiiidd", "the beat grid drawn from a moment on (its last value)"),
        (f"{PREFIX}/frame/link", "dd", "the Link session's beat at this frame and its tempo (0: no Link)"),
    ]
    return layout + [(f"{PREFIX}/event/{kind}", tags, text) for kind, tags, text in EVENT_NODES]


def event_messages(event: Any, grid: BeatGrid) -> list[bytes]:
    """An analysis event as its messages: /hl/event/<kind> with the show time it refers to first, then its
    numbers and names; a beat that starts a bar is also a downbeat."""
    kind = str(getattr(event, "kind", "") or type(event).__name__.lower())  # a structure event: drop, phrase…
    p = f"{PREFIX}/event"
    if kind == "onset":
        return [message(f"{p}/onset", "dfs", event.time, event.strength, event.band or "all")]
    if kind == "beat":
        out = [message(f"{p}/beat", "di", event.time, event.count)]
        n = grid.beats_per_bar
        if grid.bpm > 0 and (event.count - grid.downbeat) % n == 0:
            out.append(message(f"{p}/downbeat", "di", event.time, (event.count - grid.downbeat) // n))
        return out
    tags, args = "d", [float(event.time)]
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name in ("time", "kind") or isinstance(value, bool):
            continue
        if isinstance(value, int):
            tags, args = tags + "i", [*args, value]
        elif isinstance(value, float):
            tags, args = tags + "f", [*args, value]
        elif isinstance(value, str):
            tags, args = tags + "s", [*args, value]
    return [message(f"{p}/{kind}", tags, *args)]


@dataclass(frozen=True)
class _Frame:
    features: Features
    time: float
    index: int
    wall_offset: float
    heard: bool  # the frame's beat grid is the analysis's own (not Link's, not a leader's)
    pending: tuple[BeatGrid, float] | None  # the grid drawn from show time `due` on, when one is scheduled
    link: tuple[float, float] | None  # the Link session's beat at the frame and its tempo


class FeatureStream:
    """The sink that streams the analysis to each HOST:PORT (see the module doc)."""

    name = "features"

    def __init__(
        self,
        targets: Sequence[tuple[str, int]],
        position: Callable[[], float | None],
        wall: Callable[[], float] = time.time,
    ):
        self.targets = [self._resolve(host, port) for host, port in targets]
        self.clock = ClockOffset(position, wall)
        self.sent = self.dropped = self.errors = self.frames = 0
        self.cpu = 0.0  # seconds of CPU the sender thread used (halation bench sync reports it)
        self._queue: deque[_Frame | Any] = deque(maxlen=QUEUE)
        self._grid = BeatGrid()
        self._heard = True
        self._announced: int | None = None  # the last beat announced from a grid that is not the heard one
        # Whether the frame's beat grid is the one the analysis hears: when a sync stage replaced it (Link
        # follow, a render node), beats and downbeats are announced from the frames' grid instead, so a
        # desk's beat events are the beats the frames show (engine.sync.options wires it to the stages)
        self.grid_heard: Callable[[], bool] = lambda: True
        # The grid change the show has scheduled (engine.sync.schedule, or a render node's leader's): sent
        # with each frame so render nodes switch at the same moment (wired by engine.sync.options)
        self.pending: Callable[[], tuple[BeatGrid, float] | None] = lambda: None
        self.link_beat: Callable[[float], tuple[float, float] | None] = lambda at: None  # (beat, tempo)
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)  # a booth, not the internet
        self._thread = threading.Thread(target=self._run, name="halation-features-out", daemon=True)
        self._thread.start()

    @staticmethod
    def _resolve(host: str, port: int) -> tuple[str, int]:
        try:
            info = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise HalationError(
                f"--send-features {host}:{port}: {exc.strerror}; check the host name"
            ) from None
        return info[0][4][:2]

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        """Hand the frame's Features (immutable) to the sender: a reference and a clock read, no more."""
        offset = self.clock.update()
        if offset is None:
            return
        self.frames += 1
        heard, pending, link = self.grid_heard(), self.pending(), self.link_beat(info.time)
        self._push(_Frame(info.features, info.time, info.index, offset, heard, pending, link))

    def on_event(self, event: Any) -> None:
        """AnalysisThread subscriber: queue the event (cheap, never raises)."""
        self._push(event)

    def _push(self, item: Any) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(item)
        self._wake.set()

    def _run(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            started = time.thread_time()
            while self._queue:
                item = self._queue.popleft()
                self._send_all(self._packets(item))
            self.cpu += time.thread_time() - started

    def _packets(self, item: Any) -> Iterable[bytes]:
        if isinstance(item, _Frame):
            self._grid, self._heard = item.features.grid, item.heard
            frame = frame_bundle(
                item.features, item.time, item.index, item.wall_offset, item.pending, item.link
            )
            return [frame] if item.heard else [frame, *self._announce(item.features.grid, item.wall_offset)]
        offset = self.clock.offset
        if offset is None or not hasattr(item, "time") or (isinstance(item, Beat) and not self._heard):
            return []
        return [encode_bundle(event_messages(item, self._grid), unix_to_ntp(item.time + offset))]

    def _announce(self, grid: BeatGrid, wall_offset: float) -> list[bytes]:
        """The next beat of a grid that is not the heard one, once, as soon as a frame shows it coming (a
        beat ahead at most, as the analysis announces its predicted beats)."""
        if grid.bpm <= 0:
            return []
        upcoming = grid.count
        if self._announced is not None and self._announced - 1 <= upcoming <= self._announced:
            return []  # announced already (or the grid stepped back by less than a beat)
        self._announced = upcoming
        beat = Beat(grid.next_beat, grid.next_beat - grid.period, upcoming)
        return [encode_bundle(event_messages(beat, grid), unix_to_ntp(grid.next_beat + wall_offset))]

    def _send_all(self, packets: Iterable[bytes]) -> None:
        for packet in packets:
            for target in self.targets:
                try:
                    self._socket.sendto(packet, target)
                    self.sent += 1
                except OSError as exc:  # nobody listening yet, a network down: the show goes on
                    if not self.errors:
                        log.warning("feature stream to %s:%d: %s (keeps trying)", *target, exc)
                    self.errors += 1

    def release(self) -> None:
        self._halt.set()
        self._wake.set()
        self._thread.join(timeout=2.0)
        self._socket.close()
        per_frame = 1000 * self.cpu / self.frames if self.frames else 0.0
        log.info(
            "feature stream: %d frames, %d packets sent, %d dropped, sender CPU %.3f ms a frame",
            self.frames,
            self.sent,
            self.dropped,
            per_frame,
        )
