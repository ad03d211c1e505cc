"""NDI out: the program as a network video source (`perform --ndi NAME`), for media servers, LED processors
and OBS on the streaming PC. One more sink of the frame loop, never blocking it.

Each frame is read back from the GPU into one of two pixel buffers (the read of frame N completes while
frame N+1 is drawn) and handed to a sender thread, which flips it top-down and gives it to NDI (asynchronous
send: NDI compresses on its own threads). A sender that falls behind drops frames, never the show's; a
network that is down costs nothing but the read-back.

NDI is the optional extra `halation[ndi]` (PyPI cyndilib, which bundles the NDI runtime). The runtime is
proprietary, Copyright Vizrt NDI AB, and used under the NDI SDK licence (http://ndi.link/ndisdk_license):
free to use and redistribute inside an application, with the NDI trademark and licence notices kept.
Discovery is mDNS; on a network without it (or this project's test machines), list the receivers' or
senders' addresses as "extra IPs" in ndi-config.v1.json (NDI_CONFIG_DIR).
"""

from __future__ import annotations

import logging
import threading
from fractions import Fraction

import moderngl
import numpy as np

from engine.errors import HalationError
from engine.output.sink import FrameInfo
from engine.runtime.pool import BufferPool

log = logging.getLogger(__name__)


def _ndi():
    try:
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC
    except ImportError:
        raise HalationError("--ndi needs NDI: pip install 'halation[ndi]' (cyndilib, NDI runtime)") from None
    return Sender, VideoSendFrame, FourCC


class NdiSink:
    """The program as the NDI source `source_name`, at the render size (known from the first frame) and
    `fps`."""

    name = "ndi"

    def __init__(self, source_name: str, size: tuple[int, int], fps: float = 60.0):
        Sender, VideoSendFrame, FourCC = _ndi()
        self.source_name = source_name
        self.size = size
        self.sent = self.dropped = 0
        w, h = size
        self._buffers: list[moderngl.Buffer] = []  # made in the loop's context, with the first frame
        self._filled = [False, False]
        self._reads = BufferPool()  # frames read back, reused once sent (no fresh pages a frame)
        self._flipped = [np.empty((h, w, 4), np.uint8) for _ in range(2)]  # NDI holds the last one sent
        self._turn = 0
        frame = VideoSendFrame()
        frame.set_resolution(w, h)
        frame.set_frame_rate(Fraction(round(fps * 1000), 1000))
        frame.set_fourcc(FourCC.RGBA)
        self._sender = Sender(source_name)
        self._sender.set_video_frame(frame)
        try:
            self._sender.open()
        except Exception as exc:
            raise HalationError(f"--ndi {source_name}: NDI did not start ({exc})") from None
        self._pending: bytes | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-ndi", daemon=True)
        self._thread.start()
        log.info("NDI source '%s' (%dx%d at %g fps)", source_name, w, h, fps)

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        """Start reading this frame into one buffer; hand the other (last frame's, read by now) on."""
        if not self._buffers:
            if tuple(frame.size) != self.size:
                raise HalationError(f"NDI: frames are {frame.size}, the source was opened at {self.size}")
            self._buffers = [frame.ctx.buffer(reserve=self.size[0] * self.size[1] * 4) for _ in range(2)]
        this, other = self._turn, 1 - self._turn
        frame.read_into(self._buffers[this], alignment=1)
        self._filled[this] = True
        if self._filled[other]:
            data = self._reads.take(self.size[0] * self.size[1] * 4)
            self._buffers[other].read_into(data)
            with self._lock:
                if self._pending is not None:
                    self.dropped += 1
                self._pending = data
            self._wake.set()
        self._turn = other

    def _run(self) -> None:
        w, h = self.size
        turn = 0
        while not self._halt.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            with self._lock:
                data, self._pending = self._pending, None
            if data is None:
                continue
            out, turn = self._flipped[turn], 1 - turn
            np.copyto(out, np.frombuffer(data, np.uint8).reshape(h, w, 4)[::-1])  # GL rows run bottom-up
            try:
                self._sender.write_video_async(out.ravel())
                self.sent += 1
            except Exception as exc:  # NDI went away: the show goes on
                log.warning("NDI send: %s", exc)

    def release(self) -> None:
        self._halt.set()
        self._wake.set()
        self._thread.join(timeout=2.0)
        self._sender.close()
        for buffer in self._buffers:
            buffer.release()
