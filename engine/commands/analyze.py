"""`halation analyze FILE`: what the live engine hears in a track, computed causally hop by hop."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "hear a track as the live engine does: tempo, beats, downbeats, onsets (--json, --plot)"


def add_arguments(p) -> None:
    p.add_argument("file", help="audio file (any format FFmpeg reads)")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object: tempo, beats, downbeats, onsets"
    )
    p.add_argument("--plot", type=Path, help="draw waveform, band levels, onsets and beats into this PNG")
    p.add_argument(
        "--beats-per-bar",
        type=int,
        help="beats per bar for downbeats (default: heard from the music, 3 or 4; giving it fixes it)",
    )
    p.add_argument("--min-bpm", type=float, default=60.0, help="slowest tempo to consider (default 60)")
    p.add_argument("--max-bpm", type=float, default=200.0, help="fastest tempo to consider (default 200)")


def run(args) -> int:
    from engine.analysis.beatclock import ClockSetup
    from engine.analysis.listen import listen
    from engine.audio.file import load_audio
    from engine.errors import HalationError

    try:
        bars = args.beats_per_bar
        fixed = 4 if bars is None else bars
        settings = ClockSetup(args.min_bpm, args.max_bpm, fixed, hear_metre=bars is None).settings()
    except ValueError as exc:
        raise HalationError(f"--min-bpm/--max-bpm/--beats-per-bar: {exc}") from None
    audio = load_audio(args.file)
    mono = audio.mono()
    heard = listen(mono, audio.sample_rate, settings)
    if args.plot:
        from engine.analysis.plot import plot_listening

        plot_listening(heard, mono, audio.sample_rate, args.plot, title=Path(args.file).name)
    if args.json:
        print(json.dumps(heard.as_json()))
    else:
        _print_summary(heard, args.plot)
    return 0


def _print_summary(heard, plot: Path | None) -> None:
    lead = [b.time - b.known_at for b in heard.beats]
    delay = [o.known_at - o.time for o in heard.onsets]
    print(
        f"tempo {heard.tempo:.1f} BPM (confidence {heard.tempo_confidence:.2f}) over {heard.duration:.1f} s"
    )
    print(f"{len(heard.beats)} beats, {len(heard.downbeats)} downbeats, {len(heard.onsets)} onsets")
    if lead:
        print(f"beats known {1000 * sum(lead) / len(lead):.0f} ms ahead on average; onsets known ", end="")
        print(f"{1000 * sum(delay) / max(1, len(delay)):.0f} ms after they happen")
    if plot:
        print(plot)
