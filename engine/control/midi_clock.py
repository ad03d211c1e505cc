"""MIDI clock in as a tempo source, and MIDI clock out from the show's beat: 24 ticks a beat.

In:  The tick period is a least-squares fit of the last two
beats' tick times, refitted without the ticks that arrived late (a USB frame, a JACK period or a busy machine
delays ticks, never advances them), so transport jitter averages out and bunched ticks do not bend the
tempo. Start (0xFA) marks beat 1.

Out (`perform --midi-clock-out PORT`): drum machines and hardware lighting consoles that know no Link follow
the tempo Halation hears (or Link's, with --link follow). `MidiClockOut` is a sink of the frame loop: each
frame hands it the beat grid it was drawn with; its own thread sends every tick at the moment the grid puts
it (24 per beat), Start with a Song Position Pointer on the next downbeat once a tempo is known, Stop when the
tempo is lost or the show ends. Ticks are never skipped or doubled, since receivers count them: when the grid
moves forward the late ticks go out at once, when it moves back the next one waits.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable

from engine.analysis.features import BeatGrid
from engine.errors import HalationError
from engine.sync.timebase import ClockOffset

log = logging.getLogger(__name__)

TICKS_PER_BEAT = 24
CLOCK, START, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFC, 0xF2
MAX_CATCH_UP = TICKS_PER_BEAT  # late ticks sent at once (a busy machine); a longer jump starts the bar again
MIN_FIT = 12  # ticks a fit needs


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(seconds per tick, offset) of tick time against tick number, least squares."""
    n = len(points)
    mean_i = sum(i for i, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    num = sum((i - mean_i) * (t - mean_t) for i, t in points)
    den = sum((i - mean_i) ** 2 for i, _ in points)
    slope = num / den
    return slope, mean_t - slope * mean_i


def tick_period(times: list[float]) -> float:
    """Seconds per tick from tick arrival times, robust to late (bunched) ticks."""
    points = list(enumerate(times))
    slope, offset = _fit(points)
    residuals = [t - (offset + slope * i) for i, t in points]
    spread = statistics.median(abs(r) for r in residuals) * 1.4826
    keep = [p for p, r in zip(points, residuals, strict=True) if r <= max(3 * spread, 0.002)]
    if len(keep) >= MIN_FIT and len(keep) < len(points):
        slope, _ = _fit(keep)
    return slope


class MidiClock:
    def __init__(self, window: int = 2 * TICKS_PER_BEAT, min_change: float = 0.05):
        self._times: deque[float] = deque(maxlen=window + 1)
        self.min_change = min_change
        self.bpm: float | None = None
        self._reported: float | None = None

    def tick(self, t: float) -> float | None:
        """Feed one clock tick at time t (s); returns a BPM when it has moved enough to report."""
        if self._times and t - self._times[-1] > 1.0:
            self._times.clear()  # the clock stopped and came back: start over
        self._times.append(t)
        if len(self._times) < TICKS_PER_BEAT + 1:
            return None
        interval = tick_period(list(self._times))
        if interval <= 0:
            return None
        self.bpm = 60.0 / (interval * TICKS_PER_BEAT)
        if self._reported is None or abs(self.bpm - self._reported) >= self.min_change:
            self._reported = round(self.bpm, 2)
            return self._reported
        return None

    def reset(self) -> None:
        self._times.clear()


def beat_time(grid: BeatGrid, beat: float) -> float:
    """Show time of (fractional) beat number `beat` on the grid."""
    if grid.count - 1 <= beat < grid.count:
        return grid.last_beat + (beat - (grid.count - 1)) * (grid.next_beat - grid.last_beat)
    return grid.next_beat + (beat - grid.count) * grid.period


def next_downbeat(grid: BeatGrid, at: float) -> int:
    """The number of the first beat at or after show time `at` that starts a bar."""
    count, phase = grid.beat_position(at)
    beat = count + (1 if phase > 0 else 0)
    return beat + (grid.downbeat - beat) % grid.beats_per_bar


def song_position(bar_beats: int) -> list[int]:
    """Song Position Pointer (in MIDI beats, sixteenths) for a start `bar_beats` quarter notes in."""
    sixteenths = max(0, 4 * bar_beats) & 0x3FFF
    return [SONG_POSITION, sixteenths & 0x7F, sixteenths >> 7]


def open_midi_out(query: str, api: str | None, client: str = "Halation"):
    """An rtmidi output: a virtual port of our own ('virtual') or the first port whose name contains
    `query`."""
    from engine.control.midi import APIS, VIRTUAL, _modules

    _, rtmidi = _modules()
    api_id = getattr(rtmidi, APIS[api.lower()]) if api and api.lower() in APIS else rtmidi.API_UNSPECIFIED
    if api and api.lower() not in APIS:
        raise HalationError(f"--midi-api '{api}': use one of {', '.join(APIS)}")
    try:
        out = rtmidi.MidiOut(api_id, name=client)
        if query == VIRTUAL:
            out.open_virtual_port("Halation clock")
            return out, "Halation clock"
        names = out.get_ports()
        matches = [i for i, n in enumerate(names) if query.lower() in n.lower()]
        if not matches:
            listed = ", ".join(names) or "none"
            raise HalationError(f"--midi-clock-out '{query}': no such MIDI output (found: {listed})")
        out.open_port(matches[0])
        return out, names[matches[0]]
    except HalationError:
        raise
    except Exception as exc:
        raise HalationError(f"MIDI clock out: cannot open '{query}' ({exc})") from None


class MidiClockOut:
    """The MIDI clock sink (see the module doc). `send` takes one MIDI message as a list of bytes."""

    name = "midi-clock"

    def __init__(self, send: Callable[[list[int]], None], position: Callable[[], float | None], port=None):
        self._send = send
        self._port = port
        self.clock = ClockOffset(position, time.monotonic)
        self.grid = BeatGrid()
        self.running = False
        self.ticks = 0
        self._run_ticks: deque[float] = deque(maxlen=4 * 60 * TICKS_PER_BEAT)  # send times since Start
        self._tick: int | None = None  # number of the next tick to send (beat * 24 + k)
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-midi-clock", daemon=True)
        self._thread.start()

    def present(self, frame, info) -> None:
        """Take the frame's beat grid (a reference) and the show clock's offset."""
        self.clock.update()
        self.grid = info.features.grid
        self._wake.set()

    def _run(self) -> None:
        while not self._halt.is_set():
            grid, offset = self.grid, self.clock.offset
            if grid.bpm <= 0 or offset is None:
                if self.running:
                    self._stop()
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            now = time.monotonic() - offset  # show time now
            if not self.running:
                self._start(grid, now)
            due = beat_time(grid, self._tick / TICKS_PER_BEAT) + offset  # type: ignore[operator]
            wait = due - time.monotonic()
            if wait > 0:
                self._halt.wait(min(wait, 0.05))  # re-read the grid at least every 50 ms
                continue
            behind = math.floor(
                (time.monotonic() - offset - beat_time(grid, self._tick / TICKS_PER_BEAT))
                * grid.bpm
                / 60.0
                * TICKS_PER_BEAT
            )  # type: ignore[operator]
            if behind > MAX_CATCH_UP:  # a jump (a seek, a new tempo from nowhere): start the bar again
                self._stop()
                continue
            self._send([CLOCK])
            self.ticks += 1
            self._run_ticks.append(time.monotonic())
            self._tick += 1  # type: ignore[operator]

    def _start(self, grid: BeatGrid, now: float) -> None:
        downbeat = next_downbeat(grid, now)
        self._tick = downbeat * TICKS_PER_BEAT
        self._send(song_position(0))
        self._send([START])  # the receiver starts on the first tick after Start: the downbeat's
        self._run_ticks.clear()
        self.running = True

    def _stop(self) -> None:
        self._send([STOP])
        self.running = False
        self._tick = None

    def sent_bpm(self) -> float:
        """The tempo the ticks since the last Start were sent at (a least-squares fit of their send times),
        0 before two beats of them."""
        times = list(self._run_ticks)
        if len(times) < 2 * TICKS_PER_BEAT:
            return 0.0
        return 60.0 / (TICKS_PER_BEAT * _fit(list(enumerate(times)))[0])

    def release(self) -> None:
        self._halt.set()
        self._thread.join(timeout=2.0)
        log.info("MIDI clock out: %d ticks, the last run sent at %.2f BPM", self.ticks, self.sent_bpm())
        if self.running:
            self._send([STOP])
        if self._port is not None:
            self._port.close_port()
