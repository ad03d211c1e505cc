"""NDI in: an NDI source played on a clip deck (`a = "ndi:NAME"` in a preset). Real peers on loopback: a
cyndilib sender in another process sends a known picture; `halation render` shows it; the deck (in a
process of its own, as the show draws from it each frame) keeps its last frame while the sender is away
and takes it up again when it returns. (On one machine every NDI process that sends shares port 5960 and a
finder sees only one of them, so the show's program is not read back through a second NDI receiver; and a
recording of it drops most frames on a machine this busy.)"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from test_sync import ndi_env  # noqa: F401  (the fixture: NDI on loopback, or a one-line skip)

from engine.render.ndi_in import ndi_source, pick_source

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)

SENDER = """
import sys, time
from fractions import Fraction
import numpy as np
from cyndilib.sender import Sender
from cyndilib.video_frame import VideoSendFrame
from cyndilib.wrapper.ndi_structs import FourCC
name, left, right = sys.argv[1], sys.argv[2], sys.argv[3]
w, h = 64, 36
frame = VideoSendFrame()
frame.set_resolution(w, h)
frame.set_frame_rate(Fraction(30, 1))
frame.set_fourcc(FourCC.RGBA)
sender = Sender(name)
sender.set_video_frame(frame)
sender.open()
picture = np.zeros((h, w, 4), np.uint8)
picture[:, : w // 2] = [*map(int, left.split(",")), 255]
picture[:, w // 2 :] = [*map(int, right.split(",")), 255]
print("sending", flush=True)
while True:
    sender.write_video_async(picture.ravel())
    time.sleep(1 / 30)
"""

PASSTHROUGH = """/*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
void main() { gl_FragColor = IMG_THIS_NORM_PIXEL(inputImage); }
"""


def test_a_preset_names_an_ndi_source_where_it_would_name_a_clip():
    assert ndi_source(Path("/shows/presets/ndi:BOOTH-PC (OBS)")) == "BOOTH-PC (OBS)"
    assert ndi_source(Path("/shows/clips/nebula.mp4")) is None
    names = ["BOOTH-PC (OBS)", "CAM-1 (camera)", "VM (camera 2)"]
    assert pick_source("booth-pc (obs)", names) == "BOOTH-PC (OBS)"
    assert pick_source("camera", names) == "CAM-1 (camera)"  # part of a name: the first that has it
    assert pick_source("camera 2", names) == "VM (camera 2)"
    assert pick_source("stage left", names) is None


def _feed_preset(folder: Path, source: str) -> Path:
    (folder / "show.fs").write_text(PASSTHROUGH)
    preset = folder / "feed.toml"
    preset.write_text(
        f'name = "NDI feed"\n[shader]\nfile = "show.fs"\ninputs = {{ inputImage = "clips" }}\n'
        f'[clips]\na = "ndi:{source}"\n'
    )
    return preset


class _Process:
    """A helper process whose output lines are read on a thread."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line.rstrip("\n"))

    def until(self, check, timeout: float, what: str) -> str:
        """The first line (from now) that passes `check`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None or not self.lines.empty(), f"{what}: it ended: {self.seen}"
                continue
            self.seen.append(line)
            if check(line):
                return line
        raise AssertionError(f"{what}: not within {timeout:.0f} s; it said {self.seen[-8:]}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen)


def _sender(name: str, left, right, env) -> _Process:
    sender = _Process(
        [sys.executable, "-c", SENDER, name, ",".join(map(str, left)), ",".join(map(str, right))], env
    )
    sender.until(lambda line: line == "sending", 60, "the NDI sender")
    return sender


def _shows(left, right):
    """A watcher line whose left and right quarters are these colours (NDI's compression is lossy)."""

    def check(line: str) -> bool:
        values = [int(v) for v in line.split()] if line.replace(" ", "").isdigit() else []
        return len(values) == 6 and np.abs(np.array(values) - np.array([*left, *right])).max() < 40

    return check


@pytest.mark.slow
def test_halation_render_shows_an_ndi_source_on_a_clip_deck(tmp_path, ndi_env):  # noqa: F811
    """A cyndilib sender sends red | blue; a preset plays it on deck A; every rendered frame shows it."""
    env = {**os.environ, **ndi_env}
    sender = _sender("halation-ndi-in-render", RED, BLUE, env)
    try:
        preset = _feed_preset(tmp_path, "halation-ndi-in-render")
        frames = tmp_path / "frames"
        cmd = [sys.executable, "-m", "engine", "render", "--preset", str(preset), "--size", "64x36"]
        cmd += ["--fps", "10", "--duration", "0.5", "--frames", str(frames)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        sender.stop()
    from PIL import Image

    pictures = sorted(frames.glob("*.png"))
    assert len(pictures) == 5
    for picture in pictures:
        pixels = np.asarray(Image.open(picture))[..., :3].astype(int)
        assert np.abs(pixels[18, 4] - RED).max() < 40 and np.abs(pixels[18, 60] - BLUE).max() < 40, picture


DECK = """
import sys, time
from pathlib import Path
from engine.clips.faults import ClipFaults
from engine.render.ndi_in import NdiDeck
deck = NdiDeck("A", 0.0, ClipFaults(sink=lambda text: print("notice:", text, flush=True)))
assert deck.load(Path("ndi:" + sys.argv[1]))
while True:
    frame = deck.frame(time.monotonic(), None)  # what the show draws with this frame
    if frame is not None:
        pixels = frame.payload[..., :3].astype(int)
        w = pixels.shape[1]
        left, right = pixels[:, : w // 4].mean(axis=(0, 1)), pixels[:, -w // 4 :].mean(axis=(0, 1))
        print("frame", frame.index, *map(int, left), *map(int, right), flush=True)
    time.sleep(0.05)
"""


def _frame(left, right):
    """A deck line ("frame INDEX r g b r g b") whose left and right quarters are these colours."""

    def check(line: str) -> bool:
        parts = line.split()
        if len(parts) != 8 or parts[0] != "frame":
            return False
        values = np.array([int(v) for v in parts[2:]])
        return np.abs(values - np.array([*left, *right])).max() < 50  # NDI's compression is lossy

    return check


@pytest.mark.slow
def test_an_ndi_deck_keeps_its_last_frame_while_the_source_is_away_and_takes_it_up_when_it_returns(
    tmp_path,
    ndi_env,  # noqa: F811
):
    """The deck a preset's `ndi:` clip makes, in its own process (what the show draws each frame): the
    sender's red | blue; the sender goes away: the operator is told once and the deck keeps that frame
    (never none, never black); a sender of the same name comes back with green: the deck shows it."""
    env = {**os.environ, **ndi_env}
    sender = _sender("halation-ndi-in-live", RED, BLUE, env)
    deck = _Process([sys.executable, "-c", DECK, "halation-ndi-in-live"], env)
    try:
        deck.until(_frame(RED, BLUE), 60, "the deck shows the NDI source")
        sender.stop()
        deck.until(lambda line: "went away" in line, 30, "the operator is told the source went away")
        held = [deck.until(lambda line: line.startswith("frame"), 10, "the deck's frame") for _ in range(10)]
        assert all(map(_frame(RED, BLUE), held)), f"not the source's last frame: {held}"
        assert len({line.split()[1] for line in held}) == 1, "one frame, held"
        sender = _sender("halation-ndi-in-live", GREEN, GREEN, env)
        deck.until(_frame(GREEN, GREEN), 60, "the deck takes the source up again")
    finally:
        sender.stop()
        out = deck.stop()
    assert "Traceback" not in out, out
    assert out.count("went away") == 1, out
