"""Live capture from a sound card through PortAudio: the `AudioFeed` a show listens to at the venue.

The sound card is opened in a small child process (`python -m engine.audio.capture`) whose PortAudio
callback only copies each block, with its stream timestamp, into a preallocated ring in shared memory
(engine/audio/ring.py); the analysis thread of the show reads that ring. Why a child: when a device
vanishes PortAudio can wedge (stopping a JACK stream whose server died blocks forever, re-initialising
asserts and aborts the process). In a child that costs nothing: it is killed and a fresh one re-opens the
device by name as soon as it is back, while the visuals keep running on the free-running clock
(`position()` is None meanwhile). The time the device was away is handed to the analysis as silence, so
audio time keeps pace with the show clock and the beat grid stays valid.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio import ring as R
from engine.audio.ring import SampleRing
from engine.errors import HalationError
from engine.runtime.priority import raise_thread_priority

log = logging.getLogger(__name__)

MIN_BLOCK = 64
STALL_SECONDS = 1.5  # no block for this long: the device is gone (a starved machine can miss 0.5 s)
MAX_GAP_READ = 1.0  # seconds of silence handed out per read, so the analysis catches up in steps
RUNNING, LOST = 1.0, 2.0  # ring header STATE values written by the child


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str  # "device name (host API)"
    channels: int
    default_rate: float


def input_devices() -> list[InputDevice]:
    """Every PortAudio device with inputs, named "device (host API)"."""
    import sounddevice as sd

    apis = sd.query_hostapis()
    return [
        InputDevice(
            i, f"{d['name']} ({apis[d['hostapi']]['name']})", d["max_input_channels"], d["default_samplerate"]
        )
        for i, d in enumerate(sd.query_devices())
        if d["max_input_channels"] > 0
    ]


def find_input_device(spec: int | str | None) -> InputDevice:
    """The input given by index, by a case-insensitive part of its name or host API name (e.g. "JACK",
    "Scarlett"), or the default input; raises HalationError listing the inputs when none matches."""
    import sounddevice as sd

    devices = input_devices()
    if spec is None or spec == "":
        default = sd.default.device[0]
        if default is None or default < 0:
            default = devices[0].index if devices else -1
        spec = int(default)
    if isinstance(spec, str) and spec.strip().isdigit():
        spec = int(spec)
    if isinstance(spec, int):
        found = [d for d in devices if d.index == spec]
    else:
        found = [d for d in devices if spec.lower() in d.name.lower()]
    if not found:
        names = "; ".join(f"{d.index}: {d.name}" for d in devices) or "none"
        raise HalationError(f"no audio input matches {spec!r} (inputs: {names}); see `halation devices`")
    return found[0]


def parse_channels(text: str | None) -> tuple[int, ...] | None:
    """'1,2' → (0, 1): 1-based channel numbers as printed on the interface; None or '' = mix all."""
    if not text:
        return None
    try:
        chans = tuple(int(c) - 1 for c in text.split(","))
    except ValueError:
        raise HalationError(f"channels '{text}' must be numbers like 1 or 1,2") from None
    if any(c < 0 for c in chans):
        raise HalationError(f"channels '{text}': channel numbers start at 1")
    return chans


@dataclass(frozen=True)
class CaptureStatus:
    connected: bool
    device: str
    overflows: int  # blocks the driver reported overflowed, plus times the analysis fell behind the ring
    reconnects: int
    latency: float  # seconds the driver reports for the input


class _Child:
    """One capture process and its ring."""

    def __init__(self, proc: subprocess.Popen, ring: SampleRing, device: str, latency: float):
        self.proc = proc
        self.ring = ring
        self.device = device
        self.latency = latency

    def alive(self) -> bool:
        return self.proc.poll() is None and self.ring.header[R.STATE] == RUNNING

    def stop(self) -> None:
        self.ring.header[R.STOP] = 1.0
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=2.0)

    def remove(self) -> None:
        if self.ring.path is not None:
            self.ring.path.unlink(missing_ok=True)


class LiveCapture:
    """A sound-card input as an `AudioFeed`: mono float32 at `sample_rate`, blocks of 64 samples up."""

    def __init__(
        self,
        device: int | str | None = None,
        channels: Sequence[int] | None = None,
        sample_rate: int = 48000,
        blocksize: int = 256,
        ring_seconds: float = 4.0,
        retry_every: float = 0.5,
    ):
        if blocksize < MIN_BLOCK:
            raise HalationError(f"audio block size {blocksize} is below the minimum of {MIN_BLOCK} samples")
        self.device = device
        self.channels = tuple(channels) if channels is not None else None
        self.sample_rate = int(sample_rate)
        self.blocksize = int(blocksize)
        self.ring_seconds = ring_seconds
        self.retry_every = retry_every
        self.reconnects = 0
        self._child: _Child | None = None
        self._draining: _Child | None = None  # a lost child's ring, until read out
        self._connected = False
        self._lost_at: float | None = None
        # silence owed to the reader for the time the device was away; one writer per counter
        self._gap_owed = 0
        self._gap_paid = 0
        self._timeline = 0  # frames handed out by read()
        self._overflows_before = 0  # overflows counted by children that are gone
        self._halt = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._dir: Path | None = None  # where the rings live while capturing

    # --- AudioFeed ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the device now (HalationError naming the inputs if it cannot), then keep it open."""
        self._dir = Path(tempfile.mkdtemp(prefix="halation-capture-", dir=_shm_dir()))
        try:
            self._child = self._spawn()
        except BaseException:
            self._dir.rmdir()
            self._dir = None
            raise
        self._connected = True
        self._halt.clear()
        self._supervisor = threading.Thread(target=self._supervise, name="halation-capture", daemon=True)
        self._supervisor.start()

    def read(self) -> np.ndarray:
        """Mono samples since the last read. After a loss: what the lost stream still held, then silence
        as long as the device was away, then the new stream."""
        old = self._draining
        if old is not None:
            self._draining = None
            frames = old.ring.read()
            old.remove()
            if len(frames):
                return self._mono(frames)
        gap = self._gap_owed - self._gap_paid
        if gap > 0:
            n = min(gap, int(MAX_GAP_READ * self.sample_rate))
            self._gap_paid += n
            self._timeline += n
            return np.zeros(n, np.float32)
        child = self._child
        if child is None:
            return np.zeros(0, np.float32)
        return self._mono(child.ring.read())

    def position(self) -> float | None:
        """Audio time (s) of the newest sound captured, on the timeline read() hands out; None while the
        device is away (the show clock then free-runs)."""
        child = self._child
        if not self._connected or child is None or not child.ring.written:
            return None
        ring = child.ring
        owed = ring.unread + (self._gap_owed - self._gap_paid)
        since = min(time.monotonic() - ring.last_write, 2 * self.blocksize / self.sample_rate)
        return (self._timeline + owed) / self.sample_rate + max(0.0, since)

    def stop(self) -> None:
        self._halt.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5.0)
        for child in (self._child, self._draining):
            if child is not None:
                child.stop()
                child.remove()
        self._child = self._draining = None
        self._connected = False
        if self._dir is not None:
            for leftover in self._dir.glob("*"):
                leftover.unlink(missing_ok=True)
            self._dir.rmdir()
            self._dir = None

    # --- status -------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    def status(self) -> CaptureStatus:
        child = self._child
        overflows = self._overflows_before
        if child is not None:
            overflows += int(child.ring.header[R.OVERFLOWS]) + (child.ring.dropped > 0)
        return CaptureStatus(
            self._connected,
            child.device if child else "",
            overflows,
            self.reconnects,
            child.latency if child else 0.0,
        )

    # --- internals ----------------------------------------------------------------------------------
    def _mono(self, frames: np.ndarray) -> np.ndarray:
        self._timeline += len(frames)
        if self.channels is None:
            return frames.mean(axis=1, dtype=np.float32) if frames.shape[1] > 1 else frames[:, 0].copy()
        return frames[:, self.channels].mean(axis=1, dtype=np.float32)

    def _spawn(self) -> _Child:
        """Start a capture process and wait for it to open the device; HalationError if it cannot."""
        path = self._dir / f"ring-{time.monotonic_ns()}"
        cmd = [
            sys.executable,
            "-m",
            "engine.audio.capture",
            json.dumps(
                {
                    "ring": str(path),
                    "device": self.device,
                    "channels": self.channels,
                    "rate": self.sample_rate,
                    "block": self.blocksize,
                    "seconds": self.ring_seconds,
                }
            ),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        reply = _read_line(proc, timeout=15.0)
        if not reply.get("ok"):
            proc.kill()
            proc.wait()
            path.unlink(missing_ok=True)
            raise HalationError(reply.get("error") or "the audio capture process did not start")
        ring = SampleRing.attach(path, reply["capacity"], reply["channels"])
        if self.channels is not None and max(self.channels) >= ring.channels:
            raise HalationError(f"{reply['device']} has {ring.channels} input channels")
        log.info(
            "capturing from %s (%d ch, block %d, %s priority)",
            reply["device"],
            ring.channels,
            self.blocksize,
            reply.get("priority", "normal"),
        )
        return _Child(proc, ring, reply["device"], float(reply["latency"]))

    def _supervise(self) -> None:
        next_try = 0.0
        while not self._halt.wait(0.1):
            child = self._child
            if self._connected and child is not None and not self._healthy(child):
                self._lose(child)
            if not self._connected and time.monotonic() >= next_try:
                next_try = time.monotonic() + self.retry_every
                self._reconnect()

    def _healthy(self, child: _Child) -> bool:
        if not child.alive():
            return False
        last = child.ring.last_write
        return last == 0.0 or time.monotonic() - last < STALL_SECONDS

    def _lose(self, child: _Child) -> None:
        last = child.ring.last_write
        self._lost_at = last if last > 0 else time.monotonic()
        self._connected = False
        # a show tells its operator (engine/live.py InputWatch: console, banner, /hl/status/error)
        log.debug("audio input %s lost: visuals go on with the clock; reconnecting", child.device)
        child.proc.kill()  # a wedged driver never returns: do not ask it politely
        child.proc.wait(timeout=2.0)
        self._overflows_before += int(child.ring.header[R.OVERFLOWS])

    def _reconnect(self) -> None:
        try:
            fresh = self._spawn()
        except HalationError as exc:
            log.debug("audio input not back yet: %s", exc)
            return
        # the reader's order: the lost ring's remainder, then the silence, then the new ring
        self._draining = self._child
        if self._lost_at is not None:
            self._gap_owed += int((time.monotonic() - self._lost_at) * self.sample_rate)
            self._lost_at = None
        self._child = fresh
        self._connected = True
        self.reconnects += 1
        log.debug("audio input %s is back", fresh.device)


def _shm_dir() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _read_line(proc: subprocess.Popen, timeout: float) -> dict:
    """The child's one-line JSON reply, or an error reply if it says nothing in time."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return {"ok": False, "error": "the audio capture process did not answer"}


# --- the child process -------------------------------------------------------------------------------
def _child_main(config: dict) -> None:
    """Open the device, copy every block into the ring, report once on stdout, then watch the stream and
    exit hard (no PortAudio teardown, which can hang) when it dies, the parent asks, or the parent is gone."""
    parent = os.getppid()
    # before the stream opens: the callback thread PortAudio starts inherits it (JACK gives its clients'
    # callbacks a real-time priority of its own when the server runs real-time)
    granted = raise_thread_priority()
    try:
        import sounddevice as sd

        found = find_input_device(config["device"])
        wanted = config["channels"]
        n_ch = found.channels if wanted is None else max(wanted) + 1
        if n_ch > found.channels:
            raise HalationError(f"{found.name} has {found.channels} input channels; {n_ch} were asked for")
        capacity = int(config["seconds"] * config["rate"])
        ring = SampleRing(capacity, n_ch, Path(config["ring"]))

        def callback(indata, frames, when, status) -> None:
            if status.input_overflow:
                ring.header[R.OVERFLOWS] += 1
            ring.write(indata, when.inputBufferAdcTime)

        stream = sd.InputStream(
            device=found.index,
            channels=n_ch,
            samplerate=config["rate"],
            blocksize=config["block"],
            dtype="float32",
            latency="low",
            callback=callback,
        )
        ring.header[R.LATENCY] = stream.latency
        ring.header[R.STATE] = RUNNING
        stream.start()
    except Exception as exc:
        message = exc.message if isinstance(exc, HalationError) else f"cannot open the audio input: {exc}"
        print(json.dumps({"ok": False, "error": message}), flush=True)
        os._exit(2)
    reply = {
        "ok": True,
        "device": found.name,
        "channels": n_ch,
        "capacity": capacity,
        "latency": stream.latency,
        "priority": granted.value,
    }
    print(json.dumps(reply), flush=True)
    started = time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        ring.header[R.HEARTBEAT] = now
        last = ring.last_write or started
        if ring.header[R.STOP] or os.getppid() != parent:
            os._exit(0)
        if not stream.active or now - last > STALL_SECONDS:
            ring.header[R.STATE] = LOST
            os._exit(3)


if __name__ == "__main__":
    _child_main(json.loads(sys.argv[1]))
