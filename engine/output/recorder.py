"""Recording the show: `perform --record take.mp4`, also started and stopped over OSC
(/hl/master/record_start, /hl/master/record_stop). The program (the render, before the stage warp) with the
input audio, as H.264 + AAC.

The frame loop never waits for the recorder: the frame is copied into a pixel buffer on the GPU (read back
one frame later, when it is done) and handed to an encoder thread through a short queue. When the encoder
falls behind, the recording drops frames, never the output, and counts them. An error while writing (a full
disk) stops the recording with one error line; the show goes on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import moderngl
import numpy as np

from engine.output.sink import FrameInfo
from engine.runtime.priority import lower_thread_priority

log = logging.getLogger(__name__)

BACKLOG = 6  # frames waiting for the encoder before new ones are dropped
AUDIO_CHUNK = 1024
START, STOP = "master.record_start", "master.record_stop"


@dataclass
class RecordingStats:
    path: Path | None = None
    frames: int = 0  # encoded
    dropped: int = 0  # not recorded because the encoder was behind
    error: str | None = None


ENCODER_NICE = 10  # the encoder (and the x264 threads it starts) gives way to the render and the audio


class _Encoder(threading.Thread):
    """Owns the container: encodes video frames and audio blocks in the order they are queued."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: float, sample_rate: int, stats: RecordingStats
    ):
        super().__init__(name="halation-recorder", daemon=True)
        self.size = size
        self.stats = stats
        self.video: queue.Queue = queue.Queue(maxsize=BACKLOG)
        self.audio: queue.SimpleQueue = queue.SimpleQueue()
        # frame buffers, reused: a fresh 3.6 MB array per 720p frame costs the loop its page faults
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(BACKLOG + 1):
            self.free.put(np.empty(size[0] * size[1] * 4, np.uint8))
        # ...and the frame handed to the encoder (it reformats to yuv420p into a frame of its own)
        self.frame = av.VideoFrame(size[0], size[1], "rgba")
        plane = self.frame.planes[0]
        shape, strides = (size[1], size[0], 4), (plane.line_size, 4, 1)  # rows may be padded
        self.pixels = np.ndarray(shape, np.uint8, buffer=plane, strides=strides)
        self.done = threading.Event()
        self.failed = threading.Event()
        self.fps = Fraction(fps).limit_denominator(1001)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(path), "w")
        self.vstream = self.container.add_stream("libx264", rate=self.fps)
        self.vstream.width, self.vstream.height = size
        self.vstream.pix_fmt = "yuv420p"
        self.vstream.options = {"crf": "20", "preset": "ultrafast", "tune": "zerolatency"}
        self.astream = self.container.add_stream("aac", rate=sample_rate)
        self.astream.layout = "stereo"
        self.sample_rate = sample_rate
        self._pending = np.zeros(0, np.float32)
        self._audio_pts = 0

    def run(self) -> None:
        lower_thread_priority(ENCODER_NICE)  # behind the show: a busy machine drops recording frames
        try:
            while not (self.done.is_set() and self.video.empty()):
                try:
                    item = self.video.get(timeout=0.05)
                except queue.Empty:
                    item = None
                if item is not None:
                    self._encode_video(*item)
                self._encode_audio()
            self._flush()
        except Exception as exc:  # a full disk, a failing encoder: the recording stops, the show does not
            self.stats.error = f"{type(exc).__name__}: {exc}"
            self.failed.set()
            log.error(
                "recording stopped: cannot write %s (%s); %d frames kept, the show goes on",
                self.stats.path,
                getattr(exc, "strerror", None) or exc,
                self.stats.frames,
            )
            self._abandon()

    def _encode_video(self, data: np.ndarray, pts: int) -> None:
        w, h = self.size
        np.copyto(self.pixels, data.reshape(h, w, 4)[::-1])  # GL rows are bottom first
        self.free.put(data)
        frame = self.frame
        frame.pts = pts
        frame.time_base = 1 / self.fps
        self.container.mux(self.vstream.encode(frame))
        self.stats.frames += 1

    def _encode_audio(self) -> None:
        blocks = [self._pending]
        while True:
            try:
                blocks.append(self.audio.get_nowait())
            except queue.Empty:
                break
        samples = np.concatenate(blocks) if len(blocks) > 1 else self._pending
        n = len(samples) // AUDIO_CHUNK * AUDIO_CHUNK
        for start in range(0, n, AUDIO_CHUNK):
            mono = samples[start : start + AUDIO_CHUNK]
            frame = av.AudioFrame.from_ndarray(np.stack([mono, mono]), format="fltp", layout="stereo")
            frame.sample_rate = self.sample_rate
            frame.pts = self._audio_pts
            self._audio_pts += AUDIO_CHUNK
            self.container.mux(self.astream.encode(frame))
        self._pending = samples[n:]

    def _flush(self) -> None:
        self.container.mux(self.vstream.encode(None))
        self.container.mux(self.astream.encode(None))
        self.container.close()

    def _abandon(self) -> None:
        with contextlib.suppress(Exception):  # the file is lost already: the one line above said so
            self.container.close()

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30.0)


class Recorder:
    """A sink that records the program. `path` None: idle until started over OSC (a take named by the
    time it started)."""

    name = "recorder"

    def __init__(self, path: Path | None, size: tuple[int, int], fps: float, sample_rate: int):
        self.base = Path(path) if path is not None else None
        self.size = tuple(size)
        self.fps = fps
        self.sample_rate = sample_rate
        self.stats = RecordingStats()
        self.takes: list[RecordingStats] = []
        self._encoder: _Encoder | None = None
        self._pbos: list[moderngl.Buffer] = []
        self._pending: tuple[int, int] | None = None  # (pixel buffer, pts) read back at the next frame
        self._slot = 0
        self._t0 = 0.0
        self._last_pts = -1
        self._start_asked = path is not None

    @property
    def recording(self) -> bool:
        return self._encoder is not None and not self._encoder.failed.is_set()

    def tap(self, feed):
        """The feed, with every block it reads also going to the recording (the input audio)."""
        return _TappedFeed(feed, self)

    def hear(self, samples: np.ndarray) -> None:
        encoder = self._encoder
        if encoder is not None and len(samples) and not encoder.failed.is_set():
            encoder.audio.put(np.asarray(samples, np.float32).copy())

    def _next_path(self) -> Path:
        if self.base is None:
            return Path(time.strftime("take-%Y%m%d-%H%M%S.mp4"))
        if not self.takes:
            return self.base
        return self.base.with_name(f"{self.base.stem}-{len(self.takes) + 1}{self.base.suffix}")

    def start(self, now: float) -> None:
        if self._encoder is not None:
            return
        path = self._next_path()
        self.stats = RecordingStats(path)
        try:
            self._encoder = _Encoder(path, self.size, self.fps, self.sample_rate, self.stats)
        except (OSError, av.error.FFmpegError) as exc:
            log.error(
                "cannot record to %s (%s); the show goes on", path, getattr(exc, "strerror", None) or exc
            )
            self.stats.error = str(exc)
            return
        self._encoder.start()
        self.takes.append(self.stats)
        self._t0, self._last_pts, self._pending = now, -1, None
        log.info("recording to %s", path)

    def stop(self) -> None:
        encoder, self._encoder = self._encoder, None
        if encoder is None:
            return
        encoder.stop()
        s = self.stats
        if s.error is None:
            log.info(
                "recorded %d frames to %s (%d dropped while the encoder was behind)",
                s.frames,
                s.path,
                s.dropped,
            )

    def present(self, frame: moderngl.Texture, info: FrameInfo) -> None:
        if info.values.get(START) or self._start_asked:
            self._start_asked = False
            self.start(info.time)
        if info.values.get(STOP):
            self.stop()
        if self._encoder is None:
            return
        if self._encoder.failed.is_set():  # the disk filled: one line was said; stop quietly
            self._encoder = None
            self._pending = None
            return
        self._hand_over_pending()
        if not self._pbos:
            self._pbos = [frame.ctx.buffer(reserve=self.size[0] * self.size[1] * 4) for _ in range(2)]
        if self._encoder.video.full():  # behind: this frame is not read back at all
            self.stats.dropped += 1
            return
        pts = max(self._last_pts + 1, round((info.time - self._t0) * self.fps))
        self._last_pts = pts
        frame.read_into(self._pbos[self._slot], alignment=1)
        self._pending = (self._slot, pts)
        self._slot = 1 - self._slot

    def _hand_over_pending(self) -> None:
        """Last frame's pixels (done on the GPU by now) to the encoder, or dropped when it is behind."""
        if self._pending is None:
            return
        slot, pts = self._pending
        self._pending = None
        try:
            data = self._encoder.free.get_nowait()
        except queue.Empty:  # every buffer is waiting for the encoder: it is behind
            self.stats.dropped += 1
            return
        self._pbos[slot].read_into(data)
        try:
            self._encoder.video.put_nowait((data, pts))
        except queue.Full:
            self._encoder.free.put(data)
            self.stats.dropped += 1

    def release(self) -> None:
        if self._encoder is not None and self._pending is not None:
            self._hand_over_pending()
        self.stop()
        for pbo in self._pbos:
            pbo.release()
        self._pbos = []


class _TappedFeed:
    """An audio feed whose reads are also heard by the recorder (same samples, no second capture)."""

    def __init__(self, feed, recorder: Recorder):
        self._feed = feed
        self._recorder = recorder

    def __getattr__(self, name):
        return getattr(self._feed, name)

    def read(self) -> np.ndarray:
        samples = self._feed.read()
        self._recorder.hear(samples)
        return samples
