"""Tempo and beats beside offline peers: Halation's causal chain, aubio, librosa and Essentia on the same
files in the same run.

librosa (`beat.beat_track`) and Essentia (`RhythmExtractor2013`, multifeature; `PercivalBpmEstimator`) read
the whole file at once and may look ahead as far as they like, which the live engine cannot. They are a
ceiling for what the sound supports, not a live competitor. Scored as `halation bench analysis` scores
(mir_eval beat F-measure ±70 ms, trimmed and untrimmed; Acc1/Acc2 of the final tempo), then the files that
every estimator misses even at Acc2: annotations that no one hears in the sound. Peers that are not
installed are left out with a note (`pip install -e '.[peers]'`). Peers run at 44.1 kHz, Halation at 48 kHz.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from engine.commands.bench import BENCH_DIR, load

analysis = load(BENCH_DIR / "analysis.py")

PEER_RATE = 44100
TEMPO_ONLY = {"percival"}  # estimators with no beat tracker: not scored on beats
ROWS = (
    ("beat F (±70 ms, mir_eval trims <5 s)", "beat_f", "{:.3f}"),
    ("beat F (untrimmed)", "beat_f_untrimmed", "{:.3f}"),
    ("tempo Acc1 (±4 %)", "acc1", "{:.3f}"),
    ("tempo Acc2 (also ×2 ×½ ×3 ×⅓)", "acc2", "{:.3f}"),
)


def add_arguments(p) -> None:
    p.add_argument(
        "--data",
        type=Path,
        default=analysis.DEFAULT_DATA,
        help="folder with index.json (../shared/data/audio)",
    )
    p.add_argument("--only", help="only files whose name contains this text")
    p.add_argument("--per-file", action="store_true", help="print each estimator's tempo per file")
    p.add_argument("--json", type=Path, help="also write every figure, per file, to this JSON file")
    p.add_argument(
        "--beatnet-python",
        type=Path,
        default=os.environ.get(BEATNET_ENV) or None,
        help="a Python with BeatNet installed (its pins need a venv of their own, docs/listening.md): adds "
        f"BeatNet's causal particle-filter tracker (online mode) as a peer (default: ${BEATNET_ENV})",
    )


def run(args) -> int:
    index = args.data / "index.json"
    if not index.is_file():
        print(f"bench peers: no annotated set at {args.data} (index.json missing): skipped")
        return 0
    import numpy as np

    from engine.audio.file import load_audio

    warnings.filterwarnings("ignore", module="mir_eval")
    peers = _peers()
    beatnet_python = getattr(args, "beatnet_python", None)
    why_not = _beatnet_missing(Path(beatnet_python) if beatnet_python else None)
    if why_not:
        print(f"bench peers: BeatNet left out: {why_not}")
    else:
        peers["beatnet"] = _beatnet(Path(beatnet_python))
    entries = [e for e in json.loads(index.read_text()) if not args.only or args.only in e["name"]]
    entries = [e for e in entries if "tempo" in e or "beats" in e]
    rows = []
    for entry in entries:
        path = args.data / entry["audio"]
        truth = {k: np.loadtxt(args.data / entry[k], ndmin=1) for k in ("beats",) if k in entry}
        mono = load_audio(path, PEER_RATE).mono()
        heard = {"halation": analysis._ours(load_audio(path, analysis.ENGINE_RATE).mono())}
        heard["aubio"] = analysis._aubio(mono)
        for name, peer in peers.items():
            try:
                heard[name] = peer(mono)
            except RuntimeError as exc:  # scored as a miss (no tempo, no beats), and said
                print(f"bench peers: {name} on {entry['name']}: {exc}")
                heard[name] = analysis.Heard(0.0, [], [], [])
        row = {"name": entry["name"], "tempo": entry.get("tempo")}
        # duration 0: no lock time, which needs a tempo over time (the offline peers give one per file)
        row.update(
            (who, analysis._score(h, {} if who in TEMPO_ONLY else truth, entry.get("tempo"), 0.0))
            for who, h in heard.items()
        )
        rows.append(row)
        if args.per_file:
            _print_file(row, list(heard))
    names = ["halation", "aubio", *peers]
    summary = {who: analysis._summarise([r[who] for r in rows]) for who in names}
    _print_summary(summary, rows, names)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "files": rows}, indent=1, default=float))
    return 0


def _peers() -> dict[str, Callable]:
    """The offline estimators that are installed, by name; a note for each one that is not."""
    found: dict[str, Callable] = {}
    try:
        import librosa  # noqa: F401

        found["librosa"] = _librosa
    except ImportError:
        print("bench peers: librosa is not installed (pip install -e '.[peers]'): left out")
    try:
        import essentia

        essentia.log.infoActive = False
        found["essentia"] = _essentia
        found["percival"] = _percival
    except ImportError:
        print("bench peers: essentia is not installed (pip install -e '.[peers]'): left out")
    return found


BEATNET_SCRIPT = """
import json, sys, warnings
warnings.filterwarnings("ignore")
from BeatNet.BeatNet import BeatNet
tracker = BeatNet(1, mode="online", inference_model="PF", plot=[], thread=False)
out = tracker.process(sys.argv[1])
print(json.dumps([[float(t), int(b)] for t, b in out]))
"""


BEATNET_ENV = "HALATION_BEATNET_PYTHON"
BEATNET_PROBE = "import BeatNet.BeatNet, madmom, torch; print(torch.__version__)"


def _beatnet_missing(python: Path | None) -> str | None:
    """Why BeatNet cannot be scored here, in one line (None: it can). Its wheel pins numba 0.54.1 (Python <=
    3.9) and needs madmom, whose last release does not build on Python 3.11 from PyPI: it needs a venv of
    its own, built as docs/listening.md says, and is reached through that interpreter."""
    import subprocess

    if python is None:
        return (
            f"no interpreter with BeatNet given (--beatnet-python PY or ${BEATNET_ENV}); its pins (numba "
            "0.54.1, madmom 0.16.1) do not install on this Python, so it needs a venv of its own: "
            "docs/listening.md, 'BeatNet, a causal neural peer'"
        )
    if not python.is_file():
        return f"{python} does not exist (build the venv as docs/listening.md says)"
    try:
        probe = subprocess.run(
            [str(python), "-c", BEATNET_PROBE], capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} does not run: {exc}"
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        return f"{python} cannot import BeatNet: {last}"
    return None


def _beatnet(python: Path) -> Callable:
    """BeatNet (Heydari et al., ISMIR 2021) in its own interpreter: causal (online mode: frame by frame,
    particle filtering, no look-ahead), beats and downbeats; the tempo is its median beat interval over the
    last half of the file."""

    def peer(mono):
        import os
        import subprocess
        import tempfile

        import numpy as np

        from engine.audio.synth import Track, write_wav

        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "in.wav"
            stereo = np.repeat(np.asarray(mono, np.float32)[:, None], 2, axis=1)
            empty = np.zeros(0)
            write_wav(Track(stereo, PEER_RATE, 0.0, empty, empty, empty, empty, empty, ()), wav)
            one_thread = {
                **os.environ,
                "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1",
            }  # as a live show would
            run = subprocess.run(
                [str(python), "-c", BEATNET_SCRIPT, str(wav)],
                capture_output=True,
                text=True,
                check=False,
                env=one_thread,
            )
        if run.returncode != 0:
            raise RuntimeError(f"BeatNet failed: {run.stderr.strip().splitlines()[-1:]}")
        beats = [t for t, _ in json.loads(run.stdout.strip().splitlines()[-1])]
        late = np.diff([t for t in beats if t >= beats[-1] / 2]) if len(beats) > 4 else np.zeros(0)
        tempo = 60.0 / float(np.median(late)) if len(late) else 0.0
        return analysis.Heard(tempo, beats, [], [])

    return peer


def _librosa(mono):
    import librosa
    import numpy as np

    tempo, beats = librosa.beat.beat_track(y=mono, sr=PEER_RATE, units="time")
    return analysis.Heard(float(np.atleast_1d(tempo)[0]), [float(b) for b in beats], [], [])


def _essentia(mono):
    import essentia.standard as es
    import numpy as np

    bpm, ticks, *_ = es.RhythmExtractor2013(method="multifeature")(np.asarray(mono, np.float32))
    return analysis.Heard(float(bpm), [float(t) for t in ticks], [], [])


def _percival(mono):
    """Tempo only: Essentia's fast whole-file estimator (no beats)."""
    import essentia.standard as es
    import numpy as np

    return analysis.Heard(float(es.PercivalBpmEstimator()(np.asarray(mono, np.float32))), [], [], [])


def _print_summary(summary: dict, rows: list[dict], names: list[str]) -> None:
    h = summary["halation"]
    print(f"{len(rows)} files: {h['n_beat_files']} with beats, {h['n_tempo_files']} with a tempo")
    print(f"{'':40s}" + "".join(f"{n:>10s}" for n in names))
    for label, key, fmt in ROWS:
        cells = (
            "–" if key.startswith("beat") and n in TEMPO_ONLY else fmt.format(summary[n][key]) for n in names
        )
        print(f"{label:40s}" + "".join(f"{c:>10s}" for c in cells))
    missed = [r for r in rows if r["tempo"] and not any(r[n].get("acc2") for n in names)]
    print(f"missed by every estimator at Acc2: {len(missed)} of {h['n_tempo_files']}")
    for r in missed:
        heard = ", ".join(f"{n} {r[n]['tempo_out']:.1f}" for n in names)
        print(f"  {r['name']:24s} {r['tempo']:6.1f}: {heard}")
    sys.stdout.flush()


def _print_file(row: dict, names: list[str]) -> None:
    tempo = f"{row['tempo']:6.1f}" if row["tempo"] else "     –"
    cells = "  ".join(
        f"{n[:4]} {row[n]['tempo_out']:6.1f}{'' if row[n].get('acc2', True) else '✗'}" for n in names
    )
    print(f"{row['name']:24s} tempo {tempo}  {cells}")
    sys.stdout.flush()
