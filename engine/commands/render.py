from __future__ import annotations

import logging
import sys
from pathlib import Path

from engine.commands.common import load_music, output_settings, parse_size, positive
from engine.commands.stageargs import add_stage_arguments, resolve_stage
from engine.errors import HalationError
from engine.paths import DEMO_PRESET

HELP = "render a preset against a track, deterministically, to MP4 (with sound) or PNGs"
log = logging.getLogger("halation")


def add_arguments(p) -> None:
    p.add_argument("--audio", help="audio file (any format FFmpeg reads); default: the built-in demo song")
    p.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    p.add_argument("--out", type=Path, help="output .mp4 (H.264 + AAC audio)")
    p.add_argument("--frames", type=Path, help="also write every frame as a PNG into this folder")
    p.add_argument("--size", type=parse_size, help="WIDTHxHEIGHT (default: the preset's, else 1280x720)")
    p.add_argument("--fps", type=positive(float), help="frames per second (default: the preset's, else 30)")
    p.add_argument("--duration", type=positive(float), help="seconds to render (default: the whole track)")
    p.add_argument("--setlist", type=Path, help="setlist .toml: start at its first cue, as perform does")
    p.add_argument(
        "--replay", type=Path, help="take.jsonl from --record-events: replay its events frame-exactly"
    )
    p.add_argument("--log", type=Path, help="performance log .jsonl (default: the show folder's logs/)")
    add_stage_arguments(p)
    p.add_argument(
        "--output",
        metavar="NAME",
        help="with --stage: render what this output shows, at its size (default: the first output)",
    )


def write_render(
    preset,
    audio,
    size,
    fps,
    duration,
    out: Path | None,
    frames_dir: Path | None,
    hooks=(),
    output=None,
    flash_limit: str = "standard",
) -> int:
    """Render to the video file and/or PNG folder with a progress bar; returns the number of frames.
    With `output` (an OutputSpec), the files hold what that output shows, at its size."""
    from tqdm import tqdm

    from engine.offline import render_frames
    from engine.output.frames import PngSequence
    from engine.output.video import VideoWriter

    duration = audio.duration if duration is None else min(duration, audio.duration)
    sinks = []
    if out is not None:
        sinks.append(VideoWriter(out, output.size if output else size, fps, audio.until(duration)))
    if frames_dir is not None:
        sinks.append(PngSequence(frames_dir))
    frames = render_frames(preset, audio, size, fps, duration, hooks, output, flash_limit)
    count = 0
    try:
        bar = tqdm(
            frames, total=round(duration * fps), unit="frame", desc="render", disable=None, file=sys.stderr
        )
        for _, rgba in bar:
            for sink in sinks:
                sink.write(rgba)
            count += 1
    finally:
        for sink in sinks:
            sink.close()
    return count


def run(args) -> int:
    from engine.show.preset import load_preset

    if args.out is None and args.frames is None:
        raise HalationError("render: give --out FILE.mp4 and/or --frames DIR")
    preset = load_preset(args.preset)
    size, fps = output_settings(args, preset)
    stage, flash_limit = resolve_stage(args, size)
    if args.output is not None and args.stage is None:
        raise HalationError(f"--output {args.output}: give --stage FILE too (the outputs are named there)")
    output = stage.output(args.output) if args.output else stage.outputs[0]
    hooks = _show_hooks(args, preset)
    music = load_music(args.audio)
    n = write_render(
        preset, music, size, fps, args.duration, args.out, args.frames, hooks, output, flash_limit
    )
    for where in (args.out, args.frames):
        if where is not None:
            print(where)
    log.info("rendered %d frames", n)
    return 0


def _show_hooks(args, preset) -> list:
    """The setlist and replayed take (applied before each frame), then the performance log (after)."""
    from engine.show.events import ReplayHook, load_take
    from engine.show.perflog import PerfLogHook, open_perflog
    from engine.show.setlist import load_setlist

    setlist = load_setlist(args.setlist) if args.setlist else None
    replay = ReplayHook(load_take(args.replay) if args.replay else None, setlist)
    perflog = open_perflog(
        args.log, "render", preset=preset.path, setlist=args.setlist, audio=args.audio, replay=args.replay
    )
    return [replay, PerfLogHook(perflog, lambda: replay.cue_name)]
