"""During a show the heap it started with is left out of the garbage collector's walks (a full collection
of it held the interpreter for 20-45 ms, more than a frame), and is handed back when the show ends."""

import gc

from engine.runtime.collector import give_startup_heap_back, set_startup_heap_aside


class _Cycle:
    def __init__(self):
        self.me = self


def test_a_collection_during_the_show_walks_only_what_the_show_made_and_still_frees_its_garbage():
    started_with = len(gc.get_objects())
    set_startup_heap_aside()
    try:
        assert len(gc.get_objects()) < started_with / 10  # the startup heap is out of every walk
        made = [_Cycle() for _ in range(100)]
        del made
        assert gc.collect() >= 100  # what the show made and dropped is still collected
    finally:
        give_startup_heap_back()
    assert gc.get_freeze_count() == 0 and len(gc.get_objects()) >= started_with / 2  # all handed back
