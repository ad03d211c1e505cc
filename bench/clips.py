"""How many clips play at once without dropping a frame: H.264 sources vs prepared (HAP) clips, 720p30 and
1080p30, each stream decoded by its own worker and uploaded every frame; plus prepare throughput on CPU.

A frame is dropped when the render loop needs it and its worker has not decoded it yet. Streams play
together for --seconds (default 60) at 30 fps, paced like a display; CPU is process CPU time per wall
second (200 % = both cores), memory is resident set size at the end.
"""

from __future__ import annotations

import time
from pathlib import Path

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def add_arguments(p) -> None:
    p.add_argument("--seconds", type=float, default=60.0, help="how long each trial plays (60)")
    p.add_argument("--streams", default="1,2,4,6", help="stream counts to try, in order (1,2,4,6)")
    p.add_argument("--sizes", default="720p,1080p", help="sizes to test (720p,1080p)")
    p.add_argument("--formats", default="h264,prepared", help="formats to test (h264,prepared)")
    p.add_argument("--work", type=Path, default=Path("/tmp/halation-bench-clips"), help="fixture folder")
    p.add_argument(
        "--soak",
        type=float,
        default=0.0,
        help="instead: cycle clips through two decks for this many seconds and report RSS over time",
    )


def source_clip(work: Path) -> Path:
    """A real AI clip from ../shared/data when present, else one of our generated clips."""
    from engine.paths import PRESETS_DIR, ROOT

    shared = sorted((ROOT.parent / "shared" / "data" / "clips").rglob("*.mp4"))
    return shared[0] if shared else PRESETS_DIR / "demo" / "clips" / "nebula.mp4"


def fixtures(work: Path, size_name: str) -> dict[str, Path]:
    """The same clip as H.264 (default GOP, as delivered) and prepared, at the given size, 30 fps, ≥ 4 s."""
    import av

    from engine.clips.conform import conform
    from engine.clips.prepare import PrepareSettings, prepare

    size = SIZES[size_name]
    work.mkdir(parents=True, exist_ok=True)
    h264 = work / f"clip_{size_name}.mp4"
    if not h264.exists():
        frames = conform(source_clip(work), size, 30.0).frames
        while len(frames) < 120:
            frames = frames.repeat(2, axis=0)[: max(120, len(frames))]
        with av.open(str(h264), "w") as out:
            s = out.add_stream("libx264", rate=30)
            s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
            for f in frames:
                out.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
            out.mux(s.encode(None))
    prepared_dir = work / f"prepared_{size_name}"
    prepare([h264], prepared_dir, PrepareSettings(size, 30.0))
    return {"h264": h264, "prepared": prepared_dir / f"clip_{size_name}.mov"}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def trial(ctx, path: Path, streams: int, seconds: float, fps: float = 30.0) -> dict:
    """Play `streams` copies (staggered) for `seconds`; count dropped frames."""
    from engine.clips.decoder import DecodeWorker
    from engine.clips.sources import open_source
    from engine.render.cliptexture import ClipTexture

    workers = [DecodeWorker(open_source(path), capacity=8) for _ in range(streams)]
    textures = [ClipTexture(ctx) for _ in range(streams)]
    offsets = [i * 7 for i in range(streams)]
    for w, o in zip(workers, offsets, strict=True):  # preload, as a deck does before its trigger
        w.want(tuple(range(o, o + 8)))
    time.sleep(0.5)
    drops = frames = 0
    cpu0, t0 = time.process_time(), time.monotonic()
    n_frames = int(seconds * fps)
    for n in range(n_frames):
        for w, tex, o in zip(workers, textures, offsets, strict=True):
            index = (n + o) % w.source.frame_count
            w.want(tuple(range(index, index + 8)))
            payload = w.get(index)
            frames += 1
            if payload is None:
                drops += 1
            else:
                tex.upload(w.source.kind, w.source.size, payload)
        ctx.finish()
        time.sleep(max(0.0, t0 + (n + 1) / fps - time.monotonic()))
    wall = time.monotonic() - t0
    result = {
        "drops": drops,
        "frames": frames,
        "cpu_pct": 100 * (time.process_time() - cpu0) / wall,
        "rss_mb": rss_mb(),
        "late_s": wall - seconds,
    }
    for w, tex in zip(workers, textures, strict=True):
        w.close()
        tex.release()
    return result


PASSTHROUGH = """/*{ "ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}] }*/
void main() { gl_FragColor = IMG_NORM_PIXEL(inputImage, isf_FragNormCoord); }
"""


def crossfade_trial(ctx, work: Path, size_name: str, seconds: float, fps: float = 30.0) -> dict:
    """The real pipeline, live mode: two prepared decks through the fade transition at the output size,
    crossfader at 0.5 (both decks decode and upload every frame), paced at 30 fps."""
    from engine.analysis.features import silent_features
    from engine.app import Show
    from engine.clock import FrameTime
    from engine.render.context import Offscreen
    from engine.show.preset import load_preset

    clip = fixtures(work, size_name)["prepared"]
    (work / "passthrough.fs").write_text(PASSTHROUGH)
    preset_path = work / f"crossfade_{size_name}.toml"
    preset_path.write_text(
        f'name = "bench"\n[shader]\nfile = "passthrough.fs"\n[clips]\na = "{clip}"\nb = "{clip}"\n'
        f"crossfade = 0.5\nspeed = 1.0\n"
    )
    size = SIZES[size_name]
    show = Show(ctx, load_preset(preset_path), size, live=True)
    target = Offscreen(ctx, size)
    features = silent_features(("bass",))
    for deck in show.pipeline.clips.decks:  # a show preloads a clip before it goes on air
        deck.wait_ready()
    t0 = time.monotonic()
    render_ms = []
    for n in range(int(seconds * fps)):
        f0 = time.perf_counter()
        show.draw(FrameTime(n, n / fps, 1 / fps, (2000.0, 1.0, 1.0, 0.0)), features, target.fbo)
        ctx.finish()
        render_ms.append(1000 * (time.perf_counter() - f0))
        time.sleep(max(0.0, t0 + (n + 1) / fps - time.monotonic()))
    misses = sum(deck.misses for deck in show.pipeline.clips.decks)
    show.release()
    target.release()
    render_ms.sort()
    return {"drops": misses, "median_ms": render_ms[len(render_ms) // 2], "rss_mb": rss_mb()}


def prepare_throughput(work: Path) -> float:
    from engine.clips.prepare import PrepareSettings, prepare

    src = fixtures(work, "720p")["h264"]
    out = work / "throughput"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    t0 = time.monotonic()
    prepare([src], out, PrepareSettings((1280, 720), 30.0))
    import av

    with av.open(str(src)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    return frames / (time.monotonic() - t0)


def soak(ctx, path: Path, seconds: float, fps: float = 30.0) -> list[tuple[float, float]]:
    """Two decks alternate: a new clip (worker + texture) every 2 s, as a show cycling clips would."""
    from engine.clips.decoder import DecodeWorker
    from engine.clips.sources import open_source
    from engine.render.cliptexture import ClipTexture

    samples, t0, n = [], time.monotonic(), 0
    decks: list = []
    while time.monotonic() - t0 < seconds:
        if n % int(2 * fps) == 0:
            decks.append((DecodeWorker(open_source(path)), ClipTexture(ctx)))
            if len(decks) > 2:
                old_worker, old_tex = decks.pop(0)
                old_worker.close()
                old_tex.release()
        for worker, tex in decks:
            index = n % worker.source.frame_count
            worker.want(tuple(range(index, index + 8)))
            if (payload := worker.get(index)) is not None:
                tex.upload(worker.source.kind, worker.source.size, payload)
        ctx.finish()
        if n % int(10 * fps) == 0:
            samples.append((time.monotonic() - t0, rss_mb()))
        n += 1
        time.sleep(max(0.0, t0 + n / fps - time.monotonic()))
    for worker, tex in decks:
        worker.close()
        tex.release()
    return samples


def run(args) -> int:
    from engine.render.context import headless_context

    ctx = headless_context()
    if args.soak:
        samples = soak(ctx, fixtures(args.work, "720p")["prepared"], args.soak)
        for t, mb in samples:
            print(f"{t:6.0f} s  rss {mb:7.1f} MB")
        settled = [mb for t, mb in samples if t >= 30] or [samples[-1][1]]
        growth = settled[-1] - settled[0]
        print(
            f"rss after 30 s: min {min(settled):.1f} MB, max {max(settled):.1f} MB, growth {growth:+.1f} MB"
        )
        return 0
    counts = [int(s) for s in args.streams.split(",")]
    print(f"clip playback, {args.seconds:.0f} s per trial at 30 fps (drops = frames not decoded in time)")
    print(f"{'size':6} {'format':9} {'streams':>7} {'drops':>7} {'cpu %':>6} {'rss MB':>7}")
    for size_name in args.sizes.split(","):
        paths = fixtures(args.work, size_name)
        for fmt in args.formats.split(","):
            best = 0
            for n in counts:
                r = trial(ctx, paths[fmt], n, args.seconds)
                print(f"{size_name:6} {fmt:9} {n:7d} {r['drops']:7d} {r['cpu_pct']:6.0f} {r['rss_mb']:7.0f}")
                if r["drops"]:
                    break
                best = n
            print(f"{size_name:6} {fmt:9} → {best} simultaneous streams with zero drops")
    for size_name in args.sizes.split(","):
        r = crossfade_trial(ctx, args.work, size_name, args.seconds)
        print(
            f"{size_name} A/B crossfade through the pipeline (prepared): {r['drops']} dropped clip frames, "
            f"median render {r['median_ms']:.1f} ms, rss {r['rss_mb']:.0f} MB"
        )
    print(f"prepare throughput on CPU (720p30): {prepare_throughput(args.work):.1f} frames/s")
    return 0
