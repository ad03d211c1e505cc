"""The autopilot on a synthesized song with exact sections: its changes land within a beat of the song's
boundaries (sections and 16-bar phrases), each look suits its section, and an operator action holds it off."""

import re
import shutil
import time

import pytest

from engine.audio.songs import FORMS, song
from engine.audio.synth import write_wav
from engine.errors import HalationError
from engine.paths import PRESETS_DIR
from engine.show.autopilot import Autopilot, AutopilotSettings, follow_track, load_library
from engine.show.events import load_take

BPM = 128.0
BEAT = 60.0 / BPM
FPS = 15.0


@pytest.fixture(scope="module")
def track():
    return song(FORMS["short"], BPM)


@pytest.fixture(scope="module")
def library():
    return load_library([PRESETS_DIR / "library"])


def true_boundaries(track) -> list[float]:
    """Every section start, and every 16 bars into a section."""
    return [
        s.start + 16 * 4 * BEAT * k
        for s in track.sections
        for k in range(8)
        if s.start + 64 * BEAT * k < s.end
    ]


@pytest.mark.slow
def test_changes_land_within_a_beat_of_the_songs_boundaries(track, library):
    changes = follow_track(Autopilot(library), track.samples.mean(axis=1), track.sample_rate, FPS)[1:]
    truth = true_boundaries(track)
    assert len(changes) >= 4
    near = [c for c in changes if min(abs(c.time - b) for b in truth) <= BEAT]
    assert len(near) / len(changes) >= 0.9, [(c.time, c.reason) for c in changes]
    drops = [c for c in changes if c.reason == "drop"]
    breakdowns = [c for c in changes if c.reason == "breakdown"]
    assert drops and breakdowns
    assert min(c.look.energy for c in drops) > max(c.look.energy for c in breakdowns)  # looks suit sections
    paths = [c.look.path for c in changes]
    assert all(p not in paths[max(0, i - 3) : i] for i, p in enumerate(paths))  # never one of the last 3


@pytest.mark.slow
def test_an_operator_action_holds_the_autopilot_off_then_it_resumes(track, library):
    drop = next(s.start for s in track.sections if s.name == "drop")
    touch = drop - 1.5  # a cue from the desk just before the drop
    settings = AutopilotSettings(hold_bars=8)
    changes = follow_track(
        Autopilot(library, settings), track.samples.mean(axis=1), track.sample_rate, FPS, [touch]
    )
    held_until = touch + 8 * 4 * BEAT
    assert not [c for c in changes if touch <= c.time < held_until]  # the drop is the operator's
    after = [c for c in changes if c.time >= held_until]
    assert (
        after
        and abs(after[0].boundary - next(s.start for s in track.sections if s.start > held_until)) <= BEAT
    )


def test_a_library_needs_two_looks_with_the_tags(tmp_path):
    (tmp_path / "a.toml").write_text('name = "a"\nenergy = 0.3\ntags = ["techno"]\n[shader]\nfile = "x.fs"\n')
    with pytest.raises(HalationError, match="at least two presets tagged techno"):
        load_library([tmp_path], ("techno",))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")
def test_perform_autopilot_needs_no_setlist_and_a_desk_holds_it_off(tmp_path):
    """A live headless show: the desk touches a fader early, so the breakdown at 7.5 s passes under the
    operator's hold (6 bars), and the autopilot comes back for the drop at 15 s, morphing it in."""
    from test_control_e2e import Performance, oscsend

    track = write_wav(song((("groove", 4), ("breakdown", 4), ("drop", 4)), BPM), tmp_path / "song.wav")
    take = tmp_path / "take.jsonl"
    show = Performance(
        *("--audio", str(track), "--autopilot", "--autopilot-hold", "6", "--size", "64x36"),
        *("--record-events", str(take), "--log", str(tmp_path / "log.jsonl")),
    )
    try:
        oscsend("localhost", str(show.ports["udp"]), "/hl/master/level", "f", "0.9")
        show.proc.wait(timeout=90)  # the show ends with the song
    finally:
        output = show.stop()
    changes = [(float(t), why) for t, why in re.findall(r"autopilot: .* at ([\d.]+) s \((\w+)\)", output)]
    touch = next(e.t for e in load_take(take).events if e.param == "master.level")
    assert changes[0][1] == "start" and touch < 7.5
    held = touch + 6 * 4 * BEAT
    assert not [c for c in changes[1:] if touch <= c[0] < held], (touch, changes)  # the breakdown is held
    assert [why for t, why in changes if t >= held] == ["drop"]
    drop = next(t for t, why in changes if why == "drop")  # live on a busy machine: the analysis may lag
    assert 15.0 <= drop <= 15.0 + 4 * BEAT  # (the beat-exact figure is the offline test's and the bench's)


def test_the_look_the_autopilot_would_pick_next_is_warmed_once_its_change_has_played(gl_ctx, library):
    """In a live show: after its change, the look the next phrase would bring is built in the warm-up
    child before it is asked for (cold, its change came in late on a busy machine)."""
    from test_look_staging import LiveShow

    from engine.analysis.features import silent_features
    from engine.runtime.looks import look_jobs
    from engine.show.autopilot import PREWARM_AFTER, AutopilotDriver
    from engine.show.preset import load_preset

    run = LiveShow(gl_ctx, PRESETS_DIR / "library" / "house-sunset.toml")
    try:
        driver = AutopilotDriver(Autopilot(library), run.show)
        features = silent_features(("bass",))

        def frame(adopted):
            driver.frame(run.index / 30, features, False)

        run.frame(frame)  # the autopilot's first look is asked for at once
        first = driver.autopilot.changes[0].look
        nxt = driver.autopilot.pick(features.structure.section)
        assert nxt.path != first.path
        builder = run.show._looks
        jobs = {job[1] for job in look_jobs(load_preset(nxt.path), run.show.pipeline.spec_for)}
        while run.index / 30 < PREWARM_AFTER:
            run.frame(frame)
            assert not jobs <= set(builder._warmed)  # not before its change has played
        deadline = time.monotonic() + 60.0
        while not jobs <= set(builder._warmed) and time.monotonic() < deadline:
            run.frame(frame)
            time.sleep(0.005)
        assert jobs <= set(builder._warmed)  # warmed, never asked for
        assert len(driver.autopilot.changes) == 1
    finally:
        run.close()
