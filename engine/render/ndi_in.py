"""NDI in: a network video source (a camera, OBS, another machine's program) played on a clip deck.

A preset names it where it would name a clip file, with the prefix `ndi:` and the source's NDI name, or
any part of it ("MACHINE (Source)" is how NDI names them):

    [clips]
    a = "ndi:BOOTH-PC (OBS)"          # deck A plays the NDI source; deck B may be a clip file
    b = "clips/ember.mp4"

It then mixes, crossfades and feeds shaders exactly like a clip (the "clips" image source).

A receiver thread finds the source, connects, and keeps only the newest frame (RGBA, top row first); the
render thread takes it with one reference read and uploads it when it is new, so a slow or stalled network
never holds a frame of the show. When the source goes away the deck keeps its last frame, and the operator
is told once on the banner; the thread keeps looking and the picture comes back when the source does.
Offline renders (`halation render`) wait up to their clip wait for the first frame, so the feed is there
from frame one. NDI is the optional extra `halation[ndi]` (cyndilib; see engine.output.ndi for the
runtime's licence and for discovery on networks without mDNS).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from engine.clips.deck import Frame
from engine.clips.faults import ClipFaults
from engine.clips.playhead import Playback

log = logging.getLogger(__name__)

PREFIX = "ndi:"
LOST = 1.0  # s without a frame: the source has gone away (the deck keeps its last frame)
LOOK_EVERY = 1.0  # s between looks for a source not found, or gone
RECEIVE_MS = 100  # a receive waits at most this long, so the thread hears a close promptly


def ndi_source(path: Path | str) -> str | None:
    """The NDI source a preset's clip names ("ndi:BOOTH-PC (OBS)"), or None when it names a file."""
    name = Path(path).name
    return name[len(PREFIX) :].strip() if name.startswith(PREFIX) else None


def pick_source(wanted: str, names: list[str]) -> str | None:
    """The NDI name meant: the same name, else the first that contains it (case-insensitive)."""
    lowered = wanted.lower()
    exact = [n for n in names if n.lower() == lowered]
    return (exact or [n for n in names if lowered in n.lower()] or [None])[0]


class NdiReceiver:
    """Receives one NDI source on its own thread; `latest` is the newest frame (or the last one, when the
    source has gone away). Frames are numbered, so the render thread uploads each one once."""

    def __init__(self, wanted: str, faults: ClipFaults, label: Path):
        from cyndilib.finder import Finder  # ImportError: the caller says how to install it

        self.wanted = wanted
        self.faults = faults
        self.label = label  # how the operator's messages name it (the preset's clip entry)
        self.latest: Frame | None = None
        self.connected = False
        self.source_name: str | None = None
        self._gone = 0  # times the source went away (each one is said)
        self._finder = Finder()
        self._finder.open()
        self._halt = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"halation-ndi-in {wanted}", daemon=True)
        self._thread.start()

    def wait_first(self, timeout: float) -> bool:
        return self._first.wait(timeout)

    def _run(self) -> None:
        while not self._halt.is_set():
            receiver = self._connect()
            if receiver is None:
                self._halt.wait(LOOK_EVERY)
                continue
            try:
                self._receive(receiver)
            finally:
                receiver.disconnect()

    def _connect(self):
        from cyndilib.receiver import Receiver
        from cyndilib.video_frame import VideoRecvFrame
        from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

        self._finder.wait_for_sources(0.2)
        name = pick_source(self.wanted, self._finder.get_source_names())
        if name is None:
            if self.latest is None and not self._gone:
                self.faults.report(self.label, "NDI source not found yet; looking for it", kind="ndi missing")
            return None
        receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
        self._frame = VideoRecvFrame()
        receiver.set_video_frame(self._frame)
        receiver.set_source(self._finder.get_source(name))
        self.source_name = name
        return receiver

    def _receive(self, receiver) -> None:
        """Take frames until the source goes quiet for LOST seconds (or the deck closes)."""
        from cyndilib.receiver import ReceiveFrameType

        heard = time.monotonic()
        while not self._halt.is_set():
            got = receiver.receive(ReceiveFrameType.recv_video, RECEIVE_MS)
            if got & ReceiveFrameType.recv_video:
                self._take(self._frame)
                heard = time.monotonic()
            elif time.monotonic() - heard > LOST:
                if self.connected:
                    self._went_away()
                return

    def _take(self, video) -> None:
        w, h = video.xres, video.yres
        data = np.empty(video.get_data_size(), np.uint8)
        video.fill_p_data(data)
        pixels = data.reshape(h, -1)[:, : w * 4].reshape(h, w, 4)  # rows may be padded to a stride
        index = self.latest.index + 1 if self.latest is not None else 0
        self.latest = Frame("rgba", (w, h), pixels, index)  # one reference: the render thread's read is safe
        if not self.connected:
            self.connected = True
            log.info("NDI in: '%s' (%dx%d)", self.source_name, w, h)
        self._first.set()

    def _went_away(self) -> None:
        self.connected = False
        self._gone += 1
        self.faults.report(
            self.label,
            f"NDI source '{self.source_name}' went away: showing its last frame until it returns",
            kind=f"ndi gone {self._gone}",
        )

    def close(self) -> None:
        self._halt.set()
        self._thread.join(timeout=2.0)
        self._finder.close()


class NdiDeck:
    """A clip deck that plays an NDI source (engine.clips.deck.Deck's interface, as the clip stage uses it).
    Live, it never waits; offline (`wait` > 0) it waits that long for the source's first frame."""

    def __init__(self, name: str, wait: float = 0.0, faults: ClipFaults | None = None):
        self.name = name
        self.wait = wait
        self.faults = faults or ClipFaults()
        self.clip: Path | None = None
        self.playback = Playback()
        self.misses = 0
        self.broken = False
        self._receiver: NdiReceiver | None = None
        self._waited = False

    @property
    def loaded(self) -> bool:
        return self._receiver is not None

    def load(self, path: Path, playback: Playback | None = None) -> bool:
        """Start receiving the source `path` names; False (said once) when NDI is not installed."""
        wanted = ndi_source(path)
        try:
            receiver = NdiReceiver(wanted or "", self.faults, path)
        except ImportError:
            self.faults.report(path, "NDI in needs NDI: pip install 'halation[ndi]' (cyndilib)", kind="ndi")
            return False
        except Exception as exc:  # the NDI runtime would not start: the deck is skipped, the show goes on
            self.faults.report(path, f"NDI did not start ({type(exc).__name__}: {exc}); skipped", kind="ndi")
            return False
        self.unload()
        self.clip, self._receiver, self._waited = path, receiver, False
        self.playback = playback or Playback()
        return True

    def start(self, time: float, beat: float) -> None:
        """A live feed has no frame 0: it plays what the source sends now."""

    def frame(self, time: float, beat: float | None) -> Frame | None:
        receiver = self._receiver
        if receiver is None:
            return None
        if receiver.latest is None and self.wait > 0 and not self._waited:
            self._waited = True  # once: a source that never comes must not slow every frame
            receiver.wait_first(self.wait)
        return receiver.latest

    def wait_ready(self, timeout: float = 2.0) -> bool:
        return self._receiver is not None and self._receiver.wait_first(timeout)

    def unload(self) -> None:
        if self._receiver is not None:
            self._receiver.close()
        self._receiver = None
        self.clip = None
