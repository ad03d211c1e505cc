from __future__ import annotations

from pathlib import Path

from engine.commands.common import DEFAULT_SIZE, load_music, positive
from engine.paths import DEMO_PRESET

HELP = "play the built-in demo (window with sound), or render demo.mp4 when there is no display"


def add_arguments(p) -> None:
    p.add_argument("--render", action="store_true", help="render the video file even when a display exists")
    p.add_argument("--out", type=Path, default=Path("demo.mp4"), help="video file when rendering (demo.mp4)")
    p.add_argument("--duration", type=positive(float), help="seconds to play or render (default: whole song)")


def run(args) -> int:
    from engine.commands.render import write_render
    from engine.output.window import display_available
    from engine.show.preset import load_preset

    preset = load_preset(DEMO_PRESET)
    size = preset.size or DEFAULT_SIZE
    if display_available() and not args.render:
        from engine.audio.feed import BufferFeed
        from engine.live import perform

        print("Halation demo: built-in music; Esc or Q quits, F toggles fullscreen")
        music = load_music(None)
        stats = perform(preset, BufferFeed(music), size=size, duration=args.duration, end=music.duration)
        print(stats.summary())
        return 0
    print("no display: rendering the demo to a video file")
    write_render(preset, load_music(None), size, preset.fps or 30.0, args.duration, args.out, None)
    print(args.out.resolve())
    return 0
