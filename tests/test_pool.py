"""A show's big per-frame blocks are reused: under the show's fixed mmap threshold a block made afresh every
frame costs its pages again each frame (engine/runtime/resources.py, engine/runtime/pool.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.runtime.pool import BufferPool
from engine.runtime.resources import runs_a_show


def test_a_buffer_is_handed_out_again_only_once_nothing_holds_it():
    pool = BufferPool()
    first = pool.take(1 << 20)
    held = pool.take(1 << 20)
    assert first is not held  # both in use: two buffers
    view = memoryview(first)[:10]
    del first
    assert pool.take(1 << 20) is not view.obj  # a view still holds it
    del view
    again = pool.take(1 << 20)
    assert pool.made == 3 and again is not held  # the one let go came back, no fourth was made


def test_shows_get_the_show_allocator_and_batch_work_keeps_glibcs():
    assert runs_a_show(["perform", "--headless"]) and runs_a_show(["--debug", "rehearse", "t.wav"])
    assert runs_a_show(["bench", "soak", "--minutes", "20"]) and runs_a_show(["bench", "stage"])
    assert not runs_a_show(["prepare", "clips/"]) and not runs_a_show(["bench", "clips"])
    assert not runs_a_show([])


PLAYBACK = """
import resource, sys
from pathlib import Path
import numpy as np
from engine.runtime.resources import tune_allocator
tune_allocator(show=True)
from engine.clips import hap
from engine.clips.encode import encoded_frames
from engine.clips.movfile import HapMovReader, write_mov
path = Path(sys.argv[1])
rng = np.random.default_rng(3)
frames = [rng.integers(0, 255, (1080, 1920, 4), np.uint8) for _ in range(3)]
write_mov(path, (1920, 1080), 30.0, "Hap1", encoded_frames(frames, "hap", "etcpak"))
reader = HapMovReader(path)
def faults(read):
    for i in range(10):  # warm: the pool fills
        image = read(i % 3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(120):
        image = read(i % 3)  # the previous frame let go as the next comes, as a deck's cache does
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 120
pooled = faults(reader.image)
fresh = faults(lambda i: hap.decode_frame(reader.packet(i), reader.size))
print(pooled, fresh)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_long_hap_playback_takes_no_fresh_pages_frame_after_frame(tmp_path):
    """1080p HAP frames read 120 times in a show's process: the reader's pool costs next to no page
    faults a frame, where a fresh packet and plane a frame (the control) cost about 500."""
    done = subprocess.run(
        [sys.executable, "-c", PLAYBACK, str(tmp_path / "clip.mov")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    pooled, fresh = map(float, done.stdout.split())
    assert pooled < 20, pooled
    assert fresh > 200, fresh  # the control: the test can tell
