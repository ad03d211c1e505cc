"""Ableton Link, led by the ears: Halation follows a Link session, leads it from what it hears, or both.

Link keeps every peer on one tempo and one beat timeline (bars of `quantum` beats), measured on the Link
clock, which on Linux is CLOCK_MONOTONIC_RAW. Resolume, TouchDesigner and lighting software can only
follow a session; Halation hears the room, so it can lead one:

- follow: the session's tempo and phase replace the heard beat grid (the tempo tracker's values are not
  used), so beat and bar values fall on the session's beats;
- lead: the heard tempo is published to the session, and the session's bar is moved onto the heard
  downbeat, so every follower lands on the music in the room;
- auto: lead while music is heard; follow once another peer changes the tempo (a DJ set it on purpose),
  until the music stops and the next track starts, or while nothing is heard.

`LinkSync.transform` is the one stage between the analysis snapshot and the render: it runs on the render
thread each frame, talks to Link (a mutex, microseconds) and returns the Features the frame is drawn with.
Link is GPLv2+, so it is the optional extra `halation[link]` (PyPI aalink); without it `--link` says how
to install it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from engine.analysis.features import BeatGrid, Features
from engine.errors import HalationError
from engine.params.store import Param, ParamStore
from engine.sync.timebase import READ_SPAN, READ_TRIES, ClockOffset, link_clock

log = logging.getLogger(__name__)

Mode = Literal["off", "follow", "lead", "auto"]
MODES: tuple[Mode, ...] = ("off", "follow", "lead", "auto")  # index = the value of link.mode
PHASE_TOLERANCE = 0.002  # s: the session's bar is moved onto the heard downbeat when further off than this
TEMPO_TOLERANCE = 0.05  # BPM: heard tempo changes smaller than this are not published (each commit can
# cross a peer's own change on the network, and Link keeps the later one)
PEER_CHANGE = 0.05  # BPM: a session tempo this far from what we published was set by another peer
FORCE_INTERVAL = 0.5  # s: the lead moves the session's phase at most this often (for the same reason)
MERGE_GRACE = 1.0  # s after the peer count changes in which a new session tempo is a merge, not a DJ
QUIET_RESET = 2.0  # s of silence after which auto leads again (the next track)
MIN_CONFIDENCE = 0.2  # the heard tempo is published once the tracker is this sure of it


def link_params(mode: Mode) -> list[Param]:
    """The show-level Link control (its name starts with link., so a preset recall keeps it). One number, not
    buttons: the frame's sync stages run before the desks' messages of that frame are applied, and a mode is
    a state the desk can read back."""
    return [
        Param(
            "link.mode",
            "long",
            float(MODES.index(mode)),
            0,
            3,
            "Ableton Link: 0 off, 1 follow, 2 lead, 3 auto",
        )
    ]


def operator_mode(params: ParamStore, current: Mode) -> Mode:
    """The mode link.mode asks for (the current one when the show has no link.mode)."""
    number = params.base().get("link.mode")
    if isinstance(number, int | float) and 0 <= int(number) < len(MODES):
        return MODES[int(number)]
    return current


@dataclass(frozen=True)
class SessionState:
    """The Link session at one moment of the Link clock."""

    tempo: float
    beat: float  # the session's beat at `time` (bars start where beat ≡ 0 mod quantum)
    time: float  # Link clock seconds
    quantum: int
    peers: int

    def beat_at(self, t: float) -> float:
        return self.beat + (t - self.time) * self.tempo / 60.0


def grid_from_session(state: SessionState, link_at: float, audio_at: float) -> BeatGrid:
    """The session's beat timeline as a BeatGrid on the audio clock, around audio time `audio_at` (which is
    `link_at` on the Link clock): beat and bar values evaluated there are the session's phase."""
    beat = state.beat_at(link_at)
    period = 60.0 / state.tempo
    count = math.floor(beat) + 1  # the number of the next beat
    next_beat = audio_at + (count - beat) * period
    return BeatGrid(
        bpm=state.tempo,
        confidence=1.0,
        last_beat=next_beat - period,
        next_beat=next_beat,
        count=count,
        beats_per_bar=state.quantum,
        downbeat=0,
        locked=True,
    )


def bar_error(grid: BeatGrid, state: SessionState, link_at: float, audio_at: float) -> float:
    """Beats the session's bar position is ahead of the heard one at that moment, wrapped to ±half a bar."""
    count, phase = grid.beat_position(audio_at)
    n = grid.beats_per_bar
    heard = (count - grid.downbeat) % n + phase
    session = state.beat_at(link_at) % n
    return (session - heard + n / 2.0) % n - n / 2.0


class LinkPeer:
    """Halation's Link peer (aalink), on its own asyncio thread as aalink requires; its state is read and
    set from the render thread (Link guards its session state with a mutex)."""

    def __init__(self, bpm: float = 120.0, quantum: int = 4):
        try:
            import aalink
        except ImportError:
            raise HalationError(
                "--link needs Ableton Link: pip install 'halation[link]' (aalink; Link is GPLv2+)"
            ) from None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="halation-link", daemon=True)
        self._thread.start()

        async def make():
            link = aalink.Link(bpm)
            link.quantum = quantum
            link.enabled = True
            return link

        self._link = asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout=5.0)

    def state(self) -> SessionState:
        link = self._link
        for _ in range(READ_TRIES):  # the beat and the clock read together, not across a preemption
            before = link_clock()
            beat, tempo = link.beat, link.tempo
            after = link_clock()
            if after - before <= READ_SPAN:
                break
        now = (before + after) / 2.0
        return SessionState(float(tempo), float(beat), now, int(link.quantum), int(link.num_peers))

    def set_tempo(self, bpm: float) -> None:
        self._link.tempo = bpm

    def set_quantum(self, quantum: int) -> None:
        self._link.quantum = quantum

    def force_beat(self, beat: float) -> None:
        """Make the session's beat now `beat` (for every peer: the leader's privilege)."""
        self._link.force_beat(beat)

    def set_enabled(self, on: bool) -> None:
        self._link.enabled = on

    def close(self) -> None:
        self._link.enabled = False
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2.0)


@dataclass(frozen=True)
class LinkStatus:
    """What the HUD and /hl/status/ show."""

    mode: Mode
    role: str  # "follow" or "lead": what auto is doing now; "off"
    peers: int
    tempo: float

    def line(self) -> str:
        role = f" ({self.role})" if self.mode == "auto" else ""
        return (
            f"Link {self.mode}{role}: {self.peers} peer{'s' if self.peers != 1 else ''}, {self.tempo:.1f} BPM"
        )


class LinkSync:
    """The Features stage of the render loop (engine.sync.stage): follow, lead or auto against a Link
    session; the operator switches the mode with link.mode (/hl/link/mode 0-3)."""

    name = "link"

    def __init__(self, peer: LinkPeer, mode: Mode, position: Callable[[], float]):
        self.peer = peer
        self.mode: Mode = mode
        self.clock = ClockOffset(position, link_clock)
        self.role = "off"
        # auto: the tempo the session should have unless another peer set one (what we published while
        # leading, what the session had while following); None: no expectation (just switched, merging)
        self._expected: float | None = None
        self._last_force = -math.inf
        self._peer_led = False  # auto: another peer set the tempo; follow until the music stops
        self._peers = 0  # peers seen in the last frame...
        self._peers_changed = -math.inf  # ...and when (Link clock) that count last changed
        self._quiet_since: float | None = None
        self.status_now = LinkStatus(mode, "off", 0, 0.0)
        # A render node's stream is connected: its grid is the leader's own, exact, and Link only its clock
        # (engine.sync.follow); the session's grid takes over when the stream goes quiet
        self.defer: Callable[[], bool] = lambda: False
        self._frame_beat: tuple[float, float, float] | None = None  # (show time, session beat, tempo)

    def set_mode(self, mode: Mode) -> None:
        if mode != self.mode:
            log.info("Link: %s", mode)
            self.peer.set_enabled(mode != "off")
            self.mode = mode
            self._peer_led = False  # the operator chose: what a peer did before counts for nothing
            self._expected = None

    def params(self) -> list[Param]:
        return link_params(self.mode)

    @property
    def grid_heard(self) -> bool:
        """False while the frames' beat grid is the session's (follow)."""
        return self.role != "follow"

    def status(self) -> dict[str, str | int | float]:
        s = self.status_now
        return {
            "link/mode": s.mode,
            "link/role": s.role,
            "link/peers": s.peers,
            "link/bpm": round(s.tempo, 2),
        }

    def transform(self, features: Features, at: float, params: ParamStore | None = None) -> Features:
        """The Features to draw the frame at show time `at` with (the heard ones, or the session's grid)."""
        if params is not None:
            self.set_mode(operator_mode(params, self.mode))
        if self.mode == "off":
            self.role = "off"
            self.status_now = LinkStatus("off", "off", 0, 0.0)
            return features
        offset = self.clock.update()
        if offset is None:  # the audio clock has not started
            return features
        link_at = at + offset
        state = self.peer.state()
        self.role = self._role(features, state)
        self.status_now = LinkStatus(self.mode, self.role, state.peers, state.tempo)
        self._frame_beat = (at, state.beat_at(link_at), state.tempo)
        if self.role == "follow":
            if (self.mode == "auto" and state.peers == 0) or self.defer():
                return features  # nobody to follow and nothing heard: no beat made up from Link's default
            return replace(features, grid=grid_from_session(state, link_at, at))
        state = self._lead(features.grid, state, link_at, at)
        self._frame_beat = (at, state.beat_at(link_at), state.tempo)
        return features

    def link_beat(self, at: float) -> tuple[float, float] | None:
        """(the session's beat at show time `at`, its tempo), for the frame this stage has just run for: the
        feature stream carries it, so a render node reads the leader's clock through Link."""
        if self._frame_beat is None or self._frame_beat[0] != at:
            return None
        return self._frame_beat[1], self._frame_beat[2]

    def _role(self, features: Features, state: SessionState) -> str:
        if self.mode != "auto":
            return self.mode
        heard = features.grid.bpm > 0 and features.grid.confidence >= MIN_CONFIDENCE and not features.silence
        if state.peers != self._peers:  # sessions merged or a peer left: a new tempo is nobody's decision
            self._peers, self._peers_changed = state.peers, state.time
        if state.time - self._peers_changed < MERGE_GRACE:
            self._expected = None  # (the peer count and the merged timeline arrive a moment apart)
        if (
            not self._peer_led
            and self._expected is not None
            and abs(state.tempo - self._expected) > PEER_CHANGE
        ):
            log.info("Link: a peer set %.1f BPM: following it until the music stops", state.tempo)
            self._peer_led = True
        self._track_quiet(features.time, heard)
        if self._peer_led or not heard:
            self._expected = state.tempo  # following: a jump from here is a peer's doing too
            return "follow"
        return "lead"

    def _track_quiet(self, now: float, heard: bool) -> None:
        """Auto leads again once the music has stopped for QUIET_RESET seconds (the next track)."""
        if heard:
            self._quiet_since = None
            return
        if self._quiet_since is None:
            self._quiet_since = now
        if self._peer_led and now - self._quiet_since >= QUIET_RESET:
            log.info("Link: the music stopped: leading again when it comes back")
            self._peer_led = False

    def _lead(self, heard: BeatGrid, state: SessionState, link_at: float, audio_at: float) -> SessionState:
        """Publish the heard tempo, move the session's bar onto the heard one; the session as it is now."""
        if heard.bpm <= 0 or heard.confidence < MIN_CONFIDENCE:
            return state  # nothing heard yet worth telling the session
        if heard.beats_per_bar != state.quantum:
            self.peer.set_quantum(heard.beats_per_bar)
        if self._expected is None or abs(heard.bpm - state.tempo) > TEMPO_TOLERANCE:
            self.peer.set_tempo(heard.bpm)
            self._expected = heard.bpm
            state = replace(state, tempo=heard.bpm)
        error = bar_error(heard, state, link_at, audio_at)
        now = state.time
        if abs(error) * 60.0 / heard.bpm > PHASE_TOLERANCE and now - self._last_force >= FORCE_INTERVAL:
            self.peer.force_beat(state.beat_at(link_clock()) - error)
            self._last_force = now
            return replace(state, beat=state.beat - error)
        return state

    def close(self) -> None:
        self.peer.close()
