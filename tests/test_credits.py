"""The performance log and the AI-use disclosure sheet: a festival's form, from what was on screen."""

import json

import pytest
from conftest import run_cli

from engine.clips.generate import generate_clip
from engine.errors import HalationError
from engine.show.credits import as_markdown, read_logs

AI = {"generator": "Runway", "model": "gen-3 alpha", "prompt": "slow nebula", "seed": 42, "author": "VJ Ana"}


def _record(**r) -> str:
    return json.dumps(r)


def test_seconds_on_screen_count_only_while_a_clip_is_visible_and_the_output_is_lit(tmp_path):
    clip = {
        "deck": "A",
        "file": "/c/nebula.hlclip",
        "name": "nebula",
        "provenance": AI,
        "source": {"sha256": "aa"},
    }
    odd = {"deck": "B", "file": "/c/odd.mp4", "name": "odd", "provenance": {}, "source": {"sha256": "bb"}}
    shader = {"layer": "shader", "file": "/s/tunnel.fs", "credit": "Jo Coder"}
    lines = [
        _record(event="start", kind="perform", at="2026-12-01T20:00:00Z"),
        _record(event="look", t=10.0, frame=0, cue="1 Intro", shaders=[shader]),
        _record(event="screen", t=10.0, frame=0, dark=False, clips=[clip]),
        _record(event="screen", t=14.0, frame=240, dark=False, clips=[clip, odd]),
        _record(event="screen", t=15.5, frame=330, dark=True, clips=[clip, odd]),  # blackout: nothing shows
        _record(event="screen", t=20.0, frame=600, dark=False, clips=[odd]),
        _record(event="end", t=21.0, frame=660),
    ]
    second = [  # a second show, another log: the same clip adds up
        _record(event="start", kind="rehearse", at="2026-12-02T20:00:00Z"),
        _record(event="look", t=0.0, frame=0, cue="", shaders=[shader]),
        _record(event="screen", t=0.0, frame=0, dark=False, clips=[clip]),
        _record(event="tick", t=2.0, frame=120),  # a show cut off: the last record closes the time
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(second) + '\n{"event": "scr')  # torn last line: skipped
    sheet = read_logs([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    [ai] = sheet.ai_clips()
    assert ai.name == "nebula" and ai.seconds == pytest.approx(4.0 + 1.5 + 2.0)
    assert (ai.first_at, ai.last_at) == ("2026-12-01T20:00:00Z", "2026-12-02T20:00:02Z")
    [unknown] = sheet.other_clips()
    assert unknown.name == "odd" and unknown.seconds == pytest.approx(1.5 + 1.0)
    [tunnel] = sheet.shader_list()
    assert tunnel.seconds == pytest.approx(5.5 + 1.0 + 2.0)
    sheet_md = as_markdown(sheet)
    assert "| odd | 2.5 s" in sheet_md and "provenance unknown" in sheet_md.lower()
    assert "gen-3 alpha" in sheet_md and "Jo Coder" in sheet_md


def test_a_damaged_log_line_is_named_with_its_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        _record(event="start", kind="perform") + "\nnot json\n" + _record(event="end", t=1.0) + "\n"
    )
    with pytest.raises(HalationError, match=r"x\.jsonl:2: not a performance log record"):
        read_logs([path])


SETLIST = """
[[cue]]
name = "Two AI clips"
preset = "ai.toml"
[[cue]]
name = "Mystery"
preset = "mystery.toml"
"""
AI_PRESET = """name = "ai"
[shader]
file = "effects/pulse.fs"
[clips]
a = "clips/nebula.mp4"
b = "clips/ember.mp4"
transition = "fade"
crossfade = 0.5
"""
MYSTERY_PRESET = """name = "mystery"
[shader]
file = "generators/tunnel.fs"
[clips]
a = "clips/mystery.mp4"
transition = "fade"
"""


@pytest.mark.slow
def test_credits_of_a_rendered_take_list_each_clip_with_its_seconds_and_an_unknown_one(tmp_path):
    """Render a setlist whose second cue is fired at 1.0 s by a take; the sheet lists both AI clips (sidecar
    provenance) with 1.0 s on screen each, and the clip without a sidecar as provenance unknown."""
    clips = tmp_path / "clips"
    clips.mkdir()
    for seed, name in enumerate(("nebula", "ember", "mystery")):
        generate_clip(clips / f"{name}.mp4", "nebula", size=(64, 36), fps=10, seconds=1.0, seed=seed)
    (clips / "nebula.mp4.json").write_text(json.dumps(AI))
    (clips / "ember.json").write_text(
        json.dumps({**AI, "model": "sora", "prompt": "embers", "license": "CC0"})
    )
    (tmp_path / "set.toml").write_text(SETLIST)
    (tmp_path / "ai.toml").write_text(AI_PRESET)
    (tmp_path / "mystery.toml").write_text(MYSTERY_PRESET)
    take = tmp_path / "take.jsonl"
    take.write_text(
        _record(event="take", version=1)
        + "\n"
        + _record(t=1.0, frame=30, source="osc", action="cue.go")
        + "\n"
    )
    log = tmp_path / "show.jsonl"
    common = ("render", "--audio", "", "--setlist", str(tmp_path / "set.toml"), "--replay", str(take))
    result = run_cli(
        *[a for a in common if a not in ("--audio", "")],
        *("--frames", str(tmp_path / "frames"), "--size", "64x36", "--fps", "10", "--duration", "2"),
        *("--log", str(log)),
    )
    assert result.returncode == 0, result.stderr
    assert f"performance log: {log}" in result.stderr
    sheet = json.loads(run_cli("credits", str(log), "--format", "json").stdout)
    ai = {c["name"]: c for c in sheet["ai_clips"]}
    assert set(ai) == {"nebula", "ember"}
    assert ai["nebula"]["seconds_on_screen"] == pytest.approx(1.0)
    assert ai["ember"]["model"] == "sora" and ai["ember"]["licence"] == "CC0"
    assert (ai["ember"]["first_shown"], ai["ember"]["last_shown"]) == (0.0, 1.0)
    [mystery] = sheet["other_clips"]
    assert mystery["name"] == "mystery" and mystery["provenance"] == "provenance unknown"
    assert mystery["seconds_on_screen"] == pytest.approx(1.0)
    assert {s["name"] for s in sheet["shaders"]} >= {"pulse", "tunnel", "fade"}
    assert "Provenance unknown: 1 clip (mystery)" in sheet["statement"]
    md = run_cli("credits", str(log)).stdout
    assert "| mystery | 1.0 s" in md and "provenance unknown" in md
