"""Control under load: 10 000 OSC messages a second over UDP, 10 s of traffic, from a separate sender process.

Plays the demo show headless with an OSC server while another process sends 10 000 messages a second
throughout, alternately to the show and to a socket nobody reads (1 s blocks by default, so with and without
traffic are measured side by side, the machine equally busy and under the same drift; --block 10 for one
continuous 10 s flood). Reports the share of sent messages that reached
the render thread (target >= 99.9 %), whether the final values are the last ones sent, kernel receive-buffer
drops, and the output frame-time median during traffic against quiet (target: moves <= 5 %).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

# The sender runs in its own process (its own interpreter and GIL), paced in 1 ms slices.
SENDER = r"""
import json, socket, struct, sys, time
port = int(sys.argv[1])
rate, seconds, block, lead = (float(a) for a in sys.argv[2:6])
addresses = ["/hl/master/level", "/hl/shader/glow", "/hl/clips/crossfade"]
def message(address, value):
    a = address.encode() + b"\0" * (4 - len(address) % 4)
    return a + b",f\0\0" + struct.pack(">f", value)
# a desk's traffic: every message different, encoded ahead so the sender itself stays light
packets = [message(addresses[i % 3], 0.25 + (i % 1000) / 2000.0) for i in range(3000)]
show = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
show.connect(("127.0.0.1", port))
# in the quiet blocks the same traffic goes to a socket nobody reads: the machine is as busy either way
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
elsewhere = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
elsewhere.connect(sink.getsockname())

def burst(sock, count):
    start = time.monotonic()
    done = 0
    while done < count:
        due = start + done / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        upto = min(count, int((time.monotonic() - start) * rate) + 1)
        while done < upto:
            try:
                sock.send(packets[done % 3000])
            except OSError:
                pass  # the sink's buffer is full: fine, nobody reads it
            done += 1
    return start, time.monotonic()

total, per_block = int(rate * seconds), int(rate * block)
windows = []
sent = 0
burst(elsewhere, int(rate * lead))
while sent < total:
    count = min(per_block, total - sent)
    windows.append(burst(show, count))
    sent += count
    burst(elsewhere, per_block)
last = {addresses[i % 3]: 0.25 + (i % 1000) / 2000.0 for i in range(total - 3, total)}
print(json.dumps({"sent": sent, "windows": windows, "last": last}))
"""


def _lowest_priority() -> None:
    if hasattr(os, "nice"):
        os.nice(19)


def add_arguments(p) -> None:
    p.add_argument("--rate", type=float, default=10000.0, help="messages a second (default 10000)")
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of traffic in all (default 10)")
    p.add_argument("--block", type=float, default=1.0, help="seconds of each traffic and quiet block (1)")
    p.add_argument("--size", default="640x360", help="render size (default 640x360)")
    p.add_argument("--fps", type=float, default=60.0, help="frame rate (default 60)")


def socket_drops(port: int) -> int:
    """Datagrams the kernel dropped for the UDP socket on this local port (Linux /proc/net/udp), or -1."""
    try:
        with open("/proc/net/udp") as f:
            rows = [line.split() for line in f][1:]
    except OSError:
        return -1
    for row in rows:
        if int(row[1].split(":")[1], 16) == port:
            return int(row[-1])
    return -1


class FrameClock:
    """A control surface that stamps each published frame (its order matches perform's frame times)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def start(self, params) -> None:
        pass

    def drain(self) -> list:
        return []

    def publish(self, state) -> None:
        self.stamps.append(time.monotonic())

    def stop(self) -> None:
        pass


def split_frames(
    times, stamps, windows, guard: float = 0.1, block: float = 1.0
) -> tuple[list[float], list[float]]:
    """Frame times during traffic and during the quiet between and around the traffic blocks (a guard band
    around each switch is left out; the quiet before the first block and after the last counts one block
    each, so the long tail a slow sender needs does not weigh the quiet side)."""
    under, quiet = [], []
    first, last = windows[0][0] - block, windows[-1][1] + block
    for t, s in zip(times, stamps, strict=False):
        if any(a <= s <= b for a, b in windows):
            under.append(t)
        elif first <= s <= last and all(s < a - guard or s > b + guard for a, b in windows):
            quiet.append(t)
    return under, quiet


def paired_change(times, stamps, windows, block: float, guard: float = 0.1) -> float:
    """Median over traffic blocks of (block median / median of the quiet just before and after) - 1, in %:
    slow drift of a shared machine cancels out of each pair."""
    changes = []
    for a, b in windows:
        inside = [t for t, s in zip(times, stamps, strict=False) if a <= s <= b]
        around = [
            t
            for t, s in zip(times, stamps, strict=False)
            if a - block <= s < a - guard or b + guard < s <= b + block
        ]
        if inside and around:
            changes.append(statistics.median(inside) / statistics.median(around) - 1)
    return 100 * statistics.median(changes) if changes else float("nan")


def run(args) -> int:
    from engine.audio.feed import BufferFeed
    from engine.commands.common import load_music, parse_size
    from engine.control.hub import ControlHub, OscConfig
    from engine.live import perform
    from engine.paths import DEMO_PRESET
    from engine.show.preset import load_preset

    size = parse_size(args.size)
    lead = 2.0
    blocks = max(1, round(args.seconds / args.block))
    # room for a sender slowed by a busy machine: every block it sends must land inside the show
    duration = lead + 1.5 * 2 * blocks * args.block + 1.0
    print(
        f"bench control: {args.rate:.0f} msg/s over UDP from a separate process, {args.seconds:.0f} s in "
        f"{blocks} block(s) of {args.block:g} s between as much quiet; demo preset at {size[0]}x{size[1]}, "
        f"{args.fps:.0f} fps, {duration:.0f} s"
    )
    hub = ControlHub(OscConfig(udp_port=0, bind="127.0.0.1", zeroconf=False, allow=None))
    frames = FrameClock()
    senders: list[subprocess.Popen] = []
    hub_start = hub.start

    def start(params) -> None:  # the sender needs the port, which exists once the hub has started
        hub_start(params)
        cmd = [sys.executable, "-c", SENDER, str(hub.udp.port)]
        cmd += [str(args.rate), str(args.seconds), str(args.block), str(lead)]
        # the sender stands for a desk on another machine: at the lowest priority it takes no time the show
        # would have had (it still holds its rate: the show leaves most of each frame idle)
        senders.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=_lowest_priority))

    hub.start = start  # type: ignore[method-assign]
    hub_stop = hub.stop
    drops = [-1]

    def stop() -> None:  # read the socket's drop count while it is still open
        drops[0] = socket_drops(hub.udp.port) if hub.udp else -1
        hub_stop()

    hub.stop = stop  # type: ignore[method-assign]
    stats = perform(
        load_preset(DEMO_PRESET),
        BufferFeed(load_music(None), play=False),
        size=size,
        fps=args.fps,
        duration=duration,
        headless=True,
        controls=(frames, hub),
    )
    report = json.loads(senders[0].communicate(timeout=60)[0])

    counts = hub.counters.snapshot()
    sent = report["sent"]
    applied = counts.get("applied", 0)
    share = 100.0 * applied / sent if sent else 0.0
    busy = sum(b - a for a, b in report["windows"])
    final = hub.values()
    finals_ok = all(abs(float(final[a[4:].replace("/", ".")]) - v) < 1e-6 for a, v in report["last"].items())
    under, quiet = split_frames(list(stats.frame_times), frames.stamps, report["windows"], block=args.block)
    med_quiet = 1000 * statistics.median(quiet)
    med_under = 1000 * statistics.median(under)
    moved = (med_under - med_quiet) / med_quiet * 100
    paired = paired_change(list(stats.frame_times), frames.stamps, report["windows"], args.block)

    print(f"  sent          {sent} messages in {busy:.2f} s of traffic ({sent / busy:.0f} msg/s)")
    print(f"  received      {counts.get('messages', 0)} messages in {counts.get('packets', 0)} packets")
    print(f"  applied       {applied}: {share:.3f} % of sent (target >= 99.9 %)")
    dropped = drops[0] if drops[0] >= 0 else "n/a"
    print(f"  kernel drops  {dropped} on the show's socket (receive buffer {hub.udp.buffer_bytes} bytes)")
    print(f"  rejected      {hub.counters.rejected() or 'none'}")
    print(f"  final values  {'the last ones sent' if finals_ok else 'NOT the last ones sent'}")
    print(f"  frame median  {med_quiet:.2f} ms quiet ({len(quiet)} frames)")
    print(f"                {med_under:.2f} ms under traffic ({len(under)} frames): {moved:+.1f} %")
    print(f"                per block, against the quiet either side: {paired:+.1f} % (median; target ±5 %)")
    print(f"  show          {stats.summary()}")
    ok = share >= 99.9 and abs(moved) <= 5.0 and finals_ok
    print(f"  {'PASS' if ok else 'MISS'}")
    return 0 if ok else 1
