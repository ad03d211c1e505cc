from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands.common import load_music, output_settings, parse_size, positive
from engine.commands.stageargs import add_stage_arguments, resolve_stage
from engine.control.options import add_control_arguments, build_controls
from engine.errors import HalationError
from engine.paths import DEMO_PRESET
from engine.sync.options import add_sync_arguments, build_sync

HELP = "run the show live: a window (or --headless) following the music in real time"


def add_arguments(p) -> None:
    p.add_argument("--audio", help="audio file to play and follow; default: the built-in demo song")
    p.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    p.add_argument(
        "--audio-device", help="listen live to this input (name substring or index; see `devices`)"
    )
    p.add_argument("--audio-channels", help="input channels to mix, 1-based, e.g. 1 or 1,2 (default: all)")
    p.add_argument("--block-size", type=int, default=256, help="capture block in samples, 64..1024 (256)")
    add_sync_arguments(p)
    add_show_arguments(p)


def add_show_arguments(p) -> None:
    """Where the show goes, how long it runs and who drives it (shared with `rehearse`)."""
    p.add_argument(
        "--headless", action="store_true", help="render offscreen, no window (for servers and tests)"
    )
    p.add_argument("--duration", type=positive(float), help="stop after this many seconds")
    p.add_argument("--size", type=parse_size, help="render size WIDTHxHEIGHT")
    p.add_argument("--fps", type=positive(float), help="frame rate when headless (default 60)")
    p.add_argument(
        "--monitor", type=int, help="fullscreen on this monitor (the projector; see `halation devices`)"
    )
    p.add_argument(
        "--no-preview", action="store_true", help="with --monitor: no preview window on the laptop"
    )
    p.add_argument(
        "--av-offset",
        type=_offset,
        default=0.0,
        metavar="MS",
        help="draw frames this many ms ahead of the audio, for the projector's delay (flash test; 0)",
    )
    p.add_argument(
        "--hud",
        action="store_true",
        help="show tempo, beat and band meters on the preview (never the projector)",
    )
    p.add_argument("--no-sound", action="store_true", help="do not play the audio to the speakers")
    p.add_argument("--audio-out", help="output device name or index for the sound (default: system default)")
    p.add_argument("--setlist", type=Path, help="setlist .toml: cues the desk steps through (go, back, goto)")
    p.add_argument(
        "--record-events",
        type=Path,
        metavar="TAKE",
        help="record every control event with its show time (take.jsonl; replay with render --replay)",
    )
    p.add_argument("--log", type=Path, help="performance log .jsonl (default: the show folder's logs/)")
    p.add_argument(
        "--autopilot",
        action="store_true",
        help="change looks with the song's form (phrases, drops, breakdowns, build-ups); no setlist needed",
    )
    p.add_argument(
        "--autopilot-presets",
        type=Path,
        action="append",
        metavar="PATH",
        help="presets (files or folders) the autopilot picks from (default: the shipped library)",
    )
    p.add_argument("--autopilot-tags", default="", help="only presets with these tags, e.g. techno,dark")
    p.add_argument(
        "--autopilot-hold",
        type=positive(float),
        default=8.0,
        metavar="BARS",
        help="an operator action holds the autopilot off this many bars (8)",
    )
    p.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="record the program with the input audio to this .mp4 (also /hl/master/record_start|stop)",
    )
    add_stage_arguments(p)
    add_control_arguments(p)


def _offset(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of milliseconds") from None
    if not -500.0 <= value <= 500.0:
        raise argparse.ArgumentTypeError(f"{text} ms: use -500..500 (a projector lags 30-120 ms)")
    return value


def run(args) -> int:
    from engine.audio.feed import BufferFeed
    from engine.show.preset import load_preset

    preset = load_preset(args.preset)
    if args.follow:  # a render node: the leader's ears, no audio here
        from engine.sync.follow import ClockFeed

        if args.audio or args.audio_device is not None:
            raise HalationError("--follow draws from the leader's stream: drop --audio / --audio-device")

        return run_show(args, preset, ClockFeed(), None)
    if args.audio_device is not None:
        from engine.audio.capture import LiveCapture, parse_channels

        if not 64 <= args.block_size <= 1024:
            raise HalationError(f"--block-size {args.block_size}: use 64..1024 samples")
        device = int(args.audio_device) if args.audio_device.isdigit() else args.audio_device
        feed, end = LiveCapture(device, parse_channels(args.audio_channels), blocksize=args.block_size), None
    else:
        music = load_music(args.audio)
        feed, end = BufferFeed(music, play=not args.no_sound, device=args.audio_out), music.duration
    return run_show(args, preset, feed, end)


def run_show(args, preset, feed, end: float | None, watch_preset: bool = False, hud: bool = False) -> int:
    """Run the show on `feed` until `end` (audio seconds), --duration, or the window closes."""
    from engine.live import perform
    from engine.show.setlist import load_setlist

    size, _ = output_settings(args, preset)
    stage, flash_limit = resolve_stage(args, size)
    controls = build_controls(args)
    stages, sinks = build_sync(args, feed, size)
    perflog, recorder = _show_records(args, preset)
    stats = perform(
        preset,
        feed,
        size=size,
        fps=args.fps or 60.0,
        duration=args.duration,
        end=end,
        headless=args.headless,
        monitor=args.monitor,
        controls=controls,
        setlist=load_setlist(args.setlist) if args.setlist else None,
        preview=not args.no_preview,
        watch_preset=watch_preset,
        av_offset=args.av_offset / 1000.0,
        hud=hud or args.hud,
        stages=tuple(stages),
        sinks=tuple(sinks),
        perflog=perflog,
        recorder=recorder,
        autopilot=_autopilot(args),
        stage=stage,
        flash_limit=flash_limit,
        record=args.record,
    )
    print(stats.summary())
    if hasattr(feed, "status"):
        status = feed.status()
        device = status.device or "no device"
        print(f"capture: {device}, {status.overflows} overflows, {status.reconnects} reconnects")
    return 0


def _show_records(args, preset):
    """The performance log (always; --log or the show folder's logs/) and the take (--record-events)."""
    from engine.show.events import EventRecorder
    from engine.show.perflog import open_perflog

    kind = getattr(args, "command", None) or "perform"
    audio = getattr(args, "audio", None) or getattr(args, "track", None)
    meta = {"preset": preset.path, "setlist": args.setlist, "audio": audio}
    recorder = None
    if args.record_events is not None:
        recorder = EventRecorder(args.record_events, kind=kind, av_offset=args.av_offset / 1000.0, **meta)
    return open_perflog(args.log, kind, **meta), recorder


def _autopilot(args):
    """The autopilot the command line asks for, with its library of looks; None without --autopilot."""
    if not args.autopilot:
        return None
    from engine.paths import PRESETS_DIR
    from engine.show.autopilot import Autopilot, AutopilotSettings, load_library

    tags = tuple(t.strip() for t in args.autopilot_tags.split(",") if t.strip())
    library = PRESETS_DIR / "library"
    sources = args.autopilot_presets or [library if library.is_dir() else PRESETS_DIR]
    settings = AutopilotSettings(hold_bars=args.autopilot_hold, tags=tags)
    return Autopilot(load_library(sources, tags), settings)
