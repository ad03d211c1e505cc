"""`halation rehearse TRACK`: the show against a real track in real time, the way it will run at the gig,
with what a rehearsal needs on top: start at the drop, loop a section, and see a saved preset at once."""

from __future__ import annotations

import logging
from pathlib import Path

from engine.commands.perform import add_show_arguments, run_show
from engine.errors import HalationError
from engine.paths import DEMO_PRESET

log = logging.getLogger("halation")

HELP = "rehearse a preset against a track in real time: a section, looped; a saved preset shows at once"


def add_arguments(p) -> None:
    p.add_argument("track", help="audio file (any format FFmpeg reads)")
    p.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    p.add_argument("--from", dest="start", type=float, default=0.0, metavar="SECONDS", help="start here")
    p.add_argument("--to", dest="stop", type=float, metavar="SECONDS", help="stop here (default: the end)")
    p.add_argument(
        "--loop",
        action="store_true",
        help="play the section again and again (until --duration or Esc), snapped to whole bars",
    )
    p.add_argument("--exact", action="store_true", help="with --loop: exactly --from..--to, not whole bars")
    add_show_arguments(p)


def run(args) -> int:
    from engine.audio.feed import BufferFeed
    from engine.audio.file import load_audio
    from engine.show.preset import load_preset

    preset = load_preset(args.preset)
    track = load_audio(args.track)
    stop = track.duration if args.stop is None else args.stop
    if not 0.0 <= args.start < stop <= track.duration + 1e-6:
        raise HalationError(
            f"--from {args.start:g} --to {stop:g}: the section must lie within the track"
            f" (0..{track.duration:.1f} s)"
        )
    start = args.start
    if args.loop and not args.exact:
        start, stop = _whole_bars(track, preset, start, stop)
    section = track.section(start, stop)
    feed = BufferFeed(section, play=not args.no_sound, device=args.audio_out, loop=args.loop)
    return run_show(
        args, preset, feed, end=None if args.loop else section.duration, watch_preset=True, hud=True
    )


def _whole_bars(track, preset, start: float, stop: float) -> tuple[float, float]:
    """The section snapped to whole bars of the track's beat, heard as the live engine hears it."""
    from engine.analysis.listen import listen
    from engine.show.rehearsal import bar_loop

    setup = preset.clock_setup()
    heard_until = min(track.duration, stop + 4 * 240.0 / setup.max_bpm)  # a bar or so past the end
    heard = listen(track.until(heard_until).mono(), track.sample_rate, setup.settings())
    section = bar_loop(heard, start, stop, setup.beats_per_bar, track.duration)
    if section.bars:
        log.info(
            "looping %.2f-%.2f s: %d bars at %.1f BPM (--exact for the times as given)",
            section.start,
            section.stop,
            section.bars,
            section.bpm,
        )
    else:
        log.info("looping %.2f-%.2f s as given: no beat heard there", start, stop)
    return section.start, section.stop
