"""Listening accuracy and cost: beats, tempo and onsets against annotations, beside aubio in the same run.

Scores Halation's causal analysis chain and aubio's own onset (mkl, 512/256) and tempo ('default',
1024/256) objects on every file of an annotated set (default ../shared/data/audio, its index.json), with
mir_eval: beat F-measure (±70 ms; beats before 5 s trimmed as mir_eval.beat.evaluate does, and untrimmed),
downbeat F-measure where bars are annotated (Halation only: aubio has no bars), tempo Acc1/Acc2 of the
tempo each reports at the end of the file, onset F-measure (±50 ms; mean over files and over all onsets),
detection delay (known_at − annotated time of each matched onset), seconds until the tempo locks within
2 % (files of 8 s or more; against the tempo the annotated beats have over the last seconds where there
are beats, as players drift, else the file's tempo), octave flips after locking, and CPU per audio second
fed hop by hop. aubio runs at 44.1 kHz, where it scores best; Halation at its own 48 kHz.

A set whose index gives `onset_combine` (seconds; bench/sets/generated.py writes 0.03) annotates the hits
closer than that as one onset (a chord, a kick with a hat, a flam): then each detector's onsets are combined
the same way (Halation's `attack` onsets; aubio's within that window) before they are scored. Where the
index gives `beats_per_bar`, the bar length each file ends in is scored (metre), and where it gives `kind`,
the figures are printed per kind as well. The reliability table sets Halation's tempo confidence, sampled
every trace step after 5 s, against whether the tempo is right there (Acc1 against the local tempo).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "audio"
ENGINE_RATE = 48000
AUBIO_RATE = 44100
HOP = 256
LOCK_TOLERANCE = 0.02
STEADY_SECONDS = 8.0
LOCAL_SECONDS = 6.0  # the annotated beats of this many seconds before a moment give the tempo there


def add_arguments(p) -> None:
    p.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with index.json (../shared/data/audio)"
    )
    p.add_argument("--only", help="only files whose name contains this text")
    p.add_argument("--per-file", action="store_true", help="print a line per file as well")
    p.add_argument("--json", type=Path, help="also write every figure, per file, to this JSON file")
    p.add_argument(
        "--cpu-seconds", type=float, default=30.0, help="audio seconds fed hop by hop to time the CPU cost"
    )
    p.add_argument(
        "--no-generated",
        action="store_true",
        help="without --data, score only the shared set (by default the generated unseen set of "
        "bench/sets/generated.py is rendered to a temporary folder and scored after it, with the targets)",
    )


class Heard:
    """One detector's output on one file (a plain class: bench modules load outside sys.modules)."""

    def __init__(self, tempo: float, beats: list[float], onsets: list[float], onsets_known: list[float]):
        self.tempo = tempo
        self.beats = beats
        self.onsets = onsets
        self.onsets_known = onsets_known
        self.trace: list[tuple[float, float]] = []  # (audio time, bpm)
        self.downbeats: list[float] | None = None  # None: the detector has no notion of bars (aubio)
        self.beats_per_bar: int | None = None  # the bar length at the end (None: aubio has no bars)
        self.attacks: tuple[list[float], list[float]] | None = None  # (time, known_at) of new attacks
        self.confidence: list[float] = []  # tempo confidence per trace step (Halation)


def run(args) -> int:
    """Score the set given (default: the shared set), then, without --data, the generated unseen set too."""
    status = score_set(args)
    if args.data != DEFAULT_DATA or getattr(args, "no_generated", False):
        return status
    import tempfile

    from engine.commands.bench import BENCH_DIR, load

    generated = load(BENCH_DIR / "sets" / "generated.py")
    with tempfile.TemporaryDirectory(prefix="halation-generated-") as tmp:
        n_files = sum(map(len, generated.plan().values()))
        print(f"\nunseen: the generated set (bench/sets/generated.py, {n_files} files)")
        with contextlib.redirect_stdout(io.StringIO()):
            generated.main(Path(tmp))
        unseen = argparse.Namespace(**{**vars(args), "data": Path(tmp) / "all", "json": None})
        if args.json:
            unseen.json = args.json.with_name(args.json.stem + "-generated" + args.json.suffix)
        return score_set(unseen) or status


def score_set(args) -> int:
    index = args.data / "index.json"
    if not index.is_file():
        print(f"bench analysis: no annotated set at {args.data} (index.json missing): skipped")
        return 0
    import numpy as np

    from engine.audio.file import load_audio

    try:
        import mir_eval  # noqa: F401  (scoring)
    except ImportError:
        print("bench analysis needs mir_eval: pip install -e '.[dev]'", file=sys.stderr)
        return 1
    warnings.filterwarnings("ignore", module="mir_eval")
    entries = [e for e in json.loads(index.read_text()) if not args.only or args.only in e["name"]]
    if not entries:
        print(f"bench analysis: no file of {args.data} matches {args.only!r}: skipped")
        return 0
    rows = []
    for entry in entries:
        path = args.data / entry["audio"]
        truth = {
            k: np.loadtxt(args.data / entry[k], ndmin=1)
            for k in ("beats", "downbeats", "onsets")
            if k in entry
        }
        audio = load_audio(path, ENGINE_RATE)
        ours = _ours(audio.mono())
        theirs = _aubio(load_audio(path, AUBIO_RATE).mono())
        if entry.get("onset_combine"):
            _combine_onsets(ours, theirs, float(entry["onset_combine"]))
        duration = audio.duration
        row = {"name": entry["name"], "duration": duration, "tempo": entry.get("tempo")}
        row["kind"] = entry.get("kind")
        row["beats_per_bar"] = entry.get("beats_per_bar")
        for who, heard in (("halation", ours), ("aubio", theirs)):
            row[who] = _score(heard, truth, entry.get("tempo"), duration)
            if entry.get("beats_per_bar") and heard.beats_per_bar is not None:
                row[who]["metre_ok"] = float(heard.beats_per_bar == entry["beats_per_bar"])
        row["halation"]["reliability"] = _confidence_samples(ours, truth.get("beats"), entry.get("tempo"))
        rows.append(row)
        if args.per_file:
            _print_file(row)
    cpu = _cpu(args.data, entries, args.cpu_seconds)
    summary = {who: _summarise([r[who] for r in rows]) for who in ("halation", "aubio")}
    for who in summary:
        summary[who]["cpu_percent"] = cpu[who]
    _print_summary(summary, len(rows))
    _print_kinds(rows)
    table = reliability(rows)
    summary["halation"]["reliability"] = table
    _print_reliability(table)
    summary["targets"] = targets(summary, rows, table)
    _print_targets(summary["targets"])
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "files": rows}, indent=1, default=float))
    return 0


def _ours(mono) -> Heard:
    from engine.analysis.listen import listen

    heard = listen(mono, ENGINE_RATE)
    out = Heard(
        heard.tempo,
        [b.time for b in heard.beats],
        [o.time for o in heard.onsets],
        [o.known_at for o in heard.onsets],
    )
    out.trace = list(zip(heard.trace_time.tolist(), heard.trace_bpm.tolist(), strict=True))
    out.confidence = heard.trace_confidence.tolist()
    out.downbeats = list(heard.downbeats)
    out.beats_per_bar = heard.beats_per_bar
    attacks = [o for o in heard.onsets if o.attack]
    out.attacks = ([o.time for o in attacks], [o.known_at for o in attacks])
    return out


def _combine_onsets(ours: Heard, theirs: Heard, within: float) -> None:
    """Score each attack once, as the annotations count them: Halation's attacks (it marks them itself, over
    both its bands), aubio's onsets combined within `within` seconds (it has one band)."""
    if ours.attacks is not None:
        ours.onsets, ours.onsets_known = list(ours.attacks[0]), list(ours.attacks[1])
    kept: list[int] = []
    for i, t in enumerate(theirs.onsets):
        if not kept or t - theirs.onsets[kept[-1]] >= within:
            kept.append(i)
    theirs.onsets = [theirs.onsets[i] for i in kept]
    theirs.onsets_known = [theirs.onsets_known[i] for i in kept]


CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)
RELIABILITY_AFTER = 5.0  # seconds: the first estimates of a file are not yet a claim


def _confidence_samples(heard: Heard, beats, tempo: float | None) -> list[tuple[float, bool]]:
    """(tempo confidence, tempo right within 4 % of the local tempo) at each trace step after 5 s."""
    if not tempo or not heard.confidence:
        return []
    tempo_at = _local_tempo(beats, tempo)
    return [
        (c, _within(bpm, tempo_at(t)))
        for (t, bpm), c in zip(heard.trace, heard.confidence, strict=True)
        if t >= RELIABILITY_AFTER
    ]


def reliability(rows: list[dict]) -> list[dict]:
    """Confidence bins against accuracy: per bin, how many samples fell in it and the share whose tempo was
    right (Acc1), each file weighted by its samples. A calibrated confidence of 0.8 is right 80 % of the
    time."""
    samples = [s for r in rows for s in r["halation"].get("reliability", [])]
    table = []
    for lo, hi in itertools.pairwise(CONFIDENCE_BINS):
        inside = [ok for c, ok in samples if lo <= c < hi]
        table.append(
            {
                "lo": lo,
                "hi": min(hi, 1.0),
                "n": len(inside),
                "acc1": sum(inside) / len(inside) if inside else None,
            }
        )
    return table


def _aubio(mono) -> Heard:
    import aubio
    import numpy as np

    onset = aubio.onset("mkl", 512, HOP, AUBIO_RATE)
    tempo = aubio.tempo("default", 1024, HOP, AUBIO_RATE)
    heard = Heard(0.0, [], [], [])
    mono = np.ascontiguousarray(mono, np.float32)
    for i in range(len(mono) // HOP):
        block = mono[i * HOP : (i + 1) * HOP]
        end = (i + 1) * HOP / AUBIO_RATE
        if onset(block)[0]:
            heard.onsets.append(float(onset.get_last_s()))
            heard.onsets_known.append(end)
        if tempo(block)[0]:
            heard.beats.append(float(tempo.get_last_s()))
        if i % 16 == 0:
            heard.trace.append((end, float(tempo.get_bpm())))
    heard.tempo = float(tempo.get_bpm())
    return heard


def _score(heard: Heard, truth: dict, tempo: float | None, duration: float) -> dict:
    import mir_eval
    import numpy as np

    out: dict = {"tempo_out": heard.tempo}
    if tempo:
        out["acc1"] = _within(heard.tempo, tempo)
        out["acc2"] = any(_within(heard.tempo, tempo * m) for m in (1, 2, 0.5, 3, 1 / 3))
        if duration >= STEADY_SECONDS:
            out["lock"], out["flips"] = _lock(heard.trace, _local_tempo(truth.get("beats"), tempo))
    if "beats" in truth:
        ref, est = truth["beats"], np.array(heard.beats)
        trim = mir_eval.beat.trim_beats
        out["beat_f"] = float(mir_eval.beat.f_measure(trim(ref), trim(est)))
        out["beat_f_untrimmed"] = float(mir_eval.beat.f_measure(ref, est))
    if "downbeats" in truth and heard.downbeats is not None:
        trim = mir_eval.beat.trim_beats
        out["downbeat_f"] = float(
            mir_eval.beat.f_measure(trim(truth["downbeats"]), trim(np.array(heard.downbeats)))
        )
    if "onsets" in truth:
        ref, est = truth["onsets"], np.array(heard.onsets)
        known = np.array(heard.onsets_known)
        f, p, r = mir_eval.onset.f_measure(ref, est, window=0.05)
        matched = mir_eval.util.match_events(ref, est, 0.05)
        out.update(onset_f=f, onset_p=p, onset_r=r, onset_n=len(ref), onset_est=len(est))
        out["onset_matched"] = len(matched)
        out["delays"] = [float(known[j] - ref[i]) for i, j in matched]
    return out


def _within(bpm: float, target: float) -> bool:
    return bpm > 0 and abs(bpm / target - 1.0) <= 0.04


def _local_tempo(beats, tempo: float):
    """The true tempo at each moment: the mean beat period of the annotated beats in the last
    LOCAL_SECONDS (at least the first five beats), or the file's tempo where no beats are annotated."""
    import numpy as np

    if beats is None or len(beats) < 5:
        return lambda t: tempo

    def at(t: float) -> float:
        lo, hi = np.searchsorted(beats, [t - LOCAL_SECONDS, t], side="right")
        lo, hi = min(lo, max(0, hi - 5)), max(hi, 5)
        return 60.0 * (hi - lo - 1) / (beats[hi - 1] - beats[lo])

    return at


def _lock(trace: list[tuple[float, float]], tempo_at) -> tuple[float | None, int]:
    """Seconds until the tempo stays within 2 % of the true tempo to the end (None: never), and octave
    flips after first being right (a switch between the right tempo and its double or half)."""
    lock = None
    for t, bpm in reversed(trace):
        if bpm > 0 and abs(bpm / tempo_at(t) - 1.0) <= LOCK_TOLERANCE:
            lock = t
        else:
            break
    flips, state = 0, None
    for t, bpm in trace:
        tempo = tempo_at(t)
        here = (
            "right"
            if _within(bpm, tempo)
            else "octave"
            if _within(bpm, 2 * tempo) or _within(bpm, tempo / 2)
            else None
        )
        if here and state and here != state:
            flips += 1
        if here and (state or here == "right"):
            state = here
    return lock, flips


def _summarise(scores: list[dict]) -> dict:
    import numpy as np

    def mean(key):
        vals = [s[key] for s in scores if key in s]
        return float(np.mean(vals)) if vals else float("nan")

    delays = [d for s in scores for d in s.get("delays", [])]
    matched = sum(s.get("onset_matched", 0) for s in scores)
    n_ref = sum(s.get("onset_n", 0) for s in scores)
    n_est = sum(s.get("onset_est", 0) for s in scores)
    locks = [s["lock"] for s in scores if "lock" in s]
    locked = [x for x in locks if x is not None]
    return {
        "beat_f": mean("beat_f"),
        "beat_f_untrimmed": mean("beat_f_untrimmed"),
        "downbeat_f": mean("downbeat_f"),
        "acc1": mean("acc1"),
        "acc2": mean("acc2"),
        "onset_f": mean("onset_f"),
        "onset_f_all": 2 * matched / max(1, n_ref + n_est),
        "delay_mean_ms": 1000 * float(np.mean(delays)) if delays else float("nan"),
        "delay_p95_ms": 1000 * float(np.percentile(delays, 95)) if delays else float("nan"),
        "lock_median_s": float(np.median(locked)) if locked else float("nan"),
        "lock_max_s": float(max(locked)) if locked else float("nan"),
        "locked_files": f"{len(locked)}/{len(locks)}",
        "octave_flips": int(sum(s.get("flips", 0) for s in scores)),
        "n_beat_files": sum("beat_f" in s for s in scores),
        "n_tempo_files": sum("acc1" in s for s in scores),
        "n_onset_files": sum("onset_f" in s for s in scores),
    }


CPU_PASSES = 3  # passes of each detector, taken in turn: a moment of load elsewhere skews one, not the median


def _cpu(data: Path, entries: list[dict], seconds: float) -> dict[str, float]:
    """Percent of one core, fed one hop at a time as live capture does (with a snapshot per hop): process
    time of each detector over the first `seconds` of the set's longest file, the median of CPU_PASSES
    passes taken in turn with aubio's (the two share whatever else the machine is doing)."""
    import numpy as np

    from engine.audio.file import load_audio

    longest = max(entries, key=lambda e: (data / e["audio"]).stat().st_size)
    ours_audio = load_audio(data / longest["audio"], ENGINE_RATE).mono()[: int(seconds * ENGINE_RATE)]
    aubio_audio = load_audio(data / longest["audio"], AUBIO_RATE).mono()[: int(seconds * AUBIO_RATE)]
    aubio_audio = np.ascontiguousarray(aubio_audio, np.float32)
    passes: dict[str, list[float]] = {"halation": [], "aubio": []}
    for _ in range(CPU_PASSES):
        passes["halation"].append(_cpu_halation(ours_audio) / (len(ours_audio) / ENGINE_RATE))
        passes["aubio"].append(_cpu_aubio(aubio_audio) / (len(aubio_audio) / AUBIO_RATE))
    return {who: 100 * float(np.median(p)) for who, p in passes.items()}


def _cpu_halation(mono) -> float:
    """Process seconds a fresh Analyzer takes over `mono`, hop by hop with a snapshot per hop."""
    from engine.analysis.analyzer import Analyzer

    analyzer = Analyzer(ENGINE_RATE)
    start = time.process_time()
    for i in range(0, len(mono) - HOP + 1, HOP):
        analyzer.feed(mono[i : i + HOP])
        analyzer.snapshot()
        analyzer.drain_onsets()
        analyzer.drain_beats()
    return time.process_time() - start


def _cpu_aubio(mono) -> float:
    """Process seconds aubio's onset and tempo objects take over `mono`, hop by hop."""
    import aubio

    onset = aubio.onset("mkl", 512, HOP, AUBIO_RATE)
    tempo = aubio.tempo("default", 1024, HOP, AUBIO_RATE)
    start = time.process_time()
    for i in range(0, len(mono) - HOP + 1, HOP):
        block = mono[i : i + HOP]
        onset(block)
        tempo(block)
    return time.process_time() - start


ROWS = (
    ("beat F (±70 ms, mir_eval trims <5 s)", "beat_f", "{:.3f}"),
    ("beat F (untrimmed)", "beat_f_untrimmed", "{:.3f}"),
    ("downbeat F (±70 ms, trimmed <5 s)", "downbeat_f", "{:.3f}"),
    ("tempo Acc1 (±4 %)", "acc1", "{:.3f}"),
    ("tempo Acc2 (also ×2 ×½ ×3 ×⅓)", "acc2", "{:.3f}"),
    ("onset F (±50 ms, mean of files)", "onset_f", "{:.3f}"),
    ("onset F (all onsets pooled)", "onset_f_all", "{:.3f}"),
    ("onset delay mean (ms)", "delay_mean_ms", "{:.1f}"),
    ("onset delay p95 (ms)", "delay_p95_ms", "{:.1f}"),
    ("tempo lock within 2 %: median (s)", "lock_median_s", "{:.1f}"),
    ("tempo lock within 2 %: slowest (s)", "lock_max_s", "{:.1f}"),
    ("files locked (of those ≥ 8 s)", "locked_files", "{}"),
    ("octave flips after locking", "octave_flips", "{}"),
    ("CPU, % of one core (hop 256, median)", "cpu_percent", "{:.2f}"),
)


def _print_summary(summary: dict, n_files: int) -> None:
    h = summary["halation"]
    print(
        f"{n_files} files: {h['n_beat_files']} with beats, {h['n_tempo_files']} with a tempo, "
        f"{h['n_onset_files']} with onsets"
    )
    print(f"{'':40s} {'halation':>10s} {'aubio':>10s}")
    for label, key, fmt in ROWS:
        print(f"{label:40s} {fmt.format(h[key]):>10s} {fmt.format(summary['aubio'][key]):>10s}")
    sys.stdout.flush()


def _print_kinds(rows: list[dict]) -> None:
    """Onset F, beat F, Acc1 and metre per kind of material, Halation beside aubio."""
    kinds = sorted({r["kind"] for r in rows if r.get("kind")})
    if not kinds:
        return
    keys = (("onset F", "onset_f"), ("beat F", "beat_f"), ("Acc1", "acc1"), ("metre", "metre_ok"))
    print(f"{'kind':12s}" + "".join(f"{label + ' hal/aub':>20s}" for label, _ in keys))
    for kind in kinds:
        summary = {who: _summarise([r[who] for r in rows if r.get("kind") == kind]) for who in WHO}
        metre = {who: _mean([r[who].get("metre_ok") for r in rows if r.get("kind") == kind]) for who in WHO}
        cells = []
        for _, key in keys:
            h, a = (metre[w] if key == "metre_ok" else summary[w][key] for w in WHO)
            cells.append(f"{_fmt(h)}/{_fmt(a)}")
        print(f"{kind:12s}" + "".join(f"{c:>20s}" for c in cells))
    sys.stdout.flush()


WHO = ("halation", "aubio")


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def _print_reliability(table: list[dict]) -> None:
    """The reliability table: confidence bin, samples, Acc1 in it."""
    if not any(b["n"] for b in table):
        return
    print("tempo confidence (Halation, every 0.1 s after 5 s)   samples   Acc1")
    for b in table:
        print(f"  {b['lo']:.1f} .. {b['hi']:.1f} {'':38s}{b['n']:7d}   {_fmt(b['acc1'])}")
    sys.stdout.flush()


ONSET_MARGIN = 0.05  # onset F at least aubio's plus this, on every kind of material and pooled
TRUSTED = 0.8  # a tempo confidence at or above this...
TRUSTED_ACC1 = 0.95  # ...is right (Acc1) at least this often


def targets(summary: dict, rows: list[dict], table: list[dict]) -> list[dict]:
    """The listening targets (issue #20), each as {name, value, target, ok}: onset F against aubio pooled
    and per kind, onset delay, beat F, 3/4 beside 4/4, Acc1/Acc2, CPU, and what a confidence >= 0.8 is
    worth. ok is None where the set has nothing to judge it on."""
    h, a = summary["halation"], summary["aubio"]
    out = []

    def add(name: str, value, target: str, ok) -> None:
        out.append({"name": name, "value": value, "target": target, "ok": None if ok is None else bool(ok)})

    def above_aubio(name: str, ours: float, theirs: float) -> None:
        # where aubio scores above 0.95 the margin lies above a perfect score: said, and still a FAIL
        need = theirs + ONSET_MARGIN
        target = "≥ aubio + 0.05" if need <= 1.0 else f"≥ {need:.3f} (> 1)"
        add(name, f"{ours:.3f} vs aubio {theirs:.3f}", target, ours >= need)

    if h["n_onset_files"]:
        for key, label in (("onset_f", "mean of files"), ("onset_f_all", "pooled")):
            above_aubio(f"onset F ({label})", h[key], a[key])
        for kind in sorted({r["kind"] for r in rows if r.get("kind") and "onset_f" in r["halation"]}):
            ours = _mean([r["halation"].get("onset_f") for r in rows if r.get("kind") == kind])
            theirs = _mean([r["aubio"].get("onset_f") for r in rows if r.get("kind") == kind])
            above_aubio(f"onset F, {kind}", ours, theirs)
        add("onset delay mean", f"{h['delay_mean_ms']:.1f} ms", "≤ 10 ms", h["delay_mean_ms"] <= 10.0)
    if h["n_beat_files"]:
        add("beat F", f"{h['beat_f']:.3f}", "≥ 0.75", h["beat_f"] >= 0.75)
        by_bar = {
            n: _mean([r["halation"].get("beat_f") for r in rows if r.get("beats_per_bar") == n])
            for n in (3, 4)
        }
        if by_bar[3] is not None and by_bar[4] is not None:
            add(
                "beat F, 3/4 beside 4/4",
                f"{by_bar[3]:.3f} vs {by_bar[4]:.3f}",
                "≥ 4/4 − 0.1",
                by_bar[3] >= by_bar[4] - 0.1,
            )
    if h["n_tempo_files"]:
        add("tempo Acc1", f"{h['acc1']:.3f}", "≥ 0.85", h["acc1"] >= 0.85)
        add("tempo Acc2", f"{h['acc2']:.3f}", "≥ 0.95", h["acc2"] >= 0.95)
    trusted = [b for b in table if b["lo"] >= TRUSTED and b["n"]]
    n = sum(b["n"] for b in trusted)
    right = sum(b["n"] * b["acc1"] for b in trusted)
    add(
        f"tempo right when confidence ≥ {TRUSTED}",
        f"{right / n:.3f} of {n}" if n else "no sample",
        f"≥ {TRUSTED_ACC1}",
        right / n >= TRUSTED_ACC1 if n else None,
    )
    ratio = h["cpu_percent"] / a["cpu_percent"] if a.get("cpu_percent") else float("nan")
    add(
        "CPU, one core at hop 256",
        f"{h['cpu_percent']:.2f} % ({ratio:.1f}x aubio)",
        "≤ 3 %",
        h["cpu_percent"] <= 3.0,
    )
    return out


def _print_targets(rows: list[dict]) -> None:
    print("targets (issue #20)")
    for t in rows:
        verdict = "-" if t["ok"] is None else "PASS" if t["ok"] else "FAIL"
        print(f"  {t['name']:40s} {t['value']:>26s}   {t['target']:>15s}   {verdict}")
    sys.stdout.flush()


def _print_file(row: dict) -> None:
    parts = [f"{row['name']:24s} {row['duration']:6.1f}s"]
    if row["tempo"]:
        parts.append(f"tempo {row['tempo']:6.1f}")
    for who in ("halation", "aubio"):
        s = row[who]
        bits = [f"{s['tempo_out']:6.1f}"]
        if "beat_f" in s:
            bits.append(f"beatF {s['beat_f']:.2f}/{s['beat_f_untrimmed']:.2f}")
        if "onset_f" in s:
            bits.append(f"onsetF {s['onset_f']:.2f}")
        if s.get("lock") is not None:
            bits.append(f"lock {s['lock']:.1f}s")
        parts.append(f"{who[:3]}: " + " ".join(bits))
    print("  ".join(parts))
    sys.stdout.flush()
