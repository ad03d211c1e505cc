"""A real audio server to listen through: a JACK server on the dummy driver (no sound card needed) and a
JACK client that plays clicks into the engine's PortAudio input. Used by `halation bench latency` and the
live capture tests. `ClickProcess` runs the click player in a process of its own: a JACK-Client callback
in the process that is measured shares its GIL, and closing that client while the process is busy can
leave the GIL's mutex locked for good (libjack cancels its callback thread), which froze a latency run."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


class JackServer:
    """A dummy-driver JACK server of our own (a unique name, so parallel runs never share one)."""

    def __init__(self, name: str, period: int = 256, rate: int = 48000, realtime: bool = False):
        self.name = name
        self.period = period  # frames per JACK cycle
        self.rate = rate
        # realtime: as a venue runs it (jackd's default), its cycle and its clients' callbacks (the
        # capture's) at a real-time priority; where the system refuses that, jackd says so and runs on
        self.realtime = realtime
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import jack

        mode = ["--realtime", "-P", "70"] if self.realtime else ["--no-realtime"]
        cmd = ["jackd", "-n", self.name, *mode, "-d", "dummy", "-r", str(self.rate)]
        self.proc = subprocess.Popen(
            [*cmd, "-p", str(self.period)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                jack.Client("halation-probe", servername=self.name, no_start_server=True).close()
                return
            except jack.JackError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("jackd did not start")

    def runs_realtime(self) -> bool:
        """Whether any of the server's threads holds a real-time scheduling policy (the cycle's does when
        the system allowed it)."""
        if self.proc is None:
            return False
        policies = set()
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                policies.add(os.sched_getscheduler(int(task.name)))
        return bool(policies & {os.SCHED_FIFO, os.SCHED_RR})

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


class ClickFeeder:
    """A JACK client playing a click every `every` frames into the engine's PortAudio input, each one a
    random 0..`spread` frames later than the grid when `spread` is set. `sent` holds the monotonic time each
    click would have reached a real card's converter: a cycle carries the sound of the period before it."""

    def __init__(
        self, server: str, every: int = 24000, length: int = 48, level: float = 0.8, spread: int = 0
    ):
        import jack

        self.every, self.length, self.level, self.spread = every, length, level, spread
        self.client = jack.Client("halation-clicks", servername=server, no_start_server=True)
        self.rate = self.client.samplerate
        self.out = self.client.outports.register("out")
        self.frames = 0
        self.sent: list[float] = []
        self._rng = np.random.default_rng(0)
        self._clicks = 0
        self._start = 0  # frame where the current (or next) click starts
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        now = time.monotonic()
        buf = self.out.get_array()
        buf[:] = 0.0
        end = self.frames + frames
        while self._start < end:
            lo, hi = max(self._start, self.frames), min(self._start + self.length, end)
            buf[lo - self.frames : hi - self.frames] = self.level
            if self._start >= self.frames:
                self.sent.append(now - (end - self._start) / self.rate)
            if self._start + self.length > end:
                break  # the click goes on in the next cycle
            self._clicks += 1
            jitter = int(self._rng.integers(0, self.spread)) if self.spread else 0
            self._start = self._clicks * self.every + jitter
        self.frames = end

    def connect(self, timeout: float = 10.0) -> None:
        """Wire the clicks into PortAudio:in_0 as soon as the capture's ports exist."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ports = self.client.get_ports("PortAudio.*in_0", is_input=True, is_audio=True)
            if ports:
                self.client.connect(self.out, ports[0])
                return
            time.sleep(0.05)
        raise RuntimeError("the capture's JACK ports never appeared")

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


class ClickProcess:
    """A ClickFeeder in a process of its own, as a real source is: its JACK callback then never waits for
    the interpreter of the process it measures (a feeder inside the show's process shares its GIL). `sent`
    (monotonic, system-wide) is known once it is closed."""

    def __init__(self, server: str, every: int = 24000, spread: int = 0, connect_timeout: float = 30.0):
        config = {"server": server, "every": every, "spread": spread, "timeout": connect_timeout}
        self.proc = subprocess.Popen(  # as a module: run as a script, this file would shadow jack's _jack
            [sys.executable, "-m", "bench._jack", json.dumps(config)],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.sent: list[float] = []

    def wait_connected(self, timeout: float = 30.0) -> None:
        """Until the clicks are wired into the capture (RuntimeError if they are not in time)."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready or self.proc.stdout.readline().strip() != "connected":
            raise RuntimeError("the click feeder did not connect to the capture's JACK ports")

    def close(self) -> None:
        """Stop the clicks and collect when each one was played."""
        try:
            out, _ = self.proc.communicate(input="", timeout=15)  # stdin closed: the feeder's cue to stop
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        lines = [ln for ln in (out or "").splitlines() if ln.startswith("{")]
        self.sent = json.loads(lines[-1])["sent"] if lines else []


def _feeder_main(config: dict) -> None:
    """The feeder process: clicks into the capture's ports until stdin closes, then the times sent. A
    capture that reconnects (a new PortAudio client, new ports) is wired again, as a patchbay would."""
    feeder = ClickFeeder(config["server"], every=config["every"], spread=config["spread"])
    try:
        feeder.connect(timeout=config["timeout"])
        print("connected", flush=True)
        while not select.select([sys.stdin], [], [], 0.2)[0]:  # until the parent closes stdin
            if not feeder.out.connections:
                with contextlib.suppress(Exception):  # the capture's new ports may not be there yet
                    feeder.connect(timeout=0.2)
    finally:
        feeder.close()
        print(json.dumps({"sent": feeder.sent}), flush=True)


if __name__ == "__main__":
    _feeder_main(json.loads(sys.argv[1]))
