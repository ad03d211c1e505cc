"""The musical clock: tempo + beat phase + bar, with the operator's hands on it.

`BeatClock` runs on the analysis thread, fed one onset-strength value per hop. It publishes an immutable
`BeatGrid` (see features.py) that the render thread evaluates at the frame's own time, so beat-locked
values are right at the moment a frame is shown, not when the audio was analysed.

Operator controls (tap, resync, nudge, ×2, ÷2, manual BPM, lock) are `TempoCommand`s, and a song's tempo
range and bar length a `ClockSetup`: any thread may hand one to `Analyzer.command()`; the analysis thread
applies them before its next hop, so the clock has one owner and no locks.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from engine.analysis.beats import Beat, BeatSettings, BeatTracker
from engine.analysis.features import BeatGrid
from engine.analysis.harmony import REACH, Chroma
from engine.analysis.tempo import TempoSettings, TempoTracker, _related, fold_octaves

MIN_BPM, MAX_BPM = 20.0, 400.0  # any tempo the clock can hold (taps, manual BPM, the auto range)
CommandKind = Literal["tap", "resync", "nudge", "double", "half", "bpm", "lock", "auto"]


@dataclass(frozen=True)
class TempoCommand:
    """An operator action on the musical clock.

    kind    value                          at
    tap     -                              audio time of the tap (beat happened then)
    resync  -                              audio time that is beat 1 of a bar
    nudge   fraction of a beat; + = earlier -
    double  -                              -
    half    -                              -
    bpm     BPM to hold; 0 = follow music  -
    lock    1 = hold current BPM, 0 = free -
    auto    -                              -   (back to the music: no manual, locked or tapped tempo)

    `at` is show/audio time in seconds (the render thread's frame time); None = the analyzer's current time.
    """

    kind: CommandKind
    value: float = 0.0
    at: float | None = None


@dataclass(frozen=True)
class ClockSetup:
    """What the music is expected to be, set per song by a preset's [tempo] table (or `analyze
    --min-bpm/--max-bpm/--beats-per-bar`): the range the auto-BPM folds octave errors into, and the beats
    per bar. Handed to `Analyzer.command()` mid-show, it keeps the beat and what was heard."""

    min_bpm: float = TempoSettings.min_bpm
    max_bpm: float = TempoSettings.max_bpm
    beats_per_bar: int = 4
    hear_metre: bool = True  # the clock may move to the bar length it hears (3 or 4); False: it is fixed

    def __post_init__(self):
        if not MIN_BPM <= self.min_bpm < self.max_bpm <= MAX_BPM:
            raise ValueError(
                f"tempo range {self.min_bpm:g}..{self.max_bpm:g} BPM: the slowest must be below the fastest,"
                f" both within {MIN_BPM:g}..{MAX_BPM:g}"
            )
        if not 1 <= self.beats_per_bar <= 16:
            raise ValueError(f"beats per bar {self.beats_per_bar}: use 1..16")

    def settings(self) -> ClockSettings:
        return ClockSettings(
            self.beats_per_bar,
            replace(TempoSettings(), min_bpm=self.min_bpm, max_bpm=self.max_bpm),
            hear_metre=self.hear_metre,
        )


@dataclass(frozen=True)
class ClockSettings:
    beats_per_bar: int = 4
    tempo: TempoSettings = field(default_factory=TempoSettings)
    beat: BeatSettings = field(default_factory=BeatSettings)
    tempo_bass: float = 0.5  # the tempo hears the whole spectrum's flux plus this much of the bass band's
    tap_timeout: float = 2.0  # a pause longer than this starts a new tap sequence
    tap_hold_bars: float = 12.0  # a tapped tempo holds until the music clearly disagrees this many bars...
    tap_confidence: float = 0.3  # ...with this periodicity at least (silence, a breakdown never release it)
    accent_memory: float = 8.0  # downbeat evidence forgets over ~this many bars
    downbeat_switch: float = 1.3  # another beat of the bar must have this much more evidence to become beat 1
    downbeat_harmony: float = 12.0  # downbeat evidence: this times the harmony's change across the beat
    # (Chroma: a cosine distance, ~0.3 at a chord change, ~0.02 between two hits of a drum loop)...
    downbeat_bass: float = 0.5  # ...plus this times the bass onset on it against its recent mean over beats
    # (the bass alone without Chroma). Raw, not normalised, so drums alone cannot make harmony out of noise
    harmony_span: float = 0.8  # beats of harmony compared on either side of a beat...
    harmony_bar: float = 0.5  # ...and bars of it: a chord held for the bar changes across its first beat
    # and not its third, which the beat's span alone cannot tell apart when chords change every two beats
    # as well. The evidence is the mean change over the two (downbeat F on the unseen LMMS songs 0.38 ->
    # 0.45, Frets on Fire 0.30 -> 0.35)
    hear_metre: bool = True  # move beats_per_bar to the metre heard (Metre); False: a preset fixed it
    metre: MetreSettings = field(default_factory=lambda: MetreSettings())


@dataclass(frozen=True)
class TapHold:
    """A tapped tempo the clock holds (bpm 0: none), since when (audio time), and for how long (seconds)
    the music has agreed or clearly disagreed with it in a row."""

    bpm: float = 0.0
    since: float = 0.0
    agree: float = 0.0
    disagree: float = 0.0


class TapTempo:
    """Taps → BPM from the median interval of the last taps."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.taps: list[float] = []

    def tap(self, at: float) -> float | None:
        """Record a tap; the tapped BPM once there are two or more taps in a row."""
        if self.taps and not 0.0 < at - self.taps[-1] <= self.timeout:
            self.taps = []
        self.taps = [*self.taps[-7:], at]
        if len(self.taps) < 2:
            return None
        return 60.0 / float(np.median(np.diff(self.taps)))


class Downbeat:
    """Which beat of the bar is the one: the position (mod beats_per_bar) whose beats carry the most
    evidence (the harmony changing across them, the bass onset on them), remembered over several bars, and
    switched only on clear evidence."""

    def __init__(self, beats_per_bar: int, memory_bars: float, switch: float):
        self.n = beats_per_bar
        self.switch = switch
        self.keep = float(np.exp(-1.0 / (memory_bars * beats_per_bar)))
        self.accent = np.zeros(beats_per_bar)
        self.offset = 0  # beat count of some downbeat, modulo n
        self.anchor = 0  # the beat count the operator last said was a downbeat
        self.forced = False

    def add(self, count: int, strength: float) -> None:
        pos = count % self.n
        self.accent *= self.keep
        self.accent[pos] += strength
        if self.forced:
            return
        best = int(np.argmax(self.accent))
        if self.accent[best] > self.switch * self.accent[self.offset % self.n]:
            self.offset = best

    def resync(self, count: int) -> None:
        """The operator says beat `count` is a downbeat: it stays one, whatever the accents say."""
        self.anchor = count
        self.offset = count % self.n
        self.accent[:] = 0.0
        self.accent[self.offset] = 1e-6
        self.forced = True


@dataclass(frozen=True)
class MetreSettings:
    candidates: tuple[int, ...] = (3, 4)  # bar lengths the clock may hear (4 first: the default)
    memory_beats: float = 24.0  # the evidence of each bar position forgets over ~this many beats
    switch: float = 2.0  # another bar length must be this much more contrasted to take over...
    floor: float = 0.35  # ...and contrasted at least this much (max over mean of its positions, less 1)
    settle_bars: float = 4.0  # ...after at least this many bars of it since the start or the last switch,
    sustain_bars: float = 1.0  # ...having had the evidence for this many of its bars in a row
    accent: float = 0.5  # weight of the beat's loudness (Accent) against its mean, beside the downbeat
    # evidence (harmony change and bass): a waltz's accented one, a kick on one alone


class Metre:
    """How many beats a bar has: fed each beat's downbeat evidence (Downbeat.add's), it keeps the evidence
    per position modulo each candidate length and hears the length whose positions differ most. Music in
    three has one strong position in three and none in four; music in four (or two) has its strong beats
    every four (or two) beats and none in three. A switch needs a clear and lasting difference (hysteresis),
    so a fill or a break does not turn a song into a waltz."""

    def __init__(self, settings: MetreSettings, beats_per_bar: int):
        self.settings = settings
        self.keep = float(np.exp(-1.0 / settings.memory_beats))
        self.evidence = {n: np.zeros(n) for n in settings.candidates}
        self.beats_per_bar = beats_per_bar
        self._since = 0  # beats since the start or the last switch
        self._ahead = 0  # beats in a row another length has had the evidence to take over

    def contrast(self, n: int) -> float:
        """How much the strongest position of bars of n stands out: its evidence over the mean, less 1."""
        e = self.evidence[n]
        mean = float(e.mean())
        return float(e.max()) / mean - 1.0 if mean > 1e-9 else 0.0

    def add(self, count: int, strength: float) -> int | None:
        """One beat's evidence; the new bar length when it switches, else None."""
        for n, e in self.evidence.items():
            e *= self.keep
            e[count % n] += strength
        self._since += 1
        s = self.settings
        current = self.beats_per_bar
        here = self.contrast(current) if current in self.evidence else 0.0
        best = max(self.evidence, key=self.contrast)
        there = self.contrast(best)
        if best == current or there < s.floor or there < s.switch * here:
            self._ahead = 0
            return None
        self._ahead += 1
        if self._since < s.settle_bars * max(best, current) or self._ahead < s.sustain_bars * best:
            return None
        self.beats_per_bar = best
        self._since = self._ahead = 0
        return best


class BeatClock:
    """Tempo tracker + beat tracker + downbeat + operator state → beats and the current `BeatGrid`."""

    def __init__(
        self, hop_seconds: float, settings: ClockSettings | None = None, harmony: Chroma | None = None
    ):
        s = settings or ClockSettings()
        self.harmony = harmony
        self.settings = s
        self.dt = hop_seconds
        self.tempo = TempoTracker(hop_seconds, s.tempo)
        self.beat = BeatTracker(hop_seconds, 60.0 / MIN_BPM, s.beat)  # any later range fits
        self.downbeat = Downbeat(s.beats_per_bar, s.accent_memory, s.downbeat_switch)
        self.metre = Metre(s.metre, s.beats_per_bar)
        self.taps = TapTempo(s.tap_timeout)
        self.manual_bpm = 0.0  # > 0: the operator set the tempo
        self.locked_bpm = 0.0  # > 0: the operator locked the tempo at this value
        self.hold = TapHold()  # a tapped tempo, held against the tracker until the music disagrees
        self.octave = 0  # the operator's ×2 / ÷2 on top of the tracked tempo (a power of two)
        self.time = 0.0
        self._accent_window: deque[tuple[float, float, float]] = deque()  # (frame time, bass, accent) per hop
        self._pending_accent: Beat | None = None
        # (beat, its bass strength, its accent) awaiting the harmony after it
        self._pending_harmony: list[tuple[Beat, float, float]] = []
        self._bass_mean = self._bass_weight = 0.0  # recent mean bass strength over beats (weighted sum)
        self._accent_mean = self._accent_weight = 0.0  # the same for the beats' accent
        self._spans_key: tuple | None = None  # what _harmony_spans were computed for, and they
        self._spans = (0.0, 0.0)
        self.grid = BeatGrid(beats_per_bar=s.beats_per_bar)

    @property
    def bpm(self) -> float:
        if self.manual_bpm > 0:
            return self.manual_bpm
        if self.locked_bpm > 0:
            return self.locked_bpm
        if self.hold.bpm > 0:
            return self.hold.bpm
        return self.heard_bpm

    @property
    def heard_bpm(self) -> float:
        """What the tracker hears, in the octave the operator chose."""
        return self.tempo.estimate.bpm * 2.0**self.octave

    def step(
        self,
        flux: float,
        bass: float,
        accent: float,
        level: float,
        end_time: float,
        snare: float = 0.0,
        kick: float = 0.0,
    ) -> Beat | None:
        """One hop: the spectral flux over all bins and in the bass band (SpectralFlux) drive the tempo
        (weighed by the sound level, RMS; the snare and kick strengths, Accent.snare_and_kick, tell it the
        backbeat), the band-balanced accent (Accent) places the beat, and the bass flux marks downbeats."""
        s = self.settings
        self.time = end_time
        if self.tempo.step(flux + s.tempo_bass * bass, level, snare, kick) and self.hold.bpm > 0:
            self._judge_hold()
        bpm = self.bpm
        follow = self.manual_bpm <= 0 and self.hold.bpm <= 0  # a tapped phase stays where it was tapped
        beat = self.beat.step(accent, 60.0 / bpm if bpm > 0 else 0.0, follow=follow)
        self._track_accent(self.beat.frame_time(round(end_time / self.dt) - 1), bass, accent, beat)
        if beat is not None or self._grid_stale(bpm):
            self.grid = self._make_grid(bpm)
        return beat

    def apply(self, command: TempoCommand | ClockSetup) -> None:
        """Carry out an operator command or a new setup (analysis thread only: Analyzer.command queues
        them)."""
        if isinstance(command, ClockSetup):
            self._set_up(command)
            return
        at = self.time if command.at is None else command.at
        period = 60.0 / self.bpm if self.bpm > 0 else 0.5
        kind = command.kind
        if kind == "tap":
            bpm = self.taps.tap(at)
            if bpm is not None and MIN_BPM <= bpm <= MAX_BPM:
                self._set_tempo(bpm)
                period = 60.0 / bpm
            self.beat.place(at, period, self.time)
        elif kind == "resync":
            self.downbeat.resync(self.beat.place(at, period, self.time))
        elif kind == "nudge":
            self.beat.shift(-command.value * period)  # positive: the beat comes earlier
        elif kind in ("double", "half"):
            self._scale(2.0 if kind == "double" else 0.5)
        elif kind == "bpm":
            self.manual_bpm = max(0.0, float(command.value))
        elif kind == "lock":
            self.locked_bpm = self.bpm if command.value else 0.0
            self.hold = TapHold()  # a lock holds whatever was tapped; releasing it goes back to the music
        elif kind == "auto":
            self.manual_bpm = self.locked_bpm = 0.0
            self.hold = TapHold()
            self.octave = 0
            self.tempo.forget_recenter()
        else:
            raise ValueError(f"unknown tempo command {kind!r}")
        self.grid = self._make_grid(self.bpm)

    def _scale(self, factor: float) -> None:
        """×2 / ÷2 of whatever sets the tempo now; a press that would leave MIN_BPM..MAX_BPM does nothing
        (17 presses of ×2 stay a tempo)."""

        def scaled(bpm: float) -> float:
            return bpm * factor if MIN_BPM <= bpm * factor <= MAX_BPM else bpm

        if self.manual_bpm > 0:
            self.manual_bpm = scaled(self.manual_bpm)
        elif self.locked_bpm > 0:
            self.locked_bpm = scaled(self.locked_bpm)
        elif self.hold.bpm > 0:
            held = scaled(self.hold.bpm)
            if held != self.hold.bpm:  # the tracker's octave goes along, so a hand-over does not jump
                self.hold = replace(self.hold, bpm=held)
                self.octave += 1 if factor > 1 else -1
        else:
            heard = self.heard_bpm or self.settings.tempo.prior_bpm
            if MIN_BPM <= heard * factor <= MAX_BPM:
                self.octave += 1 if factor > 1 else -1

    def _set_tempo(self, bpm: float) -> None:
        if self.manual_bpm > 0:
            self.manual_bpm = bpm
        elif self.locked_bpm > 0:
            self.locked_bpm = bpm
        else:
            t = self.settings.tempo
            self.octave = round(np.log2(bpm / fold_octaves(bpm, t.min_bpm, t.max_bpm)))
            self.tempo.recenter(bpm / 2.0**self.octave)
            self.hold = TapHold(bpm, since=self.time)

    def _judge_hold(self) -> None:
        """After each tempo update: the tapped tempo hands over to the tracker once the music agrees with it
        for a bar, and gives way once the music has clearly disagreed (another tempo, not an octave of it,
        heard with confidence) for `tap_hold_bars` bars; an octave of it, silence or a breakdown keep it."""
        s = self.settings
        if self.time - self.hold.since < s.tempo.settle:  # the tracker is still hearing afresh
            return
        estimate = self.tempo.estimate
        heard, held = self.heard_bpm, self.hold.bpm
        bar = s.beats_per_bar * 60.0 / held
        confident = estimate.periodicity >= s.tap_confidence and heard > 0
        step = s.tempo.update
        if confident and _related(heard / held, (1.0,)):
            self.hold = replace(self.hold, agree=self.hold.agree + step, disagree=0.0)
            if self.hold.agree >= bar:
                self.hold = TapHold()  # the music plays what was tapped: the tracker goes on from here
        elif not confident or _related(heard / held, (2.0, 0.5)):
            self.hold = replace(self.hold, agree=0.0, disagree=0.0)
        else:
            self.hold = replace(self.hold, agree=0.0, disagree=self.hold.disagree + step)
            if self.hold.disagree >= s.tap_hold_bars * bar:
                self.hold = TapHold()
                self.octave = 0  # back to the music as the tracker hears it in the song's range
                self.tempo.forget_recenter()

    def _set_up(self, setup: ClockSetup) -> None:
        """A new range keeps the tempo evidence inside it; a new bar length keeps a downbeat the operator
        set (its count still starts a bar) and weighs the accents again."""
        self.tempo.set_range(setup.min_bpm, setup.max_bpm)
        s = self.settings
        self.metre.beats_per_bar = setup.beats_per_bar
        if setup.beats_per_bar != s.beats_per_bar:
            old = self.downbeat
            self.downbeat = Downbeat(setup.beats_per_bar, s.accent_memory, s.downbeat_switch)
            if old.forced:
                self.downbeat.resync(old.anchor)
        tempo = replace(s.tempo, min_bpm=setup.min_bpm, max_bpm=setup.max_bpm)
        self.settings = replace(
            s, tempo=tempo, beats_per_bar=setup.beats_per_bar, hear_metre=setup.hear_metre
        )
        self.grid = self._make_grid(self.bpm)

    def _track_accent(self, frame_time: float, bass: float, accent: float, beat: Beat | None) -> None:
        """Downbeat evidence: the strongest bass flux and accent within ±40 ms of each beat (judged 40 ms
        after it)."""
        window = self._accent_window
        while window and window[0][0] <= frame_time - 0.1:
            window.popleft()
        window.append((frame_time, bass, accent))
        if beat is not None:
            self._pending_accent = beat
        pending = self._pending_accent
        if pending is not None and frame_time >= pending.time + 0.04:
            near = [(b, a) for t, b, a in self._accent_window if abs(t - pending.time) <= 0.04]
            on_beat_bass = max((b for b, _ in near), default=0.0)
            on_beat_accent = max((a for _, a in near), default=0.0)
            if self.harmony is None:
                self._bar_evidence(pending.count, on_beat_bass, on_beat_accent)
            else:
                self._pending_harmony.append((pending, on_beat_bass, on_beat_accent))
            self._pending_accent = None
        if self._pending_harmony:
            self._weigh_harmony(self.time)

    def _weigh_harmony(self, now: float) -> None:
        """Downbeat evidence for the beats whose harmony after them has been heard: its change across the
        beat plus some of the bass on it against its recent mean over beats."""
        spans = self._harmony_spans()
        span = max(spans)
        if now < self._pending_harmony[0][0].time + span:  # the harmony after it is still being played
            return
        keep = math.exp(-1.0 / (4 * self.settings.beats_per_bar))  # means over ~4 bars
        while self._pending_harmony:
            beat, bass, accent = self._pending_harmony[0]
            if now < beat.time + span:
                return
            changes = [self.harmony.change(beat.time, sp, now) for sp in spans]
            if None in changes:
                if now > beat.time + 3 * span:  # never will be (a dropout): skip it
                    self._pending_harmony.pop(0)
                    continue
                return
            self._pending_harmony.pop(0)
            change = sum(changes) / len(changes)
            self._bass_mean = keep * self._bass_mean + bass
            self._bass_weight = keep * self._bass_weight + 1.0
            relative_bass = bass * self._bass_weight / max(self._bass_mean, 1e-9)
            s = self.settings
            self._bar_evidence(
                beat.count, s.downbeat_harmony * change + s.downbeat_bass * relative_bass, accent
            )

    def _bar_evidence(self, count: int, strength: float, accent: float) -> None:
        """A beat's downbeat evidence goes to the downbeat; with its accent against the beats' mean accent,
        to the metre, which may change the bar length."""
        keep = math.exp(-1.0 / (4 * self.settings.beats_per_bar))
        self._accent_mean = keep * self._accent_mean + accent
        self._accent_weight = keep * self._accent_weight + 1.0
        self.downbeat.add(count, strength)
        if not self.settings.hear_metre or self.manual_bpm > 0 or self.hold.bpm > 0:
            return  # beats the operator placed (tapped, manual) are not the music's: they tell no metre
        relative = accent * self._accent_weight / max(self._accent_mean, 1e-9)
        heard = self.metre.add(count, strength + self.settings.metre.accent * relative)
        if heard is not None:
            self._switch_metre(heard)

    def _switch_metre(self, beats_per_bar: int) -> None:
        """Count bars of `beats_per_bar` from now, the downbeat starting from the metre's evidence."""
        s = self.settings
        old = self.downbeat
        self.downbeat = Downbeat(beats_per_bar, s.accent_memory, s.downbeat_switch)
        self.downbeat.accent[:] = self.metre.evidence.get(beats_per_bar, np.zeros(beats_per_bar))
        self.downbeat.offset = int(np.argmax(self.downbeat.accent))
        if old.forced:
            self.downbeat.resync(old.anchor)
        self.settings = replace(s, beats_per_bar=beats_per_bar)
        self.grid = self._make_grid(self.bpm)

    def _harmony_spans(self) -> tuple[float, float]:
        """Seconds of harmony compared on either side of a beat: a beat's worth and a part of the bar (kept
        while the tempo and the bar length stay: the clock asks every hop a beat waits for its harmony)."""
        s = self.settings
        bpm = self.bpm
        key = (bpm, s.beats_per_bar, s.harmony_span, s.harmony_bar)
        if self._spans_key != key:
            beat = 60.0 / bpm if bpm > 0 else 0.5
            self._spans_key = key
            self._spans = (s.harmony_span * beat, min(s.harmony_bar * s.beats_per_bar * beat, REACH))
        return self._spans

    def _grid_stale(self, bpm: float) -> bool:
        g = self.grid
        next_beat = self.beat.next_beat
        return (
            abs(g.bpm - bpm) > 1e-9
            or (next_beat is not None and abs(g.next_beat - next_beat) > 1e-9)
            or abs(g.confidence - self.tempo.estimate.confidence) > 0.01
        )

    def _make_grid(self, bpm: float) -> BeatGrid:
        b = self.beat
        if bpm <= 0 or b.next_beat is None:
            return BeatGrid(beats_per_bar=self.settings.beats_per_bar)
        last = b.last_beat if b.last_beat is not None else b.next_beat - 60.0 / bpm
        return BeatGrid(
            bpm=bpm,
            confidence=1.0 if self.operator_tempo else self.tempo.estimate.confidence,
            last_beat=last,
            next_beat=b.next_beat,
            count=b.beats,  # the count the next beat will have
            beats_per_bar=self.settings.beats_per_bar,
            downbeat=self.downbeat.offset,
            locked=self.operator_tempo,
            **self._runner_up(),
        )

    def _runner_up(self) -> dict[str, float]:
        """The tracker's runner-up tempo, in the octave the operator chose (none while the operator's tempo
        is the clock's)."""
        e = self.tempo.estimate
        if self.operator_tempo:
            return {"runner_up": 0.0, "runner_up_share": 0.0}
        return {"runner_up": e.runner_up * 2.0**self.octave, "runner_up_share": e.runner_up_share}

    @property
    def operator_tempo(self) -> bool:
        """Whether the operator's tempo (manual, locked or tapped) is the clock's now."""
        return self.manual_bpm > 0 or self.locked_bpm > 0 or self.hold.bpm > 0
