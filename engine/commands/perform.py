from __future__ import annotations

from pathlib import Path

from engine.commands.common import load_music, output_settings, parse_size, positive
from engine.control.options import add_control_arguments, build_controls
from engine.paths import DEMO_PRESET

HELP = "run the show live: a window (or --headless) following the music in real time"


def add_arguments(p) -> None:
    p.add_argument("--audio", help="audio file to play and follow; default: the built-in demo song")
    p.add_argument("--preset", type=Path, default=DEMO_PRESET, help="preset .toml (default: the demo preset)")
    p.add_argument(
        "--headless", action="store_true", help="render offscreen, no window (for servers and tests)"
    )
    p.add_argument("--duration", type=positive(float), help="stop after this many seconds")
    p.add_argument("--size", type=parse_size, help="render size WIDTHxHEIGHT")
    p.add_argument("--fps", type=positive(float), help="frame rate when headless (default 60)")
    p.add_argument("--monitor", type=int, help="open fullscreen on this monitor (see `halation devices`)")
    p.add_argument("--no-sound", action="store_true", help="do not play the audio to the speakers")
    p.add_argument("--audio-out", help="output device name or index for the sound (default: system default)")
    p.add_argument("--setlist", type=Path, help="setlist .toml: cues the desk steps through (go, back, goto)")
    add_control_arguments(p)


def run(args) -> int:
    from engine.audio.feed import BufferFeed
    from engine.live import perform
    from engine.show.preset import load_preset
    from engine.show.setlist import load_setlist

    preset = load_preset(args.preset)
    size, _ = output_settings(args, preset)
    music = load_music(args.audio)
    controls = build_controls(args)
    stats = perform(
        preset,
        BufferFeed(music, play=not args.no_sound, device=args.audio_out),
        size=size,
        fps=args.fps or 60.0,
        duration=args.duration,
        end=music.duration,
        headless=args.headless,
        monitor=args.monitor,
        controls=controls,
        setlist=load_setlist(args.setlist) if args.setlist else None,
    )
    print(stats.summary())
    return 0
