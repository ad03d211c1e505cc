"""The song's form: structure events and the autopilot on synthesized songs whose sections are exact.

Each song (engine/audio/songs.py: forms edm, house, short, at a few tempi) is heard causally as a show hears
it. Structure events (drop, breakdown, build-up) are scored against the true section starts of those kinds
(hit = within one beat), with the time each was known after its boundary. The autopilot follows each song
frame by frame (--fps) with the shipped preset library; a change is on target when it lies within one beat
of a true boundary: a section start or every 16 bars into a section. Target: >= 90 % of its changes
(the first look at the start of the show is not a change and is left out).
"""

from __future__ import annotations

import statistics
import time

SONGS = (("edm", 126.0), ("edm", 140.0), ("house", 122.0), ("short", 128.0), ("short", 174.0))
KINDS = {"buildup", "drop", "breakdown"}


def add_arguments(p) -> None:
    p.add_argument("--fps", type=float, default=30.0, help="frames per second the autopilot decides at (30)")
    p.add_argument("--quick", action="store_true", help="only the two short songs")


def _truth(track) -> list[float]:
    bar = 4 * 60.0 / track.bpm
    return [
        s.start + 16 * bar * k for s in track.sections for k in range(16) if s.start + 16 * bar * k < s.end
    ]


def run(args) -> int:
    from engine.analysis.listen import listen
    from engine.audio.songs import FORMS, song
    from engine.paths import PRESETS_DIR
    from engine.show.autopilot import Autopilot, follow_track, load_library

    library = load_library([PRESETS_DIR / "library"])
    songs = [s for s in SONGS if s[0] == "short"] if args.quick else SONGS
    print(f"{'song':>12} {'bars':>5} | events: hit/true false  known after | autopilot: on/changes  offset")
    totals = {"hit": 0, "true": 0, "false": 0, "on": 0, "changes": 0}
    delays, offsets = [], []
    started = time.perf_counter()
    for form, bpm in songs:
        track = song(FORMS[form], bpm)
        beat = 60.0 / bpm
        mono = track.samples.mean(axis=1)
        heard = listen(mono, track.sample_rate)
        starts = [s.start for s in track.sections if s.name in KINDS]
        events = [e for e in heard.structure if e.kind in KINDS]
        hits = [e for e in events if min((abs(e.time - s) for s in starts), default=1e9) <= beat]
        delays += [(e.known_at - e.time) / beat for e in hits]
        changes = follow_track(Autopilot(library), mono, track.sample_rate, args.fps)[1:]
        truth = _truth(track)
        off = [min(abs(c.time - b) for b in truth) / beat for c in changes]
        offsets += off
        on = sum(o <= 1.0 for o in off)
        totals["hit"] += len(hits)
        totals["true"] += len(starts)
        totals["false"] += len(events) - len(hits)
        totals["on"] += on
        totals["changes"] += len(changes)
        bars = round(track.duration / (4 * beat))
        known = statistics.median((e.known_at - e.time) / beat for e in hits) if hits else float("nan")
        name, false, median_off = f"{form} {bpm:.0f}", len(events) - len(hits), statistics.median(off or [0])
        print(
            f"{name:>12} {bars:>5} | {len(hits):>3}/{len(starts):<3} {false:>5}  {known:5.2f} beats"
            f" | {on:>3}/{len(changes):<3} {median_off:5.2f} beats"
        )
    share = totals["on"] / totals["changes"] if totals["changes"] else 0.0
    print(
        f"structure: {totals['hit']}/{totals['true']} boundaries within a beat, {totals['false']} false, "
        f"known a median {statistics.median(delays) if delays else 0:.2f} beats after the boundary"
    )
    print(
        f"autopilot: {totals['on']}/{totals['changes']} changes ({100 * share:.0f} %) within a beat of a "
        f"true boundary (target >= 90 %), median {statistics.median(offsets or [0]):.2f} beats off "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return 0 if share >= 0.9 else 1
