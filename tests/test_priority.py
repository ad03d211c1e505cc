"""The listening path asks for a real-time priority, and says what it got."""

from __future__ import annotations

import os
import threading

from engine.runtime.priority import Priority, lower_thread_priority, raise_thread_priority, thread_priority


def _in_thread(fn):
    out = {}

    def body():
        out["granted"] = fn()
        out["tid"] = threading.get_native_id()
        out["seen"] = thread_priority(out["tid"])

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return out


def test_the_granted_priority_is_the_one_the_thread_runs_at():
    out = _in_thread(raise_thread_priority)
    assert out["granted"] is out["seen"]  # (what is granted depends on the machine: root in a container
    # without CAP_SYS_NICE is refused both, as a user outside the audio group is)


def test_a_raised_thread_leaves_the_rest_of_the_process_alone():
    _in_thread(raise_thread_priority)
    assert thread_priority(threading.get_native_id()) is Priority.NORMAL
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_work_behind_the_frames_is_lowered_relative_to_its_own_niceness():
    def lowered():
        lower_thread_priority(4)
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert _in_thread(lowered)["granted"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 4)
