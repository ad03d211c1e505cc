"""Whatever a desk sends, the show renders on, keeps the last good value and says what it refused:
nan, inf, huge and negative numbers, a string where a number goes, a colour of three components, names that
are numbers or paths, a trigger pressed a thousand times (through liblo's oscsend and oscsendfile)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from test_control_e2e import Performance, oscsend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("oscsendfile") is None, reason="liblo-tools is not installed"),
]


def frames_advance(show: Performance) -> bool:
    """The show is still drawing: its beat clock and fps status move on."""
    first = show.value("/hl/status/fps")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if show.value("/hl/status/fps")[0] > 0 and first is not None:
            return True
        time.sleep(0.1)
    return False


def said(show: Performance, words: str, timeout: float = 30.0) -> bool:
    """Whether /hl/status/error comes to say `words` (the show reports each refusal when it happens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if words in show.value("/hl/status/error")[0]:
            return True
        time.sleep(0.05)
    return False


def test_values_no_desk_should_send_leave_the_show_running_and_say_so(tmp_path):
    show = Performance(duration=90)
    udp = ("localhost", str(show.ports["udp"]))
    try:
        oscsend(*udp, "/hl/master/level", "f", "0.6")
        assert show.wait_value("/hl/master/level", [0.6]) == [0.6]
        for args in (("f", "nan"), ("f", "inf"), ("f", "-inf"), ("s", "loud"), ("s", "nan")):
            oscsend(*udp, "/hl/master/level", *args)
        oscsend(*udp, "/hl/master/level", "f", "1e30")  # huge: clamped to the top of the range
        assert show.wait_value("/hl/master/level", [1.0]) == [1.0]
        oscsend(*udp, "/hl/master/level", "f", "-5")  # negative: clamped to the bottom
        assert show.wait_value("/hl/master/level", [0.0]) == [0.0]
        oscsend(*udp, "/hl/master/level", "s", "loud")
        error = show.wait_value("/hl/status/error", ["OSC: /hl/master/level cannot take 'loud'"])
        assert error == ["OSC: /hl/master/level cannot take 'loud'"]
        oscsend(*udp, "/hl/shader/glow", "f", "0.5")
        oscsend(*udp, "/hl/transition/duration", "f", "1e30")  # a crossfade nobody can wait for
        assert "give 0..600 seconds" in show.wait_value("/hl/status/error", ["x"], timeout=3)[0]
        for name in ("../../etc/passwd", "/etc/passwd"):  # each refusal is said when it happens
            oscsend(*udp, "/hl/snapshot/save", "s", name)
            assert said(show, f"'{name}' is not a usable name")
        for name in ("3", "inf", "nan", "../../etc/passwd"):
            oscsend(*udp, "/hl/deck/a/clip", "s", name)
            assert said(show, f"deck.select: no clip '{name}'") or said(show, "deck.select: failed")
        oscsend(*udp, "/hl/preset/recall", "s", "no such look")
        assert said(show, "no preset named 'no such look'")
        oscsend(*udp, "/hl/cue/goto", "s", "no such cue")
        assert said(show, "no setlist loaded")
        session = tmp_path / "presses.txt"
        session.write_text("".join(f"e0000000.{i:08x} /hl/tempo/double\n" for i in range(1000)))
        subprocess.run(["oscsendfile", *udp, str(session)], check=True, timeout=60, capture_output=True)
        maximum = 400.0  # the clock's range (MAX_BPM): a ×2 past it does nothing
        deadline = time.monotonic() + 10
        while show.value("/hl/status/bpm")[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert 0 < show.value("/hl/status/bpm")[0] <= maximum  # a thousand ×2 stay a tempo
        assert frames_advance(show)
        assert show.value("/hl/shader/glow") == [0.5]  # the last good values stand
        assert not list(tmp_path.parent.rglob("passwd.toml"))
    finally:
        log = show.stop()
    assert "Traceback" not in log, log
    assert "/hl/master/level cannot take" in log
    assert "not a usable name" in log and "no preset named" in log
