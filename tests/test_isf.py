"""ISF loading, translation and rendering on a real (llvmpipe) GL context."""

from __future__ import annotations

import textwrap
from pathlib import Path

import moderngl
import numpy as np
import pytest

from engine.errors import ShaderError
from engine.render.check import check_shader
from engine.render.isf import compile_size_expr, load_isf, load_isf_source
from engine.render.program import FrameInfo, IsfProgram, parse_compile_error

W, H = 64, 32
FRAME0 = FrameInfo(time=0.0, timedelta=0.0, frame_index=0, date=(2024.0, 6.0, 21.0, 3600.0))
_TARGETS: dict[tuple[int, int], moderngl.Framebuffer] = {}


def write_fs(tmp_path: Path, body: str, name: str = "shader.fs", vs: str | None = None) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    if vs is not None:
        path.with_suffix(".vs").write_text(textwrap.dedent(vs).lstrip("\n"))
    return path


def target(ctx: moderngl.Context, size: tuple[int, int] = (W, H)) -> moderngl.Framebuffer:
    # Kept for the session: releasing a bound framebuffer breaks the next ctx.framebuffer().
    if size not in _TARGETS:
        _TARGETS[size] = ctx.framebuffer(color_attachments=[ctx.texture(size, 4)])
    return _TARGETS[size]


def render(
    ctx, path_or_prog, *, values=None, images=None, frame=FRAME0, audio=None, size=(W, H)
) -> np.ndarray:
    """Render one frame and return the image as float RGBA rows (bottom row first)."""
    fbo = target(ctx, size)
    fbo.use()
    fbo.clear(0.3, 0.3, 0.3, 0.3)
    _ = ctx.error  # the context is shared by the session: only errors from this render count
    prog = path_or_prog if isinstance(path_or_prog, IsfProgram) else IsfProgram(ctx, load_isf(path_or_prog))
    prog.render(fbo, values=values or {}, images=images or {}, frame=frame, audio=audio or {})
    data = np.frombuffer(fbo.read(components=4), dtype=np.uint8).reshape(size[1], size[0], 4)
    if not isinstance(path_or_prog, IsfProgram):
        prog.release()
    assert ctx.error == "GL_NO_ERROR"
    return data.astype(np.float64) / 255.0


def solid_texture(ctx: moderngl.Context, rgba: tuple[int, int, int, int], size=(W, H)) -> moderngl.Texture:
    return ctx.texture(size, 4, bytes(rgba) * (size[0] * size[1]))


SOLID = """
/*{
    "ISFVSN": "2",
    "DESCRIPTION": "solid colour",
    "CATEGORIES": ["Test"],
    "INPUTS": [
        {"NAME": "color", "TYPE": "color", "DEFAULT": [1.0, 0.5, 0.0, 1.0]}
    ]
}*/
void main()
{
    gl_FragColor = color;
}
"""


def test_solid_colour_generator_renders_its_colour(gl_ctx, tmp_path):
    path = write_fs(tmp_path, SOLID)
    doc = load_isf(path)
    assert doc.kind == "generator" and doc.version == 2 and doc.categories == ("Test",)
    img = render(gl_ctx, path)
    assert np.allclose(img, [1.0, 128 / 255, 0.0, 1.0], atol=1 / 255)


def test_input_value_changes_output(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [
            {"NAME": "level", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0},
            {"NAME": "mode", "TYPE": "long", "VALUES": [0, 1, 2], "LABELS": ["a", "b", "c"], "DEFAULT": 0},
            {"NAME": "on", "TYPE": "bool", "DEFAULT": false}
        ]}*/
        void main()
        {
            float g = (mode == 2) ? 1.0 : 0.0;
            gl_FragColor = vec4(level, g, on ? 1.0 : 0.0, 1.0);
        }
        """,
    )
    prog = IsfProgram(gl_ctx, load_isf(path))
    try:
        default = render(gl_ctx, prog)
        assert default[0, 0, :3] == pytest.approx([128 / 255, 0.0, 0.0], abs=1 / 255)
        changed = render(gl_ctx, prog, values={"level": 0.25, "mode": 2, "on": True})
        assert changed[0, 0, :3] == pytest.approx([64 / 255, 1.0, 1.0], abs=1 / 255)
        back = render(gl_ctx, prog, values={})  # missing values fall back to DEFAULT
        assert back[0, 0, :3] == pytest.approx([128 / 255, 0.0, 0.0], abs=1 / 255)
    finally:
        prog.release()


def test_filter_samples_the_given_input_image(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
        void main()
        {
            vec4 c = IMG_THIS_PIXEL(inputImage);
            vec4 d = IMG_PIXEL(inputImage, gl_FragCoord.xy);
            vec4 e = texture2D(inputImage, isf_FragNormCoord);
            gl_FragColor = vec4(1.0 - c.r, d.g, e.b, 1.0);
        }
        """,
    )
    assert load_isf(path).kind == "filter"
    tex = solid_texture(gl_ctx, (51, 102, 204, 255))
    try:
        img = render(gl_ctx, path, images={"inputImage": tex})
    finally:
        tex.release()
    assert np.allclose(img, [1 - 51 / 255, 102 / 255, 204 / 255, 1.0], atol=1 / 255)
    # A missing image input reads as transparent black instead of failing.
    img = render(gl_ctx, path)
    assert np.allclose(img, [1.0, 0.0, 0.0, 1.0], atol=1 / 255)


def test_glsl_error_reports_the_fs_file_line(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{
            "ISFVSN": "2",
            "INPUTS": []
        }*/
        void main()
        {
            gl_FragColor = vec4(1.0);
            not_declared_anywhere = 2.0;
        }
        """,
    )
    assert path.read_text().splitlines()[7].strip().startswith("not_declared_anywhere")
    with pytest.raises(ShaderError) as info:
        IsfProgram(gl_ctx, load_isf(path))
    assert info.value.line == 8
    assert info.value.path == path
    assert "not_declared_anywhere" in info.value.message
    assert "\n" not in info.value.message


def test_vertex_shader_error_names_the_vs_file(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": []}*/
        void main() { gl_FragColor = vec4(1.0); }
        """,
        vs="""
        void main()
        {
            isf_vertShaderInit();
            gl_Position.x += broken;
        }
        """,
    )
    with pytest.raises(ShaderError) as info:
        IsfProgram(gl_ctx, load_isf(path))
    assert info.value.path == path.with_suffix(".vs")
    assert info.value.line == 4


def test_custom_vertex_shader_is_used(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [{"NAME": "shift", "TYPE": "float", "DEFAULT": 0.25}]}*/
        varying vec2 shifted;
        void main() { gl_FragColor = vec4(shifted, 0.0, 1.0); }
        """,
        vs="""
        varying vec2 shifted;
        void main()
        {
            isf_vertShaderInit();
            shifted = vec2(shift);
        }
        """,
    )
    img = render(gl_ctx, path)
    assert np.allclose(img[0, 0], [64 / 255, 64 / 255, 0.0, 1.0], atol=1 / 255)


def test_nvidia_style_error_log_is_parsed(tmp_path):
    doc = load_isf_source('/*{"INPUTS": []}*/\nvoid main() {}\n', tmp_path / "x.fs")
    err = parse_compile_error(doc, 'fragment_shader\n0(12) : error C1008: undefined variable "foo"\n')
    assert err.line == 12 and err.message == 'undefined variable "foo"'


def test_header_errors_name_the_line(tmp_path):
    with pytest.raises(ShaderError) as info:
        load_isf(write_fs(tmp_path, "void main() { gl_FragColor = vec4(1.0); }\n"))
    assert info.value.line == 1
    with pytest.raises(ShaderError) as info:
        load_isf(
            write_fs(
                tmp_path, '/*{\n  "INPUTS": [\n    {"NAME": "a" "TYPE": "float"}\n  ]\n}*/\nvoid main() {}\n'
            )
        )
    assert info.value.line == 3
    with pytest.raises(ShaderError) as info:
        load_isf(
            write_fs(
                tmp_path, '/*{\n  "INPUTS": [\n    {"NAME": "a", "TYPE": "vec3"}\n  ]\n}*/\nvoid main() {}\n'
            )
        )
    assert info.value.line == 3 and "vec3" in info.value.message
    with pytest.raises(ShaderError):
        load_isf(tmp_path / "missing.fs")


def test_hl_audio_uniform_changes_output(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": []}*/
        void main()
        {
            float spectrum = IMG_NORM_PIXEL(hl_spectrum, vec2(0.5)).r;
            gl_FragColor = vec4(hl_bass_level, spectrum, hl_unknown_thing, 1.0);
        }
        """,
    )
    doc = load_isf(path)
    assert "uniform float hl_bass_level;" in doc.fragment
    assert "uniform sampler2D hl_spectrum;" in doc.fragment
    spectrum = solid_texture(gl_ctx, (255, 255, 255, 255), size=(16, 1))
    prog = IsfProgram(gl_ctx, doc)
    try:
        quiet = render(gl_ctx, prog)
        loud = render(gl_ctx, prog, audio={"hl_bass_level": 0.8}, images={"hl_spectrum": spectrum})
    finally:
        prog.release()
        spectrum.release()
    assert quiet[0, 0, :3] == pytest.approx([0.0, 0.0, 0.0], abs=1 / 255)
    assert loud[0, 0, :3] == pytest.approx([204 / 255, 1.0, 0.0], abs=1 / 255)


def test_audio_input_falls_back_to_hl_waveform(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [{"NAME": "wave", "TYPE": "audio"}]}*/
        void main() { gl_FragColor = vec4(IMG_NORM_PIXEL(wave, vec2(0.5)).rgb, 1.0); }
        """,
    )
    wave = solid_texture(gl_ctx, (0, 255, 0, 255), size=(16, 1))
    try:
        img = render(gl_ctx, path, images={"hl_waveform": wave})
    finally:
        wave.release()
    assert np.allclose(img[0, 0], [0.0, 1.0, 0.0, 1.0], atol=1 / 255)


def test_multipass_width_expression_renders_pass_at_half_size(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{
            "ISFVSN": "2",
            "INPUTS": [],
            "PASSES": [
                {"TARGET": "halfBuf", "FLOAT": true, "WIDTH": "$WIDTH/2", "HEIGHT": "floor($HEIGHT / 2)"},
                {}
            ]
        }*/
        void main()
        {
            if (PASSINDEX == 0)
                gl_FragColor = vec4(RENDERSIZE, 0.0, 1.0);
            else
                gl_FragColor = vec4(IMG_NORM_PIXEL(halfBuf, vec2(0.5)).rg, IMG_SIZE(halfBuf).x, 255) / 255.0;
        }
        """,
    )
    img = render(gl_ctx, path, size=(64, 32))
    assert img[5, 5] * 255 == pytest.approx([32, 16, 32, 255], abs=0.01)


def test_persistent_buffer_accumulates_across_frames(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{
            "ISFVSN": "2",
            "INPUTS": [],
            "PASSES": [{"TARGET": "acc", "PERSISTENT": true, "FLOAT": true}, {}]
        }*/
        void main()
        {
            if (PASSINDEX == 0)
                gl_FragColor = IMG_THIS_PIXEL(acc) + vec4(0.1);
            else
                gl_FragColor = IMG_THIS_PIXEL(acc);
        }
        """,
    )
    prog = IsfProgram(gl_ctx, load_isf(path))
    try:
        levels = [render(gl_ctx, prog)[0, 0, 0] for _ in range(3)]
    finally:
        prog.release()
    assert levels == pytest.approx([0.1, 0.2, 0.3], abs=1.5 / 255)


def test_last_pass_into_persistent_target_is_the_output(gl_ctx, tmp_path):
    # Feedback shaders in the public library draw their last pass into a persistent buffer.
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [], "PASSES": [{"TARGET": "last", "PERSISTENT": true, "FLOAT": true}]}*/
        void main() { gl_FragColor = vec4(IMG_THIS_PIXEL(last).rgb + vec3(0.25), 1.0); }
        """,
    )
    prog = IsfProgram(gl_ctx, load_isf(path))
    try:
        levels = [render(gl_ctx, prog)[3, 3, 0] for _ in range(2)]
    finally:
        prog.release()
    assert levels == pytest.approx([0.25, 0.5], abs=1.5 / 255)


def test_v1_persistent_buffers_and_vv_names(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{
            "INPUTS": [],
            "PERSISTENT_BUFFERS": ["acc"],
            "PASSES": [{"TARGET": "acc"}, {}]
        }*/
        void main()
        {
            if (PASSINDEX == 0)
                gl_FragColor = texture2D(acc, vv_FragNormCoord) + vec4(0.2);
            else
                gl_FragColor = texture2D(acc, vv_FragNormCoord);
        }
        """,
    )
    doc = load_isf(path)
    assert doc.version == 1 and doc.passes[0].persistent
    prog = IsfProgram(gl_ctx, doc)
    try:
        levels = [render(gl_ctx, prog)[0, 0, 0] for _ in range(2)]
    finally:
        prog.release()
    assert levels == pytest.approx([0.2, 0.4], abs=1.5 / 255)


def test_event_is_true_for_one_render(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [{"NAME": "flash", "TYPE": "event"}]}*/
        void main() { gl_FragColor = flash ? vec4(1.0) : vec4(0.0, 0.0, 0.0, 1.0); }
        """,
    )
    prog = IsfProgram(gl_ctx, load_isf(path))
    try:
        seq = [render(gl_ctx, prog, values=v)[0, 0, 0] for v in ({}, {"flash": True}, {"flash": True}, {})]
        seq.append(render(gl_ctx, prog, values={"flash": True})[0, 0, 0])
    finally:
        prog.release()
    assert seq == [0.0, 1.0, 0.0, 0.0, 1.0]


def test_time_and_date_come_from_the_frame_info(gl_ctx, tmp_path):
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": []}*/
        void main() { gl_FragColor = vec4(TIME / 10.0, DATE.w / 86400.0, float(FRAMEINDEX) / 255.0, 1.0); }
        """,
    )
    frame = FrameInfo(time=5.0, timedelta=1 / 60, frame_index=51, date=(2024.0, 1.0, 2.0, 43200.0))
    img = render(gl_ctx, path, frame=frame)
    assert img[0, 0, :3] == pytest.approx([0.5, 0.5, 51 / 255], abs=1 / 255)


def test_imported_image_is_loaded(gl_ctx, tmp_path):
    from PIL import Image

    img = Image.new("RGBA", (4, 4), (0, 0, 255, 255))
    img.putpixel((0, 0), (255, 0, 0, 255))  # top-left pixel in the file = top-left on screen
    img.save(tmp_path / "pic.png")
    path = write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [], "IMPORTED": {"pic": {"PATH": "pic.png"}}}*/
        void main() { gl_FragColor = IMG_NORM_PIXEL(pic, isf_FragNormCoord); }
        """,
    )
    out = render(gl_ctx, path, size=(4, 4))
    assert np.allclose(out[3, 0], [1.0, 0.0, 0.0, 1.0])  # last row read back = top of the image
    assert np.allclose(out[0, 0], [0.0, 0.0, 1.0, 1.0])


def test_transition_kind_and_defaults(tmp_path):
    doc = load_isf_source(
        '/*{"ISFVSN": "2.0", "INPUTS": [{"NAME": "startImage", "TYPE": "image"},'
        '{"NAME": "endImage", "TYPE": "image"}, {"NAME": "progress", "TYPE": "float", "DEFAULT": 0.0},'
        '{"NAME": "mode", "TYPE": "long", "VALUES": [3, 4], "LABELS": ["x", "y"]},'
        '{"NAME": "at", "TYPE": "point2D", "DEFAULT": [1, 2]}]}*/\nvoid main() {}\n',
        tmp_path / "t.fs",
    )
    by_name = {i.name: i for i in doc.inputs}
    assert doc.kind == "transition"
    assert by_name["mode"].default == 3 and by_name["mode"].labels == ("x", "y")
    assert by_name["at"].default == (1.0, 2.0)
    # The translated source keeps the user's lines at their file line numbers.
    assert "#line 1 0" in doc.fragment


def test_size_expressions_are_arithmetic_only():
    f = compile_size_expr("max(floor($WIDTH * $quality), 8.0) + 2^2 - -1")
    assert f({"WIDTH": 100.0, "quality": 0.25}) == 30.0
    for bad in ("__import__('os')", "$WIDTH.__class__", "open(1)"):
        with pytest.raises(ValueError):
            compile_size_expr(bad)


def test_check_shader_reports_ok_errors_and_writes_thumbnail(gl_ctx, tmp_path):
    good = write_fs(tmp_path, SOLID, name="good.fs")
    thumb = tmp_path / "thumbs" / "good.png"
    assert check_shader(gl_ctx, good, size=(32, 16), frames=2, thumb=thumb) is None
    from PIL import Image

    with Image.open(thumb) as im:
        assert im.size == (32, 16) and im.getpixel((5, 5)) == (255, 128, 0, 255)
    bad = write_fs(
        tmp_path, '/*{"INPUTS": []}*/\nvoid main()\n{\n  gl_FragColor = vec3(1.0);\n}\n', name="bad.fs"
    )
    err = check_shader(gl_ctx, bad, size=(32, 16))
    assert isinstance(err, ShaderError) and err.path == bad and err.line == 4


def test_audio_inputs_get_the_live_analysis_in_isf_shape(gl_ctx, tmp_path):
    """ISF audio/audioFFT inputs: MAX columns, waveform centred on 0.5, spectrum 0..1."""
    from engine.analysis.features import silent_features
    from engine.clock import OfflineClock
    from engine.render.pipeline import Pipeline
    from engine.show.preset import load_preset

    write_fs(
        tmp_path,
        """
        /*{"ISFVSN": "2", "INPUTS": [
            {"NAME": "fft", "TYPE": "audioFFT", "MAX": 4},
            {"NAME": "wave", "TYPE": "audio"}
        ]}*/
        void main()
        {
            float low = IMG_NORM_PIXEL(fft, vec2(0.125, 0.5)).r;
            float high = IMG_NORM_PIXEL(fft, vec2(0.875, 0.5)).r;
            gl_FragColor = vec4(low, high, IMG_SIZE(fft).x / 255.0 + IMG_NORM_PIXEL(wave, vec2(0.5)).r, 1.0);
        }
        """,
        name="scope.fs",
    )
    (tmp_path / "p.toml").write_text('name = "a"\n[shader]\nfile = "scope.fs"\n')
    spectrum = np.r_[np.full(32, 0.8), np.full(32, 0.2)].astype(np.float32)
    features = silent_features(("bass",))
    features = type(features)(
        time=0.0, bands=features.bands, spectrum=spectrum, waveform=np.zeros(512, np.float32)
    )
    pipeline = Pipeline(gl_ctx, load_preset(tmp_path / "p.toml"), (W, H))
    fbo = target(gl_ctx)
    try:
        pipeline.render(OfflineClock(30).tick(), {}, features, fbo)
        rgb = np.frombuffer(fbo.read(components=3), np.uint8).reshape(H, W, 3)[0, 0] / 255.0
    finally:
        pipeline.release()
    assert rgb == pytest.approx([0.8, 0.2, 4 / 255 + 0.5], abs=1.5 / 255)
