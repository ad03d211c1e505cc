"""`halation bench soak`, short: the real CLI runs a headless show stepping every shipped preset over OSC
(liblo's oscsend), and reports no crash, no failed stage, no black frame and the resources it held."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed"),
]


def test_a_short_soak_steps_looks_with_no_crash_and_no_black_frame(tmp_path):
    report = tmp_path / "soak.json"
    out = run_cli("bench", "soak", "--minutes", "0.4", "--bars", "1", "--json", str(report), timeout=240)
    r = json.loads(report.read_text())
    assert out.returncode == 0, out.stdout  # the figures and the verdict
    assert r["crashes"] == 0 and r["stage_failures"] == {}, r
    assert r["black_frames"] == 0, r["black_at"]
    # the desk waits for each cue to show: beside two busy loops a look can take ten seconds to build
    assert r["frames"] > 100 and r["cues_sent"] >= 2 and r["look_changes"] >= 1
    assert {"start", "warm", "end"} <= set(r["resources"])
    assert all(s["gl_objects"] > 0 and s["threads"] > 0 for s in r["resources"].values())
    assert "GL objects" in out.stdout
