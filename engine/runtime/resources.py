"""What a long show holds: resident memory, threads, open files and live GL objects, counted so a soak can
prove none of them grows (a recall that leaves a pipeline behind, a cache without a bound, a worker that is
never joined)."""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import asdict, dataclass

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
    return sum(1 for o in gc.get_objects() if isinstance(o, kinds) and not isinstance(o.mglo, invalid))


def resources() -> Resources:
    """This process, now."""
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * page / 2**20
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = threading.active_count()
    return Resources(round(rss, 1), threads, len(os.listdir("/proc/self/fd")), gl_objects())
