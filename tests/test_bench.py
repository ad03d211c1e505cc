"""The listening benches, run as a user types them, on a small annotated set of generated drum loops whose
beats and hits are exact: every figure the project reports comes from these commands."""

import json

import numpy as np
import pytest
from conftest import run_cli

from engine.audio.synth import drum_loop, write_wav

LOOPS = (("loop90", 90, "four_on_floor"), ("loop128", 128, "breakbeat"))


@pytest.fixture(scope="module")
def annotated_set(tmp_path_factory):
    """An index.json in the shared set's format, with beats, onsets and a tempo per file."""
    folder = tmp_path_factory.mktemp("annotated")
    index = []
    for name, bpm, pattern in LOOPS:
        track = drum_loop(bpm, bars=6, pattern=pattern)
        write_wav(track, folder / f"{name}.wav")
        np.savetxt(folder / f"{name}.beats.txt", track.beats, fmt="%.6f")
        # a kick and a hat struck together are two onsets, as in the shared set's annotations
        hits = np.sort(np.concatenate([track.kicks, track.snares, track.hats]))
        np.savetxt(folder / f"{name}.onsets.txt", hits, fmt="%.6f")
        entry = {"name": name, "audio": f"{name}.wav", "tempo": bpm}
        entry.update(beats=f"{name}.beats.txt", onsets=f"{name}.onsets.txt")
        index.append(entry)
    (folder / "index.json").write_text(json.dumps(index))
    return folder


def test_bench_analysis_scores_halation_beside_aubio(annotated_set, tmp_path):
    out = tmp_path / "figures.json"
    args = ("--data", str(annotated_set), "--json", str(out), "--cpu-seconds", "2", "--per-file")
    run = run_cli("bench", "analysis", *args)
    assert run.returncode == 0, run.stderr
    assert "loop90" in run.stdout and "tempo Acc2" in run.stdout
    summary = json.loads(out.read_text())["summary"]
    ours, theirs = summary["halation"], summary["aubio"]
    assert ours["acc1"] == 1.0
    assert ours["beat_f"] > 0.9
    assert ours["onset_f"] > 0.85
    assert 0 < ours["cpu_percent"] < 100 and 0 < theirs["cpu_percent"] < 100
    assert ours["delay_mean_ms"] < 15  # known within a hop of the sound
    assert theirs["n_tempo_files"] == 2  # aubio ran on the same files


def test_bench_peers_scores_what_is_installed_and_names_common_misses(annotated_set, tmp_path):
    """Without librosa or Essentia it still scores Halation and aubio, with a note for each missing peer."""
    index = json.loads((annotated_set / "index.json").read_text())
    index[1] = {**index[1], "tempo": 128 * 1.25}  # a tempo nobody can hear in that loop
    wrong = tmp_path / "set"
    wrong.mkdir()
    for f in annotated_set.iterdir():
        if f.name != "index.json":
            (wrong / f.name).symlink_to(f)
    (wrong / "index.json").write_text(json.dumps(index))
    run = run_cli("bench", "peers", "--data", str(wrong))
    assert run.returncode == 0, run.stderr
    assert "halation" in run.stdout and "aubio" in run.stdout
    assert "missed by every estimator at Acc2: 1 of 2" in run.stdout
    assert "loop128" in run.stdout.split("missed by every estimator")[1]
