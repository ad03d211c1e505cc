"""Clip decks and the director that changes clips with the music.

A `Deck` holds one clip: its frame source, its decode worker and where it started. Loading a clip preloads
its first frames, so it shows within one output frame of its trigger. The `Director` owns two decks: it picks
the next clip from a bank (auto-advance every N bars or on a drop), preloads it into the idle deck, and
crossfades on the next beat/bar/phrase over a number of beats or seconds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from engine.clips.bank import AutoAdvance, BankClip, Selector
from engine.clips.decoder import DecodeWorker
from engine.clips.faults import ClipFaults
from engine.clips.playhead import Cue, Playback, frame_index
from engine.clips.quantize import Transition, schedule
from engine.clips.sources import open_source
from engine.errors import MediaError

log = logging.getLogger(__name__)
PRELOAD = 6  # frames decoded ahead
ADVANCE_LOOKAHEAD = 0.25  # beats: auto-advance decides this far before the bar line
RETRY_SECONDS = 1.0  # a bank whose clips all fail to open is looked at again this often, not every frame
MAX_FADE_STEP = 0.25  # beats a transition may advance in one frame: a beat tracker re-locking (jumping the
# clock forwards by up to a bar, most often in the first bars of a show) must not turn a fade into a cut


@dataclass(frozen=True)
class Frame:
    """What a deck shows now: frame data of a kind the GPU side knows (see render/cliptexture.py)."""

    kind: str
    size: tuple[int, int]
    payload: bytes | object
    index: int


class Deck:
    """One clip and its decode worker. A deck never goes black on its own: a clip that cannot be opened
    leaves the one it had playing, and a frame that cannot be read shows the last good one."""

    def __init__(self, name: str, wait: float = 0.0, faults: ClipFaults | None = None):
        self.name = name
        self.wait = wait  # offline renders wait for each frame (deterministic); live shows never do
        self.faults = faults or ClipFaults()
        self.clip: Path | None = None
        self.playback = Playback()
        self._worker: DecodeWorker | None = None
        self._cue = Cue(0.0, 0.0)
        self._last: Frame | None = None  # the last good frame shown (kept across a change of clip)
        self._last_clip: DecodeWorker | None = None  # the worker `_last` came from

    @property
    def loaded(self) -> bool:
        return self._worker is not None

    @property
    def misses(self) -> int:
        """Frames that were due but not decoded in time (each one showed the previous frame instead)."""
        return self._worker.misses if self._worker is not None else 0

    @property
    def broken(self) -> bool:
        """The clip on this deck failed to decode a frame (changed under the show)."""
        return self._worker is not None and self._worker.broken

    def load(self, path: Path, playback: Playback | None = None) -> bool:
        """Open and preload a clip (frames 0…PRELOAD). When it cannot be opened it is reported (once) and
        False returned; the deck keeps the clip it had."""
        try:
            source = open_source(path)
        except MediaError as exc:
            self.faults.report(path, f"{exc.message}; skipped, the deck keeps what it showed", kind="open")
            return False
        except Exception as exc:  # any decoder surprise on a damaged file is the same fault
            self.faults.report(path, f"cannot open ({type(exc).__name__}: {exc}); skipped", kind="open")
            return False
        if self._worker is not None:
            self._worker.close()
        self.clip = path
        self.playback = playback or Playback()
        self._worker = DecodeWorker(source, capacity=PRELOAD + 2, faults=self.faults)
        first = self._index(0)
        self._worker.want(tuple(range(first, first + PRELOAD)))
        return True

    def start(self, time: float, beat: float) -> None:
        """Frame 0 of the clip is at this moment (the last frame shown stays up until its first arrives)."""
        self._cue = Cue(time, beat)

    def _index(self, offset: int) -> int:
        count = self._worker.source.frame_count
        return count - 1 - offset if self.playback.reverse else offset

    def frame(self, time: float, beat: float | None) -> Frame | None:
        """The frame for now; the last one shown when the worker is late (never a black frame)."""
        if self._worker is None:
            return None
        source = self._worker.source
        index = frame_index(self.playback, source.frame_count, source.fps, self._cue, time, beat)
        step = -1 if self.playback.reverse else 1
        self._worker.want(tuple(index + step * k for k in range(PRELOAD)))
        if self._last is not None and self._last.index == index and self._last_clip is self._worker:
            return self._last
        payload = self._worker.get(index, wait=self.wait)
        if payload is not None:
            self._last = Frame(source.kind, source.size, payload, index)
            self._last_clip = self._worker
        return self._last

    def wait_ready(self, timeout: float = 2.0) -> bool:
        """Block until the first frame is decoded (offline renders: determinism over speed)."""
        import time as _time

        deadline = _time.monotonic() + timeout
        while self._worker and not self._worker.ready(self._index(0)):
            if _time.monotonic() > deadline:
                return False
            _time.sleep(0.001)
        return True

    def unload(self) -> None:
        if self._worker is not None:
            self._worker.close()
        self._worker = None
        self.clip = None
        self._last = self._last_clip = None


@dataclass(frozen=True)
class TransitionSpec:
    quantize: str = "bar"  # now, beat, bar, phrase4, phrase8, phrase16
    beats: float | None = 4.0
    seconds: float | None = None


@dataclass(frozen=True)
class Mix:
    """The frame on air (a), the incoming one (b), how far the mix is from a (0) to b (1), and which decks
    they come from (so each deck keeps its own texture)."""

    a: Frame | None
    b: Frame | None
    progress: float
    a_deck: str = "A"
    b_deck: str = "B"


class Director:
    """Changes clips with the music: preload into the idle deck, then a quantised transition."""

    def __init__(
        self,
        selector: Selector,
        advance: AutoAdvance | None = None,
        transition: TransitionSpec | None = None,
        beats_per_bar: int = 4,
        beat_sync: float | None = None,
        wait: float = 0.0,
        faults: ClipFaults | None = None,
    ):
        self.selector = selector
        self.advance = advance or AutoAdvance()
        self.spec = transition or TransitionSpec()
        self.beats_per_bar = beats_per_bar
        self.beat_sync = beat_sync
        self.faults = faults or ClipFaults()
        self.decks = (Deck("A", wait, self.faults), Deck("B", wait, self.faults))
        self.live = 0  # index of the deck on air
        self._transition: Transition | None = None
        self._last_advance_bar = 0
        self._previous_energy = 0.5
        self._started = False
        self._fade_beats = 0.0  # beats the running transition has shown (never jumps)
        self._retry_at = 0.0  # when to look for a playable clip again after none opened
        self._beat: float | None = None

    def playback_for(self, clip: BankClip) -> Playback:
        return Playback("pingpong" if clip.mode == "pingpong" else "loop", beats=self.beat_sync)

    def _load_next(self, deck: Deck, energy: float) -> bool:
        for _ in range(len(self.selector.clips)):
            clip = self.selector.next(energy)
            if deck.load(clip.path, self.playback_for(clip)):
                return True
        return False

    def fire(self, beat: float) -> None:
        """Start a transition to the preloaded clip at the next quantisation point."""
        if self._transition is None and self.decks[1 - self.live].loaded:
            self._transition = schedule(
                beat, self.spec.quantize, self.spec.beats, self.spec.seconds, self.beats_per_bar
            )

    def _skip_broken(self, live: Deck, idle: Deck, time: float, beat: float, energy: float) -> None:
        """A clip that broke under the show: the idle one is replaced, the one on air is left at the next
        quantisation point (the rotation goes on; both show their last good frame meanwhile)."""
        if self._transition is not None:
            return
        needs_clip = (idle.broken or not idle.loaded) and time >= self._retry_at
        if needs_clip and not self._load_next(idle, energy):  # nothing in the bank opens: look again later
            self._retry_at = time + RETRY_SECONDS
        if live.broken and idle.loaded and not idle.broken:
            self.fire(beat)

    def _fade_step(self, beat: float) -> float:
        step = 0.0 if self._beat is None else min(max(beat - self._beat, 0.0), MAX_FADE_STEP)
        self._beat = beat
        return step

    def update(self, time: float, beat: float, energy: float) -> Mix:
        live, idle = self.decks[self.live], self.decks[1 - self.live]
        step = self._fade_step(beat)
        if not self._started:
            self._started = self._load_next(live, energy)
            live.start(time, beat)
            self._load_next(idle, energy)
        self._skip_broken(live, idle, time, beat, energy)
        # Decide a little before the bar line, so the transition can start exactly on it.
        bar = math.floor((beat + ADVANCE_LOOKAHEAD) / self.beats_per_bar)
        if self._transition is None and self.advance.due(
            bar, self._last_advance_bar, energy, self._previous_energy
        ):
            self._last_advance_bar = bar
            self.fire(beat)
        self._previous_energy = energy
        progress = 0.0
        t = self._transition
        if t is not None and beat >= t.start_beat:
            if t.start_time is None:
                self._transition = t = Transition(t.start_beat, time, t.beats, t.seconds)
                self._fade_beats = 0.0
                idle.start(time, beat)
            else:
                self._fade_beats += step
            progress = t.progress(t.start_beat + self._fade_beats, time)
            if progress >= 1.0:  # the incoming deck is on air; the old one gets the next clip, preloaded
                self.live, self._transition = 1 - self.live, None
                self._load_next(live, energy)
                live, idle = idle, live
                progress = 0.0
        started = self._transition is not None and self._transition.start_time is not None
        a, b = live.frame(time, beat), idle.frame(time, beat) if started else None
        if b is None:
            return Mix(a, a, 0.0, live.name, live.name)
        return Mix(a, b, progress, live.name, idle.name)

    def close(self) -> None:
        for deck in self.decks:
            deck.unload()
