"""Beyond one machine: Link lead against `halation analyze`, a render node against its leader, and what the
feature stream costs the leader, in one run (real processes and peers on loopback).

- lead: `perform --link lead` plays the demo song (124 BPM) to a LinkPython-extern peer that starts at
  100 BPM; the peer's tempo is read every 50 ms and compared with `halation analyze`'s tempo of the same file,
  and the peer's bar phase at each downbeat analyze hears (once the show has settled) gives the bar-phase
  agreement (targets: ±0.5 BPM, 20 ms).
- follow: a leader (`--link lead`) and two render nodes (`--follow`, one with `--link follow`, one on the
  stream's wall-clock grid alone) stamp every frame into the stream; at each node frame, its beat phase
  against the leader's at that moment (target: 5 ms at every frame). The target's own run is
  `halation bench sync --only follow` (60 s); `bench all` runs 20 s.
- cost: the leader at 60 fps headless, alternately with and without `--send-features` to two receivers, in
  blocks side by side: the median frame time, and the process's CPU time per frame over the frame period
  (target: ≤ 3 % of the frame time).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis.features import BeatGrid
from engine.control.codec import decode_packet
from engine.paths import ROOT
from engine.sync.follow import features_of

SETTLE = 5.0  # s after the leader's first beat before the follow figures count (its tempo settles)
FOLLOW_TARGET = 5.0  # ms: a node's beat phase against its leader's, at every frame
PERFORM = [sys.executable, "-m", "engine", "perform", "--headless", "--no-sound", "--size", "64x36"]


def add_arguments(p) -> None:
    p.add_argument("--seconds", type=float, default=60.0, help="length of the follow measurement (60)")
    p.add_argument("--blocks", type=int, default=4, help="cost: blocks of each kind, side by side (4)")
    p.add_argument("--block-seconds", type=float, default=8.0, help="cost: seconds a block (8)")
    p.add_argument("--only", choices=("lead", "follow", "cost"), help="run one part")


@dataclass(frozen=True)
class Stamp:
    """One frame of a stream as a receiver logged it: when it was shown (wall clock), what it drew."""

    wall: float  # the bundle's timetag
    show_time: float
    beat: float  # the beat phase the show drew
    grid: BeatGrid  # beat times on the wall clock
    pending: tuple[BeatGrid, float] | None  # the grid it draws from a wall time on (engine.sync.schedule)

    @property
    def bpm(self) -> float:
        return self.grid.bpm

    def grid_at(self, t: float) -> BeatGrid:
        """The grid this show draws with at wall time t (after this frame, before its next)."""
        return self.pending[0] if self.pending and self.pending[1] <= t else self.grid


class Receiver:
    """A UDP port collecting the stream's frames (Stamps)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.frames: list[Stamp] = []
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            messages = decode_packet(data)
            got = features_of(messages)
            if got is None:
                continue
            beat = next(m.args[0] for m in messages if m.address == "/hl/frame/beat")
            self.frames.append(Stamp(got.wall, got.show_time, float(beat), got.features.grid, got.pending))

    def close(self) -> None:
        self._halt.set()
        self._thread.join()
        self.sock.close()


def demo_wav(path: Path, seconds: float | None = None) -> Path:
    """The built-in demo song (124 BPM), or its first `seconds`, as a 16-bit WAV file."""
    from engine.commands.common import load_music

    music = load_music(None)
    music = music.until(seconds) if seconds else music
    pcm = (np.clip(music.samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(music.sample_rate)
        out.writeframes(pcm.tobytes())
    return path


def circular(a: float, b: float, cycle: float = 1.0) -> float:
    return (a - b + cycle / 2) % cycle - cycle / 2


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def lead(track: Path) -> bool:
    """Link lead against `halation analyze`; True when the peer's tempo and bar phase meet the targets."""
    import link

    analysis = subprocess.run(
        [sys.executable, "-m", "engine", "analyze", "--json", str(track)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    heard = json.loads(analysis.stdout)
    tempo, downbeats = heard["tempo"], [d["time"] if isinstance(d, dict) else d for d in heard["downbeats"]]
    peer = link.Link(100.0)
    peer.enabled = True
    receiver = Receiver()
    proc = subprocess.Popen(
        [*PERFORM, "--audio", str(track), "--link", "lead", "--send-features", f"127.0.0.1:{receiver.port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples = []
    while proc.poll() is None:
        state = peer.captureSessionState()
        samples.append((peer.clock().micros() / 1e6, state.tempo()))
        time.sleep(0.05)
    receiver.close()
    state = peer.captureSessionState()
    raw_minus_wall = time.clock_gettime(time.CLOCK_MONOTONIC_RAW) - time.time()
    show_to_wall = statistics.median(f.wall - f.show_time for f in receiver.frames)
    start_raw = receiver.frames[0].wall + raw_minus_wall - receiver.frames[0].show_time  # show 0, Link clock
    settled = [bpm for t, bpm in samples if t - start_raw > 8.0]
    errors = [abs(bpm - tempo) for bpm in settled]
    period = 60.0 / tempo
    phase_ms = []
    for d in downbeats:
        if d < 10.0:
            continue
        micros = int((d + show_to_wall + raw_minus_wall) * 1e6)
        phase_ms.append(abs(circular(state.beatAtTime(micros, 4) % 4.0, 0.0, 4.0)) * period * 1000)
    peer.enabled = False
    print(
        f"lead: analyze tempo {tempo:.2f} BPM; the peer after 8 s: "
        f"median {statistics.median(settled):.2f} BPM"
    )
    print(
        f"  tempo error |peer - analyze|: median {statistics.median(errors):.3f}, max {max(errors):.3f} BPM"
    )
    ok = bool(errors and phase_ms) and max(errors) <= 0.5 and max(phase_ms) <= 20.0
    print(
        f"  bar phase at {len(phase_ms)} heard downbeats: median {statistics.median(phase_ms):.1f} ms, "
        f"95% {pct(phase_ms, 95):.1f} ms, max {max(phase_ms):.1f} ms (targets ±0.5 BPM, 20 ms): {verdict(ok)}"
    )
    return ok


def follow(track: Path, seconds: float) -> bool:
    """The render nodes against their leader; True when both meet the target at every frame."""
    leader_log, linked_log, stream_log = Receiver(), Receiver(), Receiver()
    linked_port, stream_port = free_port(), free_port()
    nodes = [
        subprocess.Popen(
            [*PERFORM, "--follow", f"127.0.0.1:{port}", *extra, "--send-features", f"127.0.0.1:{log.port}"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port, extra, log in (
            (linked_port, ["--link", "follow"], linked_log),
            (stream_port, [], stream_log),
        )
    ]
    targets = [f"127.0.0.1:{p}" for p in (linked_port, stream_port, leader_log.port)]
    leader = subprocess.Popen(
        [*PERFORM, "--audio", str(track), "--link", "lead", *send_args(targets)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds + 60
    while time.monotonic() < deadline and leader.poll() is None:
        beating = [f for f in leader_log.frames if f.bpm > 0]
        if beating and beating[-1].wall - beating[0].wall > seconds + SETTLE:
            break
        time.sleep(0.2)
    for proc in (leader, *nodes):
        proc.terminate()
        proc.wait(timeout=30)
    for log in (leader_log, linked_log, stream_log):
        log.close()
    beating = [f for f in leader_log.frames if f.bpm > 0]
    ok = True
    for name, log in (("link follow", linked_log), ("stream only", stream_log)):
        errors = phase_errors(beating, log.frames, beating[0].wall + SETTLE)
        worst = max(errors) if errors else float("nan")
        met = bool(errors) and worst <= FOLLOW_TARGET
        ok = ok and met
        print(
            f"follow ({name}): {len(errors)} node frames over {seconds:.0f} s: beat phase vs leader "
            f"median {statistics.median(errors):.2f} ms, 99% {pct(errors, 99):.2f} ms, "
            f"worst {worst:.2f} ms (target: every frame within {FOLLOW_TARGET:g} ms): {verdict(met)}"
        )
    return ok


def phase_errors(leader: list[Stamp], node: list[Stamp], since: float) -> list[float]:
    """At each node frame shown after `since`: |its beat phase - the leader's at that moment| in ms. The
    leader's phase at a moment is its grid then: the one of its frame before, or the grid it said it
    would draw from then on."""
    errors = []
    i = 0
    for frame in node:
        t = frame.wall
        while i + 1 < len(leader) and leader[i + 1].wall <= t:
            i += 1
        before = leader[i]
        if t < since or before.wall > t or t - before.wall > 0.1:
            continue  # not yet settled, or the leader's log has a gap here
        grid = before.grid_at(t)
        _, phase = grid.beat_position(t)
        errors.append(abs(circular(frame.beat, phase)) * 60000.0 / grid.bpm)
    return errors


def send_args(targets: list[str]) -> list[str]:
    return [arg for target in targets for arg in ("--send-features", target)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cost(blocks: int, seconds: float) -> bool:
    """The stream's cost to the leader; True when it is within 3 % of the frame."""
    sinks = [Receiver(), Receiver()]
    send = send_args([f"127.0.0.1:{r.port}" for r in sinks])
    results: dict[str, list[tuple[float, float]]] = {"plain": [], "streaming": []}
    sender: list[float] = []  # the stream's own thread: CPU ms a frame, as the show reports it
    for _ in range(blocks):
        for name, extra in (("plain", []), ("streaming", send)):
            proc = subprocess.Popen(
                [*PERFORM, "--fps", "60", "--duration", str(seconds), *extra],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            out = proc.stdout.read()  # type: ignore[union-attr]
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = status
            summary = next(line for line in out.splitlines() if "median frame" in line)
            frames = int(summary.split()[0])
            median = float(summary.split("median frame ")[1].split()[0])
            results[name].append((median, (usage.ru_utime + usage.ru_stime) / frames * 1000))
            sender.extend(
                float(line.split("sender CPU ")[1].split()[0])
                for line in out.splitlines()
                if "sender CPU" in line
            )
    for r in sinks:
        r.close()
    plain = statistics.median(m for m, _ in results["plain"])
    streaming = statistics.median(m for m, _ in results["streaming"])
    cpu_plain = statistics.median(c for _, c in results["plain"])
    cpu_streaming = statistics.median(c for _, c in results["streaming"])
    extra = cpu_streaming - cpu_plain
    print(
        f"cost at 60 fps, {blocks}x{seconds:.0f} s blocks each, side by side: median frame "
        f"{plain:.2f} ms plain, {streaming:.2f} ms streaming to 2 receivers (x{streaming / plain:.3f}); "
        f"process CPU per frame {cpu_plain:.2f} vs {cpu_streaming:.2f} ms ({extra:+.3f} ms, noise of a "
        "shared machine included)"
    )
    own = statistics.median(sender)
    present = max(0.0, streaming - plain)
    share = 100 * (own + present) / (1000 / 60)
    print(
        f"  the sender thread's own CPU: median {own:.3f} ms a frame = {100 * own / (1000 / 60):.2f} % "
        f"of the 16.7 ms frame; with the frame-time difference ({present:.2f} ms): "
        f"{share:.2f} % (target <= 3 %): {verdict(share <= 3.0)}"
    )
    return share <= 3.0


def run(args) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        track = demo_wav(Path(tmp) / "demo.wav")
        parts = {
            "lead": lambda: lead(track),
            "follow": lambda: follow(track, args.seconds),
            "cost": lambda: cost(args.blocks, args.block_seconds),
        }
        met = [part() for name, part in parts.items() if args.only in (None, name)]
    return 0 if all(met) else 1
