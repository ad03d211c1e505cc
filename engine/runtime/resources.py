"""What a long show holds: resident memory, threads, open files and live GL objects, counted so a soak can
prove none of them grows (a recall that leaves a pipeline behind, a cache without a bound, a worker that is
never joined)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import os
import threading
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc mallopt() parameters (malloc.h)
ARENAS = 2  # malloc arenas for the whole show (glibc's default is 8 per core)
# a show's blocks this big or bigger get pages of their own, handed back when freed
MMAP_THRESHOLD = 128 * 1024
SHOW_COMMANDS = ("perform", "rehearse", "demo")  # commands that run a show (and the benches of one)
BATCH_BENCHES = ("clips", "analysis", "peers", "structure", "all")  # benches of batch work (prepare, analyze)
TRIM_EVERY = 30.0  # seconds between hand-backs of freed heap memory to the system during a show

_GL_KINDS = ("Texture", "Framebuffer", "Program", "Buffer", "VertexArray", "Query", "Renderbuffer", "Sampler")


@dataclass(frozen=True)
class Resources:
    rss_mb: float
    threads: int  # threads of the process (Python's and the drivers')
    fds: int
    gl_objects: int  # moderngl objects made and not released

    def as_dict(self) -> dict:
        return asdict(self)


def gl_objects() -> int:
    """moderngl objects alive and not released (a full walk of the heap: for soaks, not for frames)."""
    import moderngl

    kinds = tuple(getattr(moderngl, k) for k in _GL_KINDS if hasattr(moderngl, k))
    invalid = moderngl.InvalidObject
    # type(), not isinstance(): isinstance asks a proxy for its __class__, and some warn when asked (torch's)
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kinds) and not isinstance(o.mglo, invalid))


def resources(gl: bool = True) -> Resources:
    """This process, now. `gl=False`: without the GL objects (-1), which take a walk of the whole heap;
    the rest is a few reads of /proc, cheap enough to take every few seconds during a show."""
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * page / 2**20
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = threading.active_count()
    return Resources(round(rss, 1), threads, len(os.listdir("/proc/self/fd")), gl_objects() if gl else -1)


@functools.cache
def _libc():
    """glibc, or None (musl, macOS: their allocators need none of this)."""
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path) if path else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


def runs_a_show(argv: list[str]) -> bool:
    """Whether this command line runs a show (or a bench of one), from its words alone: the allocator is
    tuned before anything is parsed or imported."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return False
    if words[0] == "bench":
        return len(words) > 1 and words[1] not in BATCH_BENCHES
    return words[0] in SHOW_COMMANDS


def tune_allocator(show: bool = True) -> None:
    """Keep a long show's heap from fragmenting.

    - glibc gives each thread that contends for memory an arena of its own (up to 8 per core), and memory
      freed inside an arena stays in the process. A show frees a lot in many threads (shader compiles in
      the driver, looks built and released, decoders, OSC bursts), so its resident memory crept up by a
      look's worth per setlist cycle (soak: 360 -> 411 MB over four cycles, while the heap in use grew
      5 MB). Two arenas keep the freed memory where it is reused. Every command.
    - `show`: a fixed mmap threshold (128 KiB). glibc's own rises to the size of each big block freed (up to
      32 MB), so the heap keeps big frames and numpy temporaries and the free space between them (96-117 MB
      in a soak); fixed, it held 14-20 MB free and the hour soak's RSS grew +4.55 % (232.8 -> 243.4 MB)
      instead of +6.94 %. It must come first (the command's first line): a heap already grown keeps
      serving big blocks from its free chunks (set in perform alone: 80-99 MB free).
      Its price is fresh pages for every big block made each frame, so a show's own per-frame blocks are
      reused (engine/runtime/pool.py: HAP frames read and unpacked; the recorder's and NDI's frames; the
      flipped copy of each clip frame uploaded, engine/render/textures.py). Measured side by side, this
      code with the fixed threshold against the code before it with glibc's (loaded machine, load 5-9):
      perform --headless 320x180 20 s, median frame 7.5 / 7.3 ms vs 7.6 / 8.0 ms (without the reused
      upload copy: 12.5 ms); 6 x 1080p HAP (CPU side, 8 s) HAP 15.8 / HAP Alpha 32.8 / HAP Q 30.9 % CPU vs
      17.5 / 37.0 / 35.6 %, page faults 141k vs 179k (without the pools: 2.87M, HAP Q dropping 1221 of
      1440 frames); recording 720p, the encoder keeps 61-66 of 122 frames vs 58-64 (without: 36-46).
      20-minute soaks: RSS by setlist cycle 232.3, 238.7, 238.7 MB (+2.76 %), with the upload copy reused
      237.9, 240.3, 246.0 MB (+3.4 %). The hour soak of this code read +7.6 %, a sawtooth (238 -> 254 MB
      over six setlist cycles, 240 at the seventh, 256 at the end): bounded, not yet flat.
      What still takes fresh pages a frame: PyAV's own frames (an unprepared H.264 clip's RGBA, the
      recorder's yuv420p copy), which take no buffer of ours.
    - Batch commands (prepare, render, analyze, check; bench clips, analysis, peers) keep glibc's threshold:
      they run minutes, not an hour, and prepare's big blocks are made by PyAV's swscale, etcpak and snappy,
      which take no buffer of ours (fixed: prepare 139 -> 79 source frames/s per CPU second, 4x the page
      faults).
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)
        if show:
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def trim_heap() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim: a few ms, mostly off the render
    thread; over a soak's setlist cycle it gave back 70 MB of 300)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
