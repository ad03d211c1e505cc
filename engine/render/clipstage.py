"""The clip stage of the pipeline: fixed decks on the crossfader, or a director changing clips with the
music; each deck's current frame uploaded to its own texture (compressed when prepared)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import moderngl

from engine.clips.bank import AutoAdvance, Selector, load_bank
from engine.clips.deck import Deck, Director, Frame, Mix, TransitionSpec
from engine.clips.faults import ClipFaults
from engine.clips.playhead import Playback
from engine.render.cliptexture import ClipTexture
from engine.render.ndi_in import NdiDeck, ndi_source
from engine.show.preset import Preset

log = logging.getLogger(__name__)

FREE_RUNNING_BPM = 120.0  # beats for quantising transitions before the analysis has found a tempo


class MusicalClock:
    """A beat position for clips that is continuous and never runs backwards: it integrates the tempo the
    analysis hears (120 BPM until it hears one) and leans towards the analysis' bar phase, so transitions
    land on the bar lines the music has, and a re-locking beat tracker never makes clips jump back."""

    def __init__(self, beats_per_bar: int = 4):
        self.beats_per_bar = beats_per_bar
        self.beat = 0.0
        self._time: float | None = None

    def update(self, time: float, sources: Mapping[str, float]) -> float:
        tracked = sources.get("bpm", 0.0) > 0.0
        bpm = sources["bpm"] if tracked else FREE_RUNNING_BPM
        step = max(0.0, time - self._time) * bpm / 60.0 if self._time is not None else 0.0
        self.beat += step
        self._time = time
        if tracked and "bar_phase" in sources:
            n = self.beats_per_bar
            error = (sources["bar_phase"] * n - self.beat % n + n / 2) % n - n / 2  # shortest way round
            if abs(error) > 0.25:
                self.beat += error % n  # re-lock: jump forwards to the tracker's bar position
            else:
                self.beat += max(0.2 * error, -0.5 * step)  # small drift: lean gently, never backwards
        return self.beat


def intensity_for(energy: float) -> float:
    """The music's energy (0.5 steady, ~0.7 at a drop, ~0.3 in a breakdown) as a clip intensity 0..1."""
    return min(1.0, max(0.0, (energy - 0.35) / 0.35))


class ClipStage:
    def __init__(self, ctx: moderngl.Context, preset: Preset, wait: float):
        cs = preset.clip_settings
        self.textures = {"A": ClipTexture(ctx), "B": ClipTexture(ctx)}
        self.faults = ClipFaults()  # clips missing or damaged under the show, said once each
        self._shown: dict[str, Frame | None] = {"A": None, "B": None}
        self.director: Director | None = None
        self.decks: list[Deck] = []
        self.clock = MusicalClock()
        self.fade_seconds = cs.transition_seconds or 2.0  # fixed decks: how long a fired crossfade takes
        self._fade: tuple[float, float, float] | None = None  # (start time, from, to)
        self._override: float | None = None  # where a fired crossfade left the crossfader
        self._param = 0.0
        self._time = 0.0
        self._play = Playback(cs.mode, cs.speed, cs.reverse, cs.beat_sync)
        self.last_mix: Mix | None = None  # what the last frame mixed (the performance log reads it)
        self._folder = preset.clips[0].parent if preset.clips else None
        if cs.bank is not None:
            self.director = Director(
                Selector(load_bank(cs.bank, cs.tags), cs.policy),
                AutoAdvance(cs.advance_bars, cs.advance_on_drop),
                TransitionSpec(cs.quantize, cs.transition_beats, cs.transition_seconds),
                beat_sync=cs.beat_sync,
                wait=wait,
                faults=self.faults,
            )
        else:
            for name, path in zip("AB", preset.clips, strict=False):
                make = NdiDeck if ndi_source(path) else Deck  # "ndi:NAME": a network feed
                deck = make(name, wait, self.faults)
                if deck.load(path, self._play):  # a missing clip is skipped (logged): the show goes on
                    self.decks.append(deck)
        self._begun = False  # the fixed decks' clips have started (with the first frame they could show)

    def _fixed_decks(self, time: float, beat: float, crossfade: float) -> Mix:
        """The fixed decks' frames for now. Their clips start at frame 0 with the first frame they can
        show (until then each update starts them again, now): the frames their load decoded ahead while
        the look was built, whenever the look is first drawn (or primed, just before it comes on). Started
        at show time 0, a look that came on at 15 s asked for a frame hundreds of frames in, and an H.264
        clip's decoder ran through all the frames between in the frames of the change (35-45 ms of CPU a
        deck, measured: the clip thread beside the rasteriser on 2 cores, the autopilot's worst frame 2.3x
        the median); started when first asked, a busy machine's slow first decode let show time run past
        the frames decoded ahead."""
        if not self._begun:
            for deck in self.decks:
                deck.start(time, beat)
        first, last = self.decks[0], self.decks[-1]
        a, b = first.frame(time, beat), last.frame(time, beat)
        self._begun = self._begun or (a is not None and b is not None)
        return Mix(a, b, crossfade, first.name, last.name)

    def _texture(self, deck: str, frame: Frame | None) -> moderngl.Texture | None:
        if frame is None:  # nothing decoded (yet, or any more): the deck's last good picture, if it had one
            return self.textures[deck].current
        if frame is not self._shown[deck]:
            self.textures[deck].upload(frame.kind, frame.size, frame.payload)
            self._shown[deck] = frame
        return self.textures[deck].current

    def update(self, time: float, crossfade: float, sources: Mapping[str, float]):
        """(start texture, end texture, progress) for the transition shader, or None when no clip plays."""
        beat = self.clock.update(time, sources)
        self._time = time
        crossfade = self._crossfade(time, crossfade)
        if self.director is not None:
            mix = self.director.update(time, beat, intensity_for(sources.get("energy", 0.5)))
        elif self.decks:
            mix = self._fixed_decks(time, beat, crossfade)
        else:
            return None
        self.last_mix = mix
        a = self._texture(mix.a_deck, mix.a)
        b = self._texture(mix.b_deck, mix.b)
        if a is None and b is None:
            return None
        return (a or b), (b or a), mix.progress

    # --- operator actions (applied by the render thread between frames) ----------------------------

    def _crossfade(self, time: float, param: float) -> float:
        """The crossfader: the parameter, unless a fired crossfade is running or has moved it since."""
        if param != self._param:  # the operator moved the fader: it wins again
            self._param, self._fade, self._override = param, None, None
        if self._fade is not None:
            start, a, b = self._fade
            k = min(1.0, (time - start) / self.fade_seconds) if self.fade_seconds > 0 else 1.0
            if k >= 1.0:
                self._fade, self._override = None, b
            return a + (b - a) * k
        return self._override if self._override is not None else param

    def fire(self) -> None:
        """Crossfade to the other deck: quantised by the director, or over `fade_seconds` on fixed decks."""
        if self.director is not None:
            self.director.fire(self.clock.beat)
            return
        now = self._crossfade(self._time, self._param)
        self._fade = (self._time, now, 0.0 if now >= 0.5 else 1.0)

    def set_duration(self, seconds: float) -> None:
        self.fade_seconds = max(0.0, float(seconds))
        if self.director is not None:
            spec = self.director.spec
            self.director.spec = TransitionSpec(spec.quantize, None, self.fade_seconds)

    def names(self) -> list[str]:
        """The clips `select` accepts by name: the bank's, or the fixed decks' folder's."""
        if self.director is not None:
            return [c.name for c in self.director.selector.clips]
        if self._folder is None or not self._folder.is_dir():
            return []
        return sorted(
            p.stem for p in self._folder.iterdir() if p.suffix in (".hlclip", ".mp4", ".mov", ".webm")
        )

    def select(self, deck: str, ref: str | float) -> bool:
        """Load a clip on deck a/b by name or 1-based index: from the bank (it comes in with the next
        transition), or from the fixed decks' folder (it starts now)."""
        if self.director is not None:
            clips = self.director.selector.clips
            clip = _pick(clips, ref, lambda c: c.name)
            if clip is None:
                return False
            idle = self.director.decks[1 - self.director.live]
            return idle.load(clip.path, self.director.playback_for(clip))
        if self._folder is None:
            return False
        files = sorted(p for p in self._folder.iterdir() if p.suffix in (".hlclip", ".mp4", ".mov", ".webm"))
        path = _pick(files, ref, lambda p: p.stem)
        target = next((d for d in self.decks if d.name.lower() == deck.lower()), None)
        if path is None or target is None or not target.load(path, self._play):
            return False
        target.start(self._time, self.clock.beat)
        return True

    def release(self) -> None:
        self.close_decks()
        self.release_textures()

    def close_decks(self) -> None:
        """Stop the decoders and close the files. No GL: a look that went off does this on a thread of
        its own, since joining a decoder in the middle of a frame can take tens of milliseconds."""
        if self.director is not None:
            self.director.close()
        for deck in self.decks:
            deck.unload()

    def release_textures(self) -> None:
        """The GL side of release() (the render thread's part)."""
        for name, texture in self.textures.items():
            if texture.uploads:  # --debug says whether HAP reached the GPU still compressed
                log.debug(
                    "clip deck %s: %d of %d frames uploaded still compressed",
                    name,
                    texture.compressed_uploads,
                    texture.uploads,
                )
            texture.release()


def _pick(items, ref, name_of):
    """An item by 1-based index ("2", 2.0) or by name (case-insensitive)."""
    text = str(ref).strip()
    try:
        index = int(float(text)) - 1
        return items[index] if 0 <= index < len(items) else None
    except ValueError:
        return next((item for item in items if name_of(item).lower() == text.lower()), None)
