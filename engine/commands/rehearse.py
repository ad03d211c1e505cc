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


HEAD_SECONDS = 4.0  # decoded before the first frame; the rest streams in behind the play position
LEAD_IN = 12.0  # seconds heard before --from to find its downbeat (the beat clock locks in a few seconds)


def run(args) -> int:
    from engine.audio.file import audio_duration
    from engine.show.preset import load_preset

    preset = load_preset(args.preset)
    duration = audio_duration(args.track)
    stop = duration if args.stop is None else args.stop
    if not 0.0 <= args.start < stop <= duration + 1e-6:
        raise HalationError(
            f"--from {args.start:g} --to {stop:g}: the section must lie within the track"
            f" (0..{duration:.1f} s)"
        )
    start = args.start
    if args.loop and not args.exact:
        start, stop = _whole_bars(args.track, preset, start, stop, duration)
    feed = _streamed_section(args, start, stop)
    return run_show(args, preset, feed, end=None if args.loop else stop - start, watch_preset=True, hud=True)


def _streamed_section(args, start: float, stop: float):
    """A feed of the track's `start`..`stop`: the first seconds decoded now, so the first frame comes at
    once whatever the track's length, and the rest decoded on a thread into the same buffer."""
    import threading

    import numpy as np

    from engine.audio.buffer import SAMPLE_RATE, AudioBuffer
    from engine.audio.feed import BufferFeed
    from engine.audio.file import stream_audio

    n = max(1, round((stop - start) * SAMPLE_RATE))
    silence = AudioBuffer(np.zeros((n, 2), np.float32), SAMPLE_RATE)  # the speakers play what fills it
    feed = BufferFeed(
        silence, play=not args.no_sound, device=args.audio_out, loop=args.loop, mono=np.zeros(n, np.float32)
    )
    chunks = stream_audio(args.track, start)
    at = 0
    for chunk in chunks:
        feed.write(at, chunk)
        at += len(chunk)
        if at >= min(n, HEAD_SECONDS * SAMPLE_RATE):
            break

    def rest(at: int = at) -> None:
        try:
            for chunk in chunks:
                if at >= n:
                    break
                feed.write(at, chunk)
                at += len(chunk)
        except HalationError as exc:  # a damaged tail: what was read plays, the rest is silence
            log.error("%s (the rest of the section is silent)", exc)

    if at < n:  # decoding runs far faster than real time: the reader stays ahead of the play position
        threading.Thread(target=rest, name="halation-track-reader", daemon=True).start()
    return feed


def _excerpt(path: str, start: float, stop: float):
    """The track's `start`..`stop` as an AudioBuffer (decoded from there: a short read of a long file)."""
    import numpy as np

    from engine.audio.buffer import SAMPLE_RATE, AudioBuffer
    from engine.audio.file import stream_audio

    want, got, parts = round((stop - start) * SAMPLE_RATE), 0, []
    for chunk in stream_audio(path, start):
        parts.append(chunk[: want - got])
        got += len(parts[-1])
        if got >= want:
            break
    return AudioBuffer(np.concatenate(parts) if parts else np.zeros((0, 2), np.float32), SAMPLE_RATE)


def _whole_bars(path: str, preset, start: float, stop: float, duration: float) -> tuple[float, float]:
    """The section snapped to whole bars of the track's beat, heard as the live engine hears it: from a
    few seconds before `start` to a beat after it (enough to lock the beat and find the downbeat), so the
    snap costs the same on a long track as on a short one; bars past what was heard follow its tempo."""
    from dataclasses import replace

    from engine.analysis.listen import listen
    from engine.show.rehearsal import bar_loop

    setup = preset.clock_setup()
    begin = max(0.0, start - LEAD_IN)
    upto = min(duration, start + 4 * 240.0 / setup.max_bpm)  # a bar or so past the start
    excerpt = _excerpt(path, begin, upto)
    heard = listen(excerpt.mono(), excerpt.sample_rate, setup.settings())
    heard = replace(  # times on the track's clock
        heard,
        beats=[replace(b, time=b.time + begin, known_at=b.known_at + begin) for b in heard.beats],
        downbeats=[t + begin for t in heard.downbeats],
    )
    section = bar_loop(heard, start, stop, setup.beats_per_bar, duration)
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
