"""The `halation` command: one entry point, one subcommand per job.

Errors the user can fix are one line naming the file or option (exit 1); usage errors exit 2; a traceback
only with --debug.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from engine import __version__
from engine.errors import HalationError
from engine.paths import DEMO_PRESET

log = logging.getLogger("halation")

DEFAULT_SIZE = (1280, 720)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if w < 2 or h < 2 or w > 8192 or h > 8192 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"'{text}': width and height must be even, 2..8192")
    return w, h


def positive(kind: type) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"'{text}' must be positive")
        return value

    return parse


# ---------------------------------------------------------------- shared pieces


def load_music(path: str | None):
    """The audio file given, or the built-in demo song when none is."""
    from engine.audio.buffer import AudioBuffer

    if path:
        from engine.audio.file import load_audio

        return load_audio(path)
    from engine.audio.synth import demo_track

    track = demo_track()
    return AudioBuffer(track.samples, track.sample_rate)


def output_settings(args, preset) -> tuple[tuple[int, int], float]:
    size = args.size or preset.size or DEFAULT_SIZE
    fps = args.fps or preset.fps or 30.0
    return tuple(size), float(fps)


def write_render(preset, audio, size, fps, duration, out: Path | None, frames_dir: Path | None) -> int:
    from tqdm import tqdm

    from engine.offline import render_frames
    from engine.output.frames import PngSequence
    from engine.output.video import VideoWriter

    duration = audio.duration if duration is None else min(duration, audio.duration)
    sinks = []
    if out is not None:
        sinks.append(VideoWriter(out, size, fps, audio.until(duration)))
    if frames_dir is not None:
        sinks.append(PngSequence(frames_dir))
    total = round(duration * fps)
    count = 0
    try:
        for _, rgba in tqdm(
            render_frames(preset, audio, size, fps, duration),
            total=total,
            unit="frame",
            desc="render",
            disable=None,
            file=sys.stderr,
        ):
            for sink in sinks:
                sink.write(rgba)
            count += 1
    finally:
        for sink in sinks:
            sink.close()
    return count


# ---------------------------------------------------------------- subcommands


def cmd_render(args) -> int:
    from engine.show.preset import load_preset

    if args.out is None and args.frames is None:
        raise HalationError("render: give --out FILE.mp4 and/or --frames DIR")
    preset = load_preset(args.preset)
    size, fps = output_settings(args, preset)
    audio = load_music(args.audio)
    n = write_render(preset, audio, size, fps, args.duration, args.out, args.frames)
    for where in (args.out, args.frames):
        if where is not None:
            print(where)
    log.info("rendered %d frames", n)
    return 0


def cmd_perform(args) -> int:
    from engine.live import perform
    from engine.show.preset import load_preset

    preset = load_preset(args.preset)
    size, _ = output_settings(args, preset)
    stats = perform(
        preset,
        load_music(args.audio),
        size=size,
        fps=args.fps or 60.0,
        duration=args.duration,
        headless=args.headless,
        monitor=args.monitor,
        play_audio=not args.no_sound,
        audio_device=args.audio_out,
    )
    print(stats.summary())
    return 0


def cmd_demo(args) -> int:
    from engine.output.window import display_available
    from engine.show.preset import load_preset

    preset = load_preset(DEMO_PRESET)
    if display_available() and not args.render:
        from engine.live import perform

        print("Halation demo: built-in music, Esc or Q to quit, F for fullscreen")
        stats = perform(preset, load_music(None), size=preset.size or DEFAULT_SIZE, duration=args.duration)
        print(stats.summary())
        return 0
    print("no display: rendering the demo to a video file")
    size, fps = preset.size or DEFAULT_SIZE, preset.fps or 30.0
    write_render(preset, load_music(None), size, fps, args.duration, args.out, None)
    print(args.out.resolve())
    return 0


def cmd_devices(args) -> int:
    from engine.audio.devices import list_audio_devices, list_monitors

    print("Audio devices:")
    for line in list_audio_devices():
        print(f"  {line}")
    print("Monitors:")
    for line in list_monitors():
        print(f"  {line}")
    return 0


def cmd_check(args) -> int:
    from engine.show.validate import check_paths

    failures, total = check_paths(args.paths, thumbs=args.thumbs)
    for failure in failures:
        print(failure)
    print(f"{total} checked, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="halation",
        description="Halation: real-time audio-reactive visuals — shaders and AI clips driven by the music.",
    )
    p.add_argument("--version", action="version", version=f"halation {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    d = add(
        "demo", cmd_demo, "play the built-in demo (window with sound), or render demo.mp4 without a display"
    )
    d.add_argument("--render", action="store_true", help="render the video file even when a display exists")
    d.add_argument("--out", type=Path, default=Path("demo.mp4"), help="video file when rendering (demo.mp4)")
    d.add_argument("--duration", type=positive(float), help="seconds to play or render (default: whole song)")

    r = add(
        "render",
        cmd_render,
        "render a preset against a track, deterministically, to MP4 (with sound) or PNGs",
    )
    r.add_argument("--audio", help="audio file (any format FFmpeg reads); default: the built-in demo song")
    r.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    r.add_argument("--out", type=Path, help="output .mp4 (H.264 + AAC audio)")
    r.add_argument("--frames", type=Path, help="also write every frame as a PNG into this folder")
    r.add_argument("--size", type=parse_size, help="WIDTHxHEIGHT (default: the preset's, else 1280x720)")
    r.add_argument("--fps", type=positive(float), help="frames per second (default: the preset's, else 30)")
    r.add_argument("--duration", type=positive(float), help="seconds to render (default: the whole track)")

    f = add(
        "perform", cmd_perform, "run the show live: window (or --headless) following the music in real time"
    )
    f.add_argument("--audio", help="audio file to play and follow; default: the built-in demo song")
    f.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    f.add_argument(
        "--headless", action="store_true", help="render offscreen, no window (for servers and tests)"
    )
    f.add_argument("--duration", type=positive(float), help="stop after this many seconds")
    f.add_argument("--size", type=parse_size, help="render size WIDTHxHEIGHT")
    f.add_argument("--fps", type=positive(float), help="frame rate when headless (default 60)")
    f.add_argument("--monitor", type=int, help="open fullscreen on this monitor (see `halation devices`)")
    f.add_argument("--no-sound", action="store_true", help="do not play the audio to the speakers")
    f.add_argument("--audio-out", help="output device name or index for the sound (default: system default)")

    v = add("devices", cmd_devices, "list audio devices and monitors")
    v.set_defaults(func=cmd_devices)

    c = add("check", cmd_check, "validate shaders (.fs) and presets (.toml): exit 0 only if all are valid")
    c.add_argument("paths", nargs="+", type=Path, help="files or folders to check")
    c.add_argument("--thumbs", type=Path, help="write a PNG thumbnail per shader into this folder")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="halation: %(message)s", stream=sys.stderr
    )
    try:
        return args.func(args)
    except HalationError as exc:
        if args.debug:
            raise
        print(f"halation: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"halation: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1
