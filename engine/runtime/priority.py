"""Thread priorities for the listening path.

A click reaches the frame through the sound card's callback and the analysis thread. On a laptop whose
cores are busy (the raster threads of the show, a browser, a backup), an ordinary thread can wait several
milliseconds for a core after its block has landed; that wait is what the latency's p99 is made of. Audio
software asks the system for a real-time priority on exactly these threads (JACK does for its clients'
callbacks), and so does the show: the analysis thread and the capture process ask for a low real-time
priority, below the audio server's own (JACK's default is 70 for its clients' cycles at 10 above its own).
Where the system refuses (a user outside the `audio` group, no RLIMIT_RTPRIO), the next best is a raised
nice value, and failing that the thread runs as before: the show never depends on it, it is said once.
"""

from __future__ import annotations

import contextlib
import os
import threading
from enum import StrEnum


class Priority(StrEnum):
    REALTIME = "real-time"
    RAISED = "raised (nice)"
    NORMAL = "normal"


LISTENING_RT = 10  # SCHED_FIFO priority of the analysis thread and the capture process: below the server's
LISTENING_NICE = -5  # the fallback where real-time is refused


def raise_thread_priority(rt: int = LISTENING_RT, nice: int = LISTENING_NICE) -> Priority:
    """Ask for a real-time priority for the calling thread (Linux keeps a policy per thread, and threads
    it starts inherit it), else a raised nice value; return what was granted. The thread must sleep
    between its passes, as the analysis thread does: a real-time thread that spins starves the show."""
    tid = threading.get_native_id()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(rt))
        return Priority.REALTIME
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        return Priority.RAISED
    return Priority.NORMAL


def thread_priority(tid: int) -> Priority:
    """The priority a thread runs at, as raise_thread_priority names it."""
    with contextlib.suppress(AttributeError, OSError):
        if os.sched_getscheduler(tid) in (os.SCHED_FIFO, os.SCHED_RR):
            return Priority.REALTIME
        if os.getpriority(os.PRIO_PROCESS, tid) < 0:
            return Priority.RAISED
    return Priority.NORMAL


def lower_thread_priority(steps: int) -> None:
    """Lower the calling thread's priority by `steps` of nice (relative to its own, so a show started with
    `nice` keeps its helpers below it too): work behind the frames (decoders starting up, an encoder) must
    not take the CPU the frame on screen needs, on 2 cores where the raster threads want every core."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + steps))
