"""A look coming in live is built while the old one plays, a piece a frame, so the frame that puts it on
screen compiles nothing; looks abandoned on the way leave no GL objects behind; a live morph stays one look
long a frame; a morph that cannot run cuts to the new look and says so, and the show goes on."""

from __future__ import annotations

import time

import pytest

from engine.analysis.features import silent_features
from engine.app import Show
from engine.clock import FrameTime
from engine.paths import PRESETS_DIR
from engine.render.context import Offscreen
from engine.show import morph
from engine.show.morph import MorphSpec
from engine.show.preset import load_preset

SIZE = (96, 54)
TUNNEL = PRESETS_DIR / "library" / "techno-tunnel.toml"  # three layers, no clips
SUNSET = PRESETS_DIR / "library" / "house-sunset.toml"  # two layers, no clips


class LiveShow:
    """A live Show (looks built aside, as `perform` runs it) drawn frame by frame from the test."""

    def __init__(self, ctx, preset):
        self.show = Show(ctx, load_preset(preset), SIZE, live=True)
        self.show.build_looks_aside()
        self.target = Offscreen(ctx, SIZE)
        self.index = 0

    def frame(self, before_draw=lambda adopted: None) -> bool:
        """One frame as the live loop draws it; True when it brought in a new look."""
        self.index += 1
        n = self.index
        adopted = self.show.adopt_look()
        before_draw(adopted)
        ft = FrameTime(n, n / 30, 1 / 30, (2000.0, 1.0, 1.0, 0.0))
        self.show.draw(ft, silent_features(("bass",)), self.target.fbo)
        return adopted

    def until(self, done, timeout: float = 60.0) -> int:
        frames, deadline = 0, time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            self.frame()
            frames += 1
            time.sleep(0.005)
        assert done(), "the requested look never came"
        return frames

    def close(self) -> None:
        self.target.release()
        self.show.release()


def gl_objects() -> int:
    """moderngl objects alive, but for queries: those are pooled (engine/render/program.py), so their
    count is the most programs ever alive at once, not what is held now."""
    import gc

    import moderngl

    kinds = (moderngl.Texture, moderngl.Framebuffer, moderngl.Program, moderngl.Buffer, moderngl.VertexArray)
    return sum(
        1
        for o in gc.get_objects()
        if issubclass(type(o), kinds)
        and not isinstance(o.mglo, moderngl.InvalidObject)  # type(): no __class__
    )


@pytest.fixture
def live(gl_ctx):
    run = LiveShow(gl_ctx, SUNSET)
    yield run
    run.close()


def test_a_look_is_built_a_piece_a_frame_and_the_frame_that_shows_it_compiles_nothing(
    live, gl_ctx, monkeypatch
):
    show = live.show
    show.staging.budget = 0.0  # one piece a frame, as on a busy machine
    compiled: list[int] = []
    real_program = gl_ctx.program
    monkeypatch.setattr(
        gl_ctx, "program", lambda *a, **k: compiled.append(live.index) or real_program(*a, **k)
    )
    show.request(load_preset(TUNNEL))
    live.until(lambda: show.staging.building)
    building_from = live.index
    assert show.preset.path == SUNSET  # the old look plays on while the new one is built
    live.until(lambda: show.preset.path == TUNNEL)
    shown_at = live.index
    assert shown_at - building_from >= 3, "the three programs were not spread over frames"
    assert shown_at not in compiled, "the frame that showed the look compiled a shader"
    per_frame = {i: compiled.count(i) for i in compiled}
    assert max(per_frame.values()) <= 1, per_frame
    assert len(compiled) >= 3  # each of the look's programs, once, in the frames before
    live.frame()
    assert not show.guards.errors()


def test_looks_abandoned_on_the_way_leave_no_gl_objects(live):
    show = live.show
    tunnel, sunset = load_preset(TUNNEL), load_preset(SUNSET)
    show.request(tunnel)
    live.until(lambda: show.staging.idle and show.preset.path == TUNNEL)  # the sunset look let go
    live.frame()
    before = gl_objects()
    for _ in range(5):  # each new look is asked for while the one before it is still being built
        show.request(sunset)
        live.until(lambda: show.staging.building)
        live.frame()
        show.request(tunnel)
        live.until(lambda: show.staging.building)
        live.frame()
    live.until(lambda: show.staging.idle and show.preset.path == TUNNEL)
    live.frame()
    assert gl_objects() == before


def _morph(live, transition: str = "fade") -> list[bool]:
    """Morph from the sunset look to the tunnel over a second; each frame's 'was a morph drawing'."""
    show = live.show
    show.morph_plan = MorphSpec(1.0, "seconds", "now", transition)
    show.request(load_preset(TUNNEL))
    live.until(lambda: show.preset.path == TUNNEL)
    during = []
    for _ in range(60):
        during.append(show.morph is not None)
        live.frame()
    return during


def test_a_live_morph_crossfades_both_looks_and_lets_the_old_one_go(live):
    generation = live.show.look_generation
    old = live.show.pipeline
    during = _morph(live)
    assert any(during) and not during[-1], "the morph did not run, or never ended"
    assert live.show.look_generation == generation + 2  # the look came in, and the morph ended
    for _ in range(3):
        live.frame()
    assert old._released  # the old look was let go once the morph was over
    assert not live.show.guards.errors()


def test_a_morph_through_a_transition_that_does_not_exist_cuts_and_says_so(live):
    during = _morph(live, "no_such_transition")
    assert not during[-1]
    errors = [str(e) for e in live.show.guards.errors()]
    assert any("no_such_transition" in e for e in errors), errors
    assert live.show.preset.path == TUNNEL
    assert live.target.read()[..., :3].max() > 0  # the new look is on screen, not black


class _Old:
    """A look's pipeline as the morph sees it (only its name matters to the scheduler)."""


def _timed(turns: morph.Turns, costs: tuple[float, float], frames: int) -> list[tuple[int, ...]]:
    """Frames of a live morph's scheduling, each look's timed draws taking `costs` (s)."""
    drawn = []
    for _ in range(frames):
        looks = turns.next()
        for look in looks:
            turns.drawn(look, costs[look] if turns.timing(look) else None)
        drawn.append(looks)
    return drawn


def test_a_live_morph_draws_the_looks_on_alternate_frames_when_both_would_make_a_long_frame():
    turns = morph.Turns()
    costs = (0.0008, 0.0009)  # quick, but not timed to the GPU's finish enough yet: one look a frame
    first = _timed(turns, costs, 2 * morph.MEASURED_DRAWS)
    assert all(len(t) == 1 for t in first) and {t[0] for t in first} == {0, 1}
    assert _timed(turns, costs, 3) == [(0, 1)] * 3  # both quick (a GPU): drawn every frame
    for costs in ((0.020, 0.018), (0.004, 0.005), (0.057, 0.013)):  # 1.9x, 1.8x, 1.23x the heavier one
        turns = morph.Turns()
        turns_taken = _timed(turns, costs, 20)
        assert all(len(t) == 1 for t in turns_taken), costs
        assert turns_taken[-2:] in ([(0,), (1,)], [(1,), (0,)]), "each look is drawn every other frame"


def test_a_draw_slowed_by_the_machine_does_not_make_a_morph_draw_both_looks():
    """A 50 ms look beside an 18 ms one is 1.36x the heavier together: one a frame. Judged on a draw of the
    heavy look slowed by the machine (105 ms, measured in bench cues), they read as 1.17x, and both were
    drawn in every frame of the morph."""
    turns = morph.Turns()
    draws = {0: [0.062, 0.105, 0.050], 1: [0.027, 0.018, 0.019]}
    for _ in range(6):
        (look,) = turns.next()
        turns.drawn(look, draws[look].pop(0))
    assert turns.cost(0) == pytest.approx(0.050) and turns.cost(1) == pytest.approx(0.018)
    assert all(len(turns.next()) == 1 for _ in range(10))


def test_a_look_that_grows_heavier_while_both_are_drawn_sends_the_morph_back_to_turns():
    turns = morph.Turns()
    _timed(turns, (0.020, 0.001), 2 * morph.MEASURED_DRAWS)
    assert turns.next() == (0, 1)  # 21 ms together, 1.05x the heavier: both every frame
    drawn = _timed(turns, (0.020, 0.015), 3 * morph.RETIME + 2)  # its clips came: 35 ms together
    assert drawn[-1] != (0, 1), "the morph kept drawing both looks after they grew heavier"


def test_a_live_morph_starts_on_the_new_look_then_the_old_one_takes_its_turn(gl_ctx):
    start, target = (gl_ctx.framebuffer(color_attachments=[gl_ctx.texture(SIZE, 4)]) for _ in "ab")
    live = morph.Morph(gl_ctx, MorphSpec(1.0), _Old(), None, {}, live=True)
    live.progress_now = 0.1
    target.clear(1.0, 0.0, 0.0, 1.0)  # the old look's last picture, on the output
    turns = [live._looks_this_frame(start, target) for _ in range(4)]
    assert turns == [(1,), (0,), (1,), (0,)]  # each look every other frame from the first
    assert start.read(components=4)[:4] == bytes((255, 0, 0, 255))  # the old look's picture, crossfaded
    for fbo in (start, target):
        fbo.color_attachments[0].release()
        fbo.release()


def test_a_live_morph_lands_on_the_new_looks_own_picture_and_offline_draws_both(gl_ctx):
    live = morph.Morph(gl_ctx, MorphSpec(1.0), _Old(), None, {}, live=True)
    live.progress_now = 1.0
    assert live._looks_this_frame(None, None) == (1,)  # its last frame: the new look's picture now
    offline = morph.Morph(gl_ctx, MorphSpec(1.0), _Old(), None, {}, live=False)
    offline.progress_now = 0.5
    assert offline._looks_this_frame(None, None) == (0, 1)  # a render's frames never depend on speed


def test_a_colour_with_another_number_of_components_does_not_break_the_glide(gl_ctx):
    from engine.params.store import Param

    going = morph.Morph(gl_ctx, MorphSpec(1.0), _Old(), None, {})
    going.progress_now = 0.5
    going.old_values = {"shader.tint": (1.0, 0.0, 0.0)}
    params = {"shader.tint": Param("shader.tint", "color", (0.0, 0.0, 1.0, 1.0))}
    assert going.glide({"shader.tint": (0.0, 0.0, 1.0, 1.0)}, params) == {"shader.tint": (0.0, 0.0, 1.0, 1.0)}


def test_the_next_cue_prewarmed_as_a_look_comes_in_is_not_built_again_at_its_go(live):
    from engine.runtime.looks import look_jobs

    show, builder = live.show, live.show._looks
    sunset = load_preset(SUNSET)
    show.request(load_preset(TUNNEL))
    # in the frame that brings the tunnel look in, before it is drawn, the next cue is warmed (the
    # earliest it could be: Operator.settle waits PREWARM_DELAY)
    while not live.frame(before_draw=lambda adopted: adopted and show.prewarm(sunset)):
        time.sleep(0.005)
    fingerprints = {job[1] for job in look_jobs(sunset, show.pipeline.spec_for)}
    live.until(lambda: fingerprints <= set(builder._warmed))
    asked: list[str] = []
    submit = builder.service.submit
    builder.service.submit = lambda reply, key, *rest: asked.append(key) or submit(reply, key, *rest)
    show.morph_plan = MorphSpec(1.0, "seconds", "now", "fade")
    show.request(sunset)  # its GO, through a morph the prewarm did not know of
    live.frame()
    live.frame()  # the request has stood for a frame: its build begins
    assert asked == ["transition"]  # the look is warm already: only the morph's transition is new
    live.until(lambda: show.preset.path == SUNSET)


def test_a_look_waiting_for_its_clip_decks_does_not_spin_the_frame():
    from engine.render.pipeline import WAITING
    from engine.runtime.looks import LookStaging

    pieces: list[str] = []

    def build(preset):
        for _ in range(3):
            pieces.append("waited")
            yield WAITING  # the decks open on a thread of their own
        yield "built"

    staging = LookStaging(build, budget=1.0)  # a budget that would allow many pieces a frame
    staging.start(None)
    assert staging.step() is None and pieces == ["waited"]  # one look at the decks, and the frame goes on
    assert staging.step() is None and staging.step() is None
    assert staging.step() == (None, "built")


def test_the_second_cue_asked_to_be_warmed_before_looks_were_built_aside_is_warmed_then(gl_ctx):
    from engine.runtime.looks import look_jobs

    run = LiveShow.__new__(LiveShow)  # the first cue is on before the first frame, as `perform` does it
    run.show, run.target, run.index = (
        Show(gl_ctx, load_preset(SUNSET), SIZE, live=True),
        Offscreen(gl_ctx, SIZE),
        0,
    )
    try:
        tunnel = load_preset(TUNNEL)
        run.show.prewarm(tunnel)  # Operator.settle after the first cue, before looks are built aside
        run.show.build_looks_aside()
        builder = run.show._looks
        fingerprints = {job[1] for job in look_jobs(tunnel, run.show.pipeline.spec_for)}
        run.until(lambda: fingerprints <= set(builder._warmed))  # warmed while the first cue plays
    finally:
        run.close()


def test_a_burst_of_requests_a_frame_begins_no_build_until_it_ends(live):
    show, builder = live.show, live.show._looks
    looks = [load_preset(TUNNEL), load_preset(SUNSET)]
    for look in looks:  # both shown once: warmed, so each request is ready as soon as its build begins
        show.request(look)
        live.until(lambda look=look: show.preset.path == look.path and show.staging.idle)
    builder.requests = 0
    began: list[str] = []
    real_start = show.staging.start
    show.staging.start = lambda preset: began.append(preset.name) or real_start(preset)
    for i in range(31):  # a desk's fader swept through the cues: another look asked for every frame
        show.request(looks[i % 2])
        live.frame()
    assert began == [] and builder.requests == 31
    live.until(lambda: show.preset.path == TUNNEL)  # the last one asked for comes in, built once
    assert began == [looks[0].name]


def test_a_clips_look_brought_in_mid_song_starts_its_clips_on_the_frames_decoded_while_it_was_built(live):
    """Its decks start at the clip's first frame when the look comes on, the frames its load decoded ahead:
    not where show time 0 would have them (at 15 s, frame 60 of a 96-frame clip, and a decoder running
    through every frame between in the frames of the change)."""
    from engine.clips.deck import PRELOAD

    clips_look = PRESETS_DIR / "library" / "dnb-neon-clips.toml"  # two H.264 clips on fixed decks
    live.index = 450  # 15 s into the song
    live.show.request(load_preset(clips_look))
    live.until(lambda: live.show.preset.path == clips_look)
    clips = live.show.pipeline.clips
    live.until(lambda: clips.last_mix.a is not None and clips.last_mix.b is not None)  # both decks show
    mix = clips.last_mix
    assert mix.a.index < PRELOAD and mix.b.index < PRELOAD  # their first frames (at 1.5x speed)
    decks = clips.decks
    assert all(deck._worker.source._next <= PRELOAD + 4 for deck in decks)  # nothing decoded past them


def test_the_next_cue_is_warmed_once_its_look_has_been_on_a_moment_not_in_the_frame_that_brings_it(
    live, tmp_path
):
    """Reading and describing the next cue's preset took 2-4 ms of the frame that first drew the new
    look; the next cue is still warmed in the child before its GO, half a second later."""
    from engine.show.operator import PREWARM_DELAY, Operator
    from engine.show.setlist import load_setlist

    setlist = tmp_path / "set.toml"
    setlist.write_text(
        "".join(f'[[cue]]\nname = "{p.stem}"\npreset = "{p}"\n' for p in (SUNSET, TUNNEL, SUNSET))
    )
    operator = Operator(live.show, load_setlist(setlist))
    warmed: list[tuple[float, object]] = []
    prewarm = live.show.prewarm
    live.show.prewarm = lambda preset: warmed.append((time.monotonic(), preset.path)) or prewarm(preset)
    operator.apply("cue.go")  # cue 1: the sunset look is on already
    operator.apply("cue.go")  # cue 2: the tunnel
    on = None
    while on is None:
        live.frame(lambda adopted: operator.settle(adopted))
        if operator.cue_name.startswith("2 "):
            on = time.monotonic()
            assert not [t for t, _ in warmed if t >= on - 0.05]  # nothing warmed in the frame it came in
        time.sleep(0.005)
    while not [p for t, p in warmed if t > on]:
        live.frame(lambda adopted: operator.settle(adopted))
        time.sleep(0.005)
    at, path = next((t, p) for t, p in warmed if t > on)
    assert path == SUNSET and at - on >= PREWARM_DELAY - 0.05  # cue 3, warmed while cue 2 plays
