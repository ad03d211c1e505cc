"""End to end: the real `halation` command, as a user types it."""

from pathlib import Path

import av
import pytest
from conftest import run_cli

BROKEN = """/*{
    "DESCRIPTION": "broken on purpose",
    "INPUTS": [{"NAME": "level", "TYPE": "float", "DEFAULT": 0.5}]
}*/

void main() {
    vec3 c = vec3(level);
    gl_FragColor = vec4(c, 1.0)
}
"""


def test_help_lists_every_subcommand():
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ("demo", "render", "perform", "rehearse", "devices", "check"):
        assert name in out.stdout
    for name in ("demo", "render", "perform", "rehearse", "devices", "check"):
        assert run_cli(name, "--help").returncode == 0


def test_usage_error_exits_2():
    out = run_cli("render", "--size", "big")
    assert out.returncode == 2
    assert "WIDTHxHEIGHT" in out.stderr
    out = run_cli("perform", "--av-offset", "900")
    assert out.returncode == 2
    assert "use -500..500" in out.stderr


def test_missing_file_is_one_clear_line_without_traceback(tmp_path):
    out = run_cli("render", "--audio", str(tmp_path / "nope.wav"), "--out", str(tmp_path / "o.mp4"))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert (
        out.stderr.strip().splitlines()[-1]
        == f"halation: error: {tmp_path / 'nope.wav'}: audio file not found: check the path"
    )


def test_check_names_the_file_and_line_of_a_shader_error(tmp_path):
    bad = tmp_path / "broken.fs"
    bad.write_text(BROKEN)
    out = run_cli("check", str(bad))
    assert out.returncode == 1
    first = out.stdout.strip().splitlines()[0]
    assert first.startswith(f"{bad}:9:"), first  # line 9 of the .fs file, not of the generated GLSL


def test_check_passes_on_shipped_shaders_and_presets(tmp_path):
    out = run_cli("check", "shaders", "presets", "--thumbs", str(tmp_path / "thumbs"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 failed" in out.stderr
    assert list((tmp_path / "thumbs").glob("*.png"))


def test_render_writes_an_mp4_with_sound_and_pngs(tmp_path):
    out_file = tmp_path / "rehearsal.mp4"
    frames = tmp_path / "frames"
    out = run_cli(
        "render",
        "--out",
        str(out_file),
        "--frames",
        str(frames),
        "--size",
        "320x180",
        "--fps",
        "24",
        "--duration",
        "2",
    )
    assert out.returncode == 0, out.stderr
    with av.open(str(out_file)) as c:
        video, audio = c.streams.video[0], c.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 320, 180)
        assert sum(1 for _ in c.decode(video)) == 48
        assert audio.sample_rate == 48000 and audio.channels == 2
    assert len(list(frames.glob("*.png"))) == 48


def test_render_of_a_real_recording(tmp_path, shared_data):
    out = run_cli(
        "render",
        "--audio",
        str(shared_data / "audio" / "lmms_break01.ogg"),
        "--out",
        str(tmp_path / "b.mp4"),
        "--size",
        "160x90",
    )
    assert out.returncode == 0, out.stderr
    with av.open(str(tmp_path / "b.mp4")) as c:
        assert float(c.duration) / 1e6 == pytest.approx(1.44, abs=0.1)


def test_perform_headless_runs_for_the_duration():
    out = run_cli(
        "perform",
        "--headless",
        "--no-sound",
        "--duration",
        "2",
        "--size",
        "320x180",
        "--fps",
        "30",
        "--av-offset",
        "80",
    )
    assert out.returncode == 0, out.stderr
    frames = int(out.stdout.split(" frames")[0].split()[-1])
    assert 40 <= frames <= 61


def test_perform_opens_a_real_window(xvfb_display):
    out = run_cli(
        "perform",
        "--no-sound",
        "--duration",
        "2",
        "--size",
        "320x180",
        "--hud",
        env={"DISPLAY": xvfb_display},
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split(" frames")[0].split()[-1]) > 10


def test_demo_without_display_renders_a_video(tmp_path):
    out = run_cli("demo", "--out", str(tmp_path / "demo.mp4"), "--duration", "1", env={"DISPLAY": ""})
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip().splitlines()[-1]) == tmp_path / "demo.mp4"
    assert (tmp_path / "demo.mp4").stat().st_size > 10_000


def test_devices_lists_audio_and_monitors():
    out = run_cli("devices")
    assert out.returncode == 0
    assert "Audio devices:" in out.stdout and "Monitors:" in out.stdout
