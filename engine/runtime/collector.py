"""The garbage collector during a show: the heap the show starts with is set aside for as long as it runs.

A full collection of CPython's garbage collector walks every object it tracks while it holds the
interpreter, so the render thread (and the analysis thread) wait for it, whichever thread set it off. A show
starts with ~38,000 of them (the modules, the outputs, the desks), and a full collection of those took
20-25 ms of CPU on these machines (2 cores, llvmpipe), more than a frame at 60 fps: the one that came in a
bench cues run took 44 ms on the analysis thread. Looks coming and going are what sets them off (a look
makes and drops thousands of objects). Frozen for the show (gc.freeze), the heap it started with is left out
of every collection: a full one walks only what the show made since, under a thousand objects (0.7 ms with
a released look's garbage in it, measured). The looks are made after the freeze, so their garbage is
collected as before; whatever of the frozen heap became garbage during the show is collected once the show
ends (gc.unfreeze). GL objects made before the freeze (the outputs') are not in gc.get_objects() meanwhile:
engine/runtime/resources.gl_objects counts what the show made, the same way at every reading of a show.
"""

from __future__ import annotations

import gc


def set_startup_heap_aside() -> None:
    """Before the show's first look is built: what is garbage already is collected (not kept for the whole
    show), the rest is left out of the show's collections."""
    gc.collect()
    gc.freeze()


def give_startup_heap_back() -> None:
    """The show ended: the heap it started with is collected as usual again."""
    gc.unfreeze()
