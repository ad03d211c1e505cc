"""The song's form, heard causally: on a synthesized song with exact sections, `halation analyze --json`
reports each drop, breakdown and build-up within a beat of where it begins, and phrases on the 16-bar grid."""

import json
import math

import pytest
from conftest import run_cli

from engine.analysis.features import BeatGrid
from engine.analysis.structure import StructureState
from engine.audio.songs import FORMS, song
from engine.audio.synth import write_wav

BPM = 128.0


@pytest.fixture(scope="module")
def short_song(tmp_path_factory):
    track = song(FORMS["short"], BPM)
    return track, write_wav(track, tmp_path_factory.mktemp("song") / "short.wav")


@pytest.mark.slow
def test_analyze_json_reports_each_section_change_within_a_beat(short_song):
    track, wav = short_song
    result = run_cli("analyze", str(wav), "--json")
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["structure"]
    beat = 60.0 / BPM
    changes = [e for e in events if e["kind"] != "phrase"]
    expected = {"buildup": "buildup", "drop": "drop", "breakdown": "breakdown"}
    truth = [(s.name, s.start) for s in track.sections if s.name in expected]
    assert len(changes) == len(truth)
    for event, (name, start) in zip(changes, truth, strict=True):
        assert event["kind"] == expected[name]
        assert abs(event["time"] - start) <= beat, (event, name, start)
        assert 0.0 <= event["known_at"] - event["time"] <= beat  # heard within the beat, never ahead
    bar = 4 * beat
    for phrase in (e for e in events if e["kind"] == "phrase"):  # on the song's own 16-bar grid
        assert min(abs(phrase["time"] - 16 * bar * k) for k in range(1, 8)) <= beat / 4


def test_shaders_get_a_decaying_drop_and_the_phrase_position():
    grid = BeatGrid(bpm=120.0, confidence=1.0, last_beat=0.0, next_beat=0.5, count=1)
    state = StructureState(section="drop", since=8.0, anchor_bar=0, last_drop=8.0, phrase_bars=16)
    at_drop, later = state.values(grid, 8.0), state.values(grid, 10.0)
    assert at_drop["drop"] == 1.0 and later["drop"] == pytest.approx(math.exp(-1.0))
    assert at_drop["section"] == 2.0 and later["section_time"] == 2.0
    assert at_drop["phrase_bar"] == 4.0 and at_drop["phrase_phase"] == pytest.approx(4 / 16)
    assert state.values(grid, 32.0)["phrase"] == 1.0  # bar 16: a new phrase
    assert state.values(grid, 0.0)["drop"] == 0.0  # before the drop, nothing


def test_the_plot_of_a_long_set_thins_its_bar_lines_to_stay_legible():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from types import SimpleNamespace

    import matplotlib.pyplot as plt
    import numpy as np

    from engine.analysis.beats import Beat
    from engine.analysis.plot import MAX_GRID_LINES, _tempo

    beat = 60.0 / BPM
    hour = [Beat(i * beat, i * beat, i) for i in range(int(3600 / beat))]  # an hour-long set
    heard = SimpleNamespace(beats=hour, downbeats=[b.time for b in hour[::4]], trace_time=np.zeros(1))
    heard.trace_bpm = np.full(1, BPM)
    fig, ax = plt.subplots()
    _tempo(ax, heard)
    bar_lines = ax.collections[0].get_segments()
    plt.close(fig)
    assert 0 < len(bar_lines) <= MAX_GRID_LINES and "every 16 bars" in ax.get_xlabel()


def test_structure_events_reach_the_feature_stream_as_their_own_addresses():
    from engine.analysis.structure import StructureEvent
    from engine.control.codec import decode_message
    from engine.output.features_out import event_messages

    [packet] = event_messages(StructureEvent("drop", 37.5, 37.74, 19, 1.0), BeatGrid(bpm=BPM))
    message = decode_message(packet)
    assert message.address == "/hl/event/drop"
    assert message.args[0] == pytest.approx(37.5) and 19 in message.args


def test_a_long_steady_section_is_remembered_in_bounded_memory_and_its_end_still_heard():
    """Twenty minutes of one groove: the tracker keeps the section's first beats and its latest (not every
    beat, which also made each beat's look through them slower), and the breakdown after it is heard."""
    from engine.analysis.structure import MAX_SECTION_PROBES, StructureTracker

    tracker, hop, beat = StructureTracker(), 256 / 48000, 0.5
    grid = BeatGrid(bpm=120.0, confidence=1.0, last_beat=0.0, next_beat=beat, count=1)
    groove = (1e-2, 8e-3, 1e-3)  # the kick carries the mix
    longest, events, t = 0, [], 0.0
    while t < 20 * 60 + 30:
        loud, bass, high = groove if t < 20 * 60 else (1e-3, 1e-5, 8e-4)  # then the kick stops
        tracker.step(t, loud, bass, high, grid)
        longest = max(longest, len(tracker._section))
        events += tracker.drain()
        t += hop
    assert longest <= MAX_SECTION_PROBES < (20 * 60 / beat) / 10  # not the 2400 beats heard
    sections = [e for e in events if e.kind != "phrase"]
    assert sections and sections[-1].kind in ("breakdown", "buildup") and sections[-1].time >= 20 * 60
