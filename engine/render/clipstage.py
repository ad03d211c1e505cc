"""The clip stage of the pipeline: fixed decks on the crossfader, or a director changing clips with the
music; each deck's current frame uploaded to its own texture (compressed when prepared)."""

from __future__ import annotations

from collections.abc import Mapping

import moderngl

from engine.clips.bank import AutoAdvance, Selector, load_bank
from engine.clips.deck import Deck, Director, Frame, Mix, TransitionSpec
from engine.clips.playhead import Playback
from engine.render.cliptexture import ClipTexture
from engine.show.preset import Preset

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
        self._shown: dict[str, Frame | None] = {"A": None, "B": None}
        self.director: Director | None = None
        self.decks: list[Deck] = []
        self.clock = MusicalClock()
        if cs.bank is not None:
            self.director = Director(
                Selector(load_bank(cs.bank, cs.tags), cs.policy),
                AutoAdvance(cs.advance_bars, cs.advance_on_drop),
                TransitionSpec(cs.quantize, cs.transition_beats, cs.transition_seconds),
                beat_sync=cs.beat_sync,
                wait=wait,
            )
        else:
            play = Playback(cs.mode, cs.speed, cs.reverse, cs.beat_sync)
            for name, path in zip("AB", preset.clips, strict=False):
                deck = Deck(name, wait)
                if deck.load(path, play):  # a missing clip is skipped (logged): the show goes on
                    deck.start(0.0, 0.0)
                    self.decks.append(deck)

    def _texture(self, deck: str, frame: Frame | None) -> moderngl.Texture | None:
        if frame is None:
            return None
        if frame is not self._shown[deck]:
            self.textures[deck].upload(frame.kind, frame.size, frame.payload)
            self._shown[deck] = frame
        return self.textures[deck].current

    def update(self, time: float, crossfade: float, sources: Mapping[str, float]):
        """(start texture, end texture, progress) for the transition shader, or None when no clip plays."""
        beat = self.clock.update(time, sources)
        if self.director is not None:
            mix = self.director.update(time, beat, intensity_for(sources.get("energy", 0.5)))
        elif self.decks:
            first, last = self.decks[0], self.decks[-1]
            mix = Mix(first.frame(time, beat), last.frame(time, beat), crossfade, first.name, last.name)
        else:
            return None
        a = self._texture(mix.a_deck, mix.a)
        b = self._texture(mix.b_deck, mix.b)
        if a is None and b is None:
            return None
        return (a or b), (b or a), mix.progress

    def release(self) -> None:
        if self.director is not None:
            self.director.close()
        for deck in self.decks:
            deck.unload()
        for texture in self.textures.values():
            texture.release()
