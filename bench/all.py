"""Every benchmark in one run, with short settings, and the report regenerated from it: `halation bench all
--report docs/benchmarks.md [--json FILE]`. The report names the machine and the date and puts each bench's
figures beside its target and its peer baseline (aubio, bare moderngl, ffmpeg, Link...). Each bench runs
as its own process (`halation bench NAME ...`), so one that fails is reported and the others still run.
Figures are what each bench prints: medians of repeated runs or ratios measured side by side in one run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from engine.paths import ROOT


@dataclass(frozen=True)
class Entry:
    """A bench as the suite runs it: short settings, the target it is held to, the peer it stands beside."""

    name: str
    args: tuple[str, ...]
    target: str
    baseline: str
    json: bool = False  # the bench takes --json FILE
    long_args: tuple[str, ...] | None = None  # with --long: the settings the report records (the soak's hour)


SUITE = (
    Entry(
        "latency",
        ("--blocks", "64,256", "--seconds", "8"),
        "audio→swap p99 ≤ block + 2 hops + 1 frame at 640x360, 120 fps headless, block 256",
        "the capture floor (a bare reader of the same capture) in the same run",
        json=True,
    ),
    Entry(
        "soak",
        ("--minutes", "1.5", "--bars", "1"),  # the setlist comes round twice: warm and end with one look
        "0 crashes, 0 unasked black frames; RSS ≤ +5 % after warm-up, no thread/fd/GL-object growth",
        "none (the show against itself over time)",
        json=True,
        long_args=("--minutes", "60"),  # the hour: a setlist cycle of 8 bars a cue, ~13 cycles
    ),
    Entry(
        "render",
        ("--size", "640x360", "--pairs", "12", "--chain-frames", "60"),
        "engine frame time ≤ 1.1 × bare moderngl drawing the same shader",
        "bare moderngl, paired batches",
    ),
    Entry(
        "cues",
        ("--cues", "4", "--every", "2", "--autopilot", "45"),
        "no frame of a cue cut, a morph (2 beats), a burst of 100 cues in 1 s or an autopilot change over 2× "
        "the median frame",
        "the steady frames of the looks each change goes between; a run without changes",
    ),
    Entry(
        "control",
        ("--seconds", "10"),
        "10 000 msg/s for 10 s: frame time within 5 % of the quiet blocks; every message applied",
        "quiet blocks (traffic to a socket nobody reads) in the same run",
    ),
    Entry(
        "stage",
        ("--frames", "30"),
        "warp+blend+limiter ≤ 10 % of frame time at 720p; preview ≤ 15 %; recording ≤ 10 %, 0 output frames "
        "dropped; ≤ 3 flashes/s; a strobe with the limiter engaged: p95 ≤ 2× the same look's median with it "
        "off, mean frame within 10 %; non-flashing content identical",
        "a plain output in the same run",
    ),
    Entry(
        "clips",
        ("--seconds", "4", "--streams", "1,2", "--sizes", "720p", "--skip", "encode"),
        "prepare ≥ 60 source frames/s at 720p (--codec hap) beside ffmpeg's HAP encoder; HAP Q from HAP Q "
        "within 1 dB; 6 x 1080p30 HAP streams, 0 dropped (CPU side here; the GPU side needs a GPU); stretch "
        "step within 25 %, no repeats; deflicker never worse, strobes kept",
        "Debian ffmpeg (HAP encoder, H.264 decode)",
        json=True,
    ),
    Entry("analysis", (), "onset F, beat F and tempo beside aubio on the annotated set", "aubio", json=True),
    Entry("peers", (), "tempo and beats beside offline peers", "aubio, librosa, Essentia", json=True),
    Entry(
        "rehearse",
        ("--runs", "3"),
        "rehearse's first frame within 2 s, whatever the track's length",
        "a 30 s track beside a 20 min one, alternating",
    ),
    Entry(
        "structure", ("--quick",), "≥ 90 % of autopilot changes on a section boundary", "the true sections"
    ),
    Entry(
        "sync",
        ("--seconds", "20", "--blocks", "2", "--block-seconds", "4"),
        "Link lead ±0.5 BPM, 20 ms; a render node's beat phase within 5 ms of its leader's, every frame",
        "a LinkPython-extern peer; halation analyze (heard tempo)",
    ),
)


def add_arguments(p) -> None:
    p.add_argument("--report", type=Path, help="write the report here (e.g. docs/benchmarks.md)")
    p.add_argument("--json", type=Path, help="also write every result machine-readably to this file")
    p.add_argument("--only", help="run only these benches, a,b,... (default: all)")
    p.add_argument("--skip", default="", help="benches to leave out, a,b,...")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds each bench may take (900)")
    p.add_argument(
        "--long",
        action="store_true",
        help="the settings the report records where they differ from CI's (soak: 60 minutes, not 1.5)",
    )
    p.add_argument(
        "--merge",
        type=Path,
        help="a --json file of an earlier run: keep its results for the benches not run now",
    )


def run(args) -> int:
    from engine.commands.bench import benches

    known = benches()
    wanted = [e for e in SUITE if e.name in known]
    if args.only:
        wanted = [e for e in wanted if e.name in args.only.split(",")]
    wanted = [e for e in wanted if e.name not in args.skip.split(",")]
    if args.long:
        wanted = [replace(e, args=e.long_args) if e.long_args else e for e in wanted]
    results = [_run_one(e, args.timeout) for e in wanted]
    if args.merge:
        fresh = {r["name"] for r in results}
        earlier = json.loads(args.merge.read_text())["results"]
        order = [e.name for e in SUITE]
        results = sorted(
            [*results, *(r for r in earlier if r["name"] not in fresh)],
            key=lambda r: order.index(r["name"]) if r["name"] in order else len(order),
        )
    unlisted = sorted(set(known) - {e.name for e in SUITE} - {"all"})
    report = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "results": results,
    }
    report["not_in_suite"] = unlisted
    if args.report:
        args.report.write_text(markdown(report), encoding="utf-8")
        print(f"report written to {args.report}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    short = [r["name"] for r in results if _verdict(r).startswith("ran, short")]
    failed = [r["name"] for r in results if _verdict(r).startswith("failed")]
    print(
        f"{len(results)} benches; short of target: {', '.join(short) or 'none'}; "
        f"failed to run: {', '.join(failed) or 'none'}"
    )
    return 0


def _run_one(entry: Entry, timeout: float) -> dict:
    """Run one bench in its own process; its printed figures, its JSON if it writes one, its exit code.
    A bench given --minutes M may take M minutes more than `timeout`."""
    if "--minutes" in entry.args:
        timeout += 60.0 * float(entry.args[entry.args.index("--minutes") + 1])
    with tempfile.TemporaryDirectory(prefix="halation-bench-all-") as tmp:
        out_json = Path(tmp) / f"{entry.name}.json"
        cmd = [sys.executable, "-m", "engine", "bench", entry.name, *entry.args]
        if entry.json:
            cmd += ["--json", str(out_json)]
        print(f"== {entry.name}: {' '.join(cmd[3:])}", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            rc, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            rc, stdout, stderr = 124, _text(exc.stdout), f"timed out after {timeout:.0f} s"
        seconds = time.monotonic() - started
        figures = json.loads(out_json.read_text()) if out_json.is_file() else None
    print(stdout, flush=True)
    said = [ln for ln in stderr.splitlines() if ln.startswith("halation: error") or "internal error" in ln]
    if rc > 1 and not said:
        said = [stderr.strip()[-300:]]
    return {
        "name": entry.name,
        "args": list(entry.args),
        "target": entry.target,
        "baseline": entry.baseline,
        "rc": rc,
        "seconds": round(seconds, 1),
        "output": stdout.strip(),
        "error": said[-1] if rc and said else "",
        "figures": figures,
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def machine() -> dict:
    """What the figures were measured on."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    renderer = ""
    try:
        import moderngl

        ctx = moderngl.create_standalone_context(backend="egl")
        renderer = ctx.info.get("GL_RENDERER", "")
        ctx.release()
    except Exception as exc:  # a report without a GL context still says so
        renderer = f"no GL context ({exc})"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gl": renderer,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_at_start": round(load, 2),
    }


def markdown(report: dict) -> str:
    """The committed report: machine, date, then per bench its target, its peer and its figures."""
    m = report["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Regenerated by `halation bench all --report docs/benchmarks.md` (every bench, short settings; run a",
        "bench alone with its own flags for longer figures). Figures are medians of repeated runs or ratios",
        "measured side by side in one run, on this machine:",
        "",
        f"- date: {report['date']}",
        f"- CPU: {m['cpu']}, {m['cores']} cores (load {m['load_at_start']} at the start)",
        f"- GL: {m['gl']}",
        f"- Python {m['python']}, {m['os']}",
        "",
        "| bench | target | peer baseline | result |",
        "|---|---|---|---|",
    ]
    for r in report["results"]:
        verdict = _verdict(r)
        lines.append(f"| {r['name']} | {r['target']} | {r['baseline']} | {verdict}, {r['seconds']:.0f} s |")
    lines += ["", "Each bench's own run time is under its heading (a report may merge runs: `--merge`)."]
    for r in report["results"]:
        lines += [
            "",
            f"## {r['name']}",
            "",
            f"`halation bench {' '.join([r['name'], *r['args']])}`",
            "",
        ]
        lines += [
            f"- target: {r['target']}",
            f"- beside: {r['baseline']}",
            f"- run: {r.get('at', report['date'])}",
            "",
        ]
        headline = _headline(r)
        if headline:
            lines += [headline, ""]
        if r["error"]:
            lines += [f"Error: {r['error']}", ""]
        if r["output"]:
            lines += ["```", r["output"], "```"]
    if report.get("not_in_suite"):
        lines += ["", f"Benches not in the suite yet: {', '.join(report['not_in_suite'])}."]
    return "\n".join(lines) + "\n"


def _verdict(r: dict) -> str:
    """A bench exits 1 when a figure misses its target; an error line (or any other code) is a failure."""
    if r["rc"] == 0:
        return "ran"
    if r["rc"] == 1 and not r["error"]:
        return "ran, short of its target (exit 1)"
    return f"failed (exit {r['rc']})"


def _headline(r: dict) -> str:
    """The one line a reader looks for, from the benches whose JSON this suite knows."""
    f = r.get("figures") or {}
    if r["name"] == "latency" and "p99_ms" in f:
        verdict = "within" if f["p99_ms"] <= f["budget_ms"] else "over"
        return (
            f"**audio→swap p50 {f['p50_ms']} / p95 {f['p95_ms']} / p99 {f['p99_ms']} ms, budget "
            f"{f['budget_ms']} ms: p99 {verdict} it** (block {f['block']}, {f['size'][0]}x{f['size'][1]}, "
            f"{f['fps']:g} fps)"
        )
    if r["name"] == "soak" and "frames" in f:
        return (
            f"**{f['crashes']} crashes, {f['black_frames']} black frames, "
            f"{f['slow_frames']} of {f['frames']} frames over 2× the median outside "
            f"{f['look_changes']} look changes; after warm-up RSS "
            f"{f['rss_growth_pct']} %, threads {f['thread_growth']}, fds {f['fd_growth']}, GL objects "
            f"{f['gl_object_growth']}** ({f['minutes']:g} min; warm-up and end sampled with "
            f"{'the same look' if f.get('same_look') else 'different looks'} on screen"
            f"{', target ' + f['verdict'] if 'verdict' in f else ''})"
        )
    return ""
