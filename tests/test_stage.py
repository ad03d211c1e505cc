"""Stage output: the stage file, warp and blend as the output shows them, and the flash-safety limiter."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from engine.output.compose import OutputCompositor, read_pixels
from engine.output.flash import FlashCounter
from engine.output.stage import EdgeBlend, Mask, OutputSpec, StageError, load_stage, save_stage
from engine.output.warp import apply_homography, keystone_matrix

KEYSTONE = [[0.1, 0.05], [0.95, 0.0], [1.0, 1.0], [0.0, 0.9]]

STROBE_FS = """/*{ "ISFVSN": "2", "CATEGORIES": ["Generator"], "INPUTS": [] }*/
void main() { gl_FragColor = vec4(vec3(fract(TIME * 10.0) < 0.5 ? 1.0 : 0.0), 1.0); }
"""


def write_stage(tmp_path, body: str):
    path = tmp_path / "stage.toml"
    path.write_text(body)
    return path


def strobe_preset(tmp_path):
    (tmp_path / "strobe.fs").write_text(STROBE_FS)
    preset = tmp_path / "strobe.toml"
    preset.write_text('name = "strobe"\n[shader]\nfile = "strobe.fs"\n')
    return preset


def frames(folder) -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGBA")) for p in sorted(folder.glob("*.png"))]


# --- the stage file ---------------------------------------------------------------------------------


def test_unknown_key_names_its_line_with_a_hint(tmp_path):
    path = write_stage(tmp_path, '[[output]]\nname = "main"\nsize = [1280, 720]\nkeystome = []\n')
    with pytest.raises(StageError) as err:
        load_stage(path)
    assert str(err.value) == f"{path}:4: unknown key 'keystome' in [[output]] (did you mean 'keystone'?)"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('fit = "zoom"', "'fit' must be one of: fit, fill, stretch"),
        ("size = [1281, 720]", "must be even"),
        ("keystone = [[0, 0], [1, 1], [1, 0], [0, 1]]", "convex quad"),
        ("brightness = 3.0", "use 0..2"),
    ],
)
def test_a_bad_value_is_one_line_at_its_line(tmp_path, line, says):
    body = '[[output]]\nname = "main"\nsize = [1280, 720]\n' + line + "\n"
    if line.startswith("size"):
        body = '[[output]]\nname = "main"\n' + line + "\n"
    path = write_stage(tmp_path, body)
    with pytest.raises(StageError) as err:
        load_stage(path)
    text = str(err.value)
    assert says in text and "\n" not in text
    assert text.startswith(f"{path}:{body.splitlines().index(line) + 1}: ")


def test_save_is_atomic_and_keeps_the_previous_file(tmp_path):
    path = write_stage(tmp_path, '[[output]]\nname = "main"\nsize = [1280, 720]\n')
    before = path.read_text()
    stage = load_stage(path)
    edited = stage.replace_output(OutputSpec("main", (1280, 720), keystone=tuple(map(tuple, KEYSTONE))))
    save_stage(edited, path)
    assert (tmp_path / "stage.toml.bak").read_text() == before
    assert load_stage(path).outputs[0].keystone == tuple(map(tuple, KEYSTONE))
    assert not list(tmp_path.glob(".*.tmp"))


# --- what the output shows ------------------------------------------------------------------------


def test_keystone_is_a_true_perspective_warp():
    spec = OutputSpec("main", (1280, 720), keystone=tuple(map(tuple, KEYSTONE)))
    h = keystone_matrix(spec)
    corners = apply_homography(h, [(0, 0), (1, 0), (1, 1), (0, 1)])
    np.testing.assert_allclose(corners, KEYSTONE, atol=1e-9)


def test_render_keystoned_pattern_corners_land_where_the_stage_puts_them(tmp_path):
    stage = write_stage(
        tmp_path,
        '[[output]]\nname = "side"\nsize = [320, 180]\n[[output]]\nname = "main"\nsize = [640, 360]\n'
        f'pattern = "grid"\nkeystone = {KEYSTONE}\n',
    )
    out = tmp_path / "frames"
    done = run_cli(
        "render", "--stage", str(stage), "--output", "main", "--frames", str(out),
        "--duration", "0.1", "--size", "320x180", "--log", str(tmp_path / "log.jsonl"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    picture = frames(out)[-1]
    assert picture.shape[:2] == (360, 640)
    lit = np.argwhere(picture[..., :3].max(-1) > 128)[:, ::-1] + 0.5  # (x, y) pixel centres
    centre = lit.mean(0)
    for x, y in KEYSTONE:
        expected = np.array([x * 640, y * 360])
        near = lit[np.linalg.norm(lit - expected, axis=1) < 6]
        found = near[np.argmax(np.linalg.norm(near - centre, axis=1))]  # the outermost lit pixel there
        assert np.linalg.norm(found - expected) <= 2.0, (expected, found)


def test_unknown_output_is_one_line(tmp_path):
    stage = write_stage(tmp_path, '[[output]]\nname = "main"\nsize = [640, 360]\n')
    done = run_cli("render", "--stage", str(stage), "--output", "mian", "--frames", str(tmp_path / "f"))
    assert done.returncode == 1
    assert "no such output (did you mean 'main'?)" in done.stderr


def test_edge_blend_ramp_follows_its_curve(gl_ctx):
    blend = EdgeBlend(width=0.25, curve=3.0, gamma=1.8, centre=0.4)
    spec = OutputSpec("right", (400, 100), pattern="ramp", blend={"left": blend})
    comp = OutputCompositor(gl_ctx, spec, (400, 100), "off")
    try:
        row = read_pixels(gl_ctx, comp.draw(gl_ctx.texture((4, 4), 4), 0.0))[10, :, 0] / 255.0
    finally:
        comp.release()
    xs = (np.arange(400) + 0.5) / 400
    expected = np.array([blend.factor(x / 0.25) if x < 0.25 else 1.0 for x in xs])
    assert np.abs(row - expected).max() <= 1.5 / 255
    assert row[10] < row[50] < row[90] < row[110]  # a ramp, not a step
    assert abs(row[50] - 0.4 ** (1 / 1.8)) < 0.02  # its middle is `centre`, through the blend gamma


# --- the flash-safety limiter ---------------------------------------------------------------------


def run_limiter(
    ctx, colours, mode, fps=60.0, size=(320, 180), spec=None
) -> tuple[FlashCounter, list[np.ndarray]]:
    """Feed full-frame colours through an output (plain unless `spec`) and count flashes on what it
    shows."""
    program = ctx.texture(size, 4)
    comp = OutputCompositor(ctx, spec or OutputSpec("main", size), size, mode)
    counter, shown = FlashCounter(fps), []
    try:
        for n, colour in enumerate(colours):
            program.write(np.broadcast_to(np.array(colour, np.uint8), (*size[::-1], 4)).tobytes())
            pixels = read_pixels(ctx, comp.draw(program, n / fps))
            counter.add(pixels)
            shown.append(pixels)
    finally:
        comp.release()
        program.release()
    return counter, shown


def strobe(on, off, fps=60, seconds=2.0, period=6):
    """A 10 Hz strobe at 60 fps: `period` frames per flash, half on and half off."""
    return [on if (n // (period // 2)) % 2 == 0 else off for n in range(int(fps * seconds))]


def test_ten_hertz_strobe_is_limited_to_three_flashes_a_second(gl_ctx):
    white, black = (255, 255, 255, 255), (0, 0, 0, 255)
    on, _ = run_limiter(gl_ctx, strobe(white, black), "standard")
    off, _ = run_limiter(gl_ctx, strobe(white, black), "off")
    assert on.result().luma_flashes_max <= 3.0
    assert off.result().luma_flashes_max == 10.0


def test_red_flashes_are_limited_even_when_the_luminance_barely_changes(gl_ctx):
    red, grey = (255, 0, 0, 255), (124, 124, 124, 255)  # relative luminance 0.213 vs 0.202
    on, _ = run_limiter(gl_ctx, strobe(red, grey), "standard")
    off, _ = run_limiter(gl_ctx, strobe(red, grey), "off")
    assert off.result().luma_flashes_max == 0.0  # not a general flash: only the red detector sees it
    assert off.result().red_flashes_max == 10.0
    assert on.result().red_flashes_max <= 3.0


def test_content_that_does_not_flash_is_untouched_bit_for_bit(gl_ctx):
    slow = [
        (v, 255 - v, 128, 255) for v in np.r_[np.linspace(0, 255, 60), np.linspace(255, 0, 60)].astype(int)
    ]
    slow += strobe((200, 200, 200, 255), (190, 190, 190, 255), seconds=1.0)  # steps of < 0.1 luminance
    _, on = run_limiter(gl_ctx, slow, "standard")
    _, off = run_limiter(gl_ctx, slow, "off")
    assert all(np.array_equal(a, b) for a, b in zip(on, off, strict=True))


@pytest.mark.slow
def test_render_of_a_strobe_preset_counts_three_flashes_limited_and_ten_off(tmp_path):
    preset = strobe_preset(tmp_path)
    counts = {}
    for limit in ("standard", "off"):
        out = tmp_path / limit
        done = run_cli(
            "render", "--preset", str(preset), "--frames", str(out), "--flash-limit", limit,
            "--size", "160x90", "--fps", "30", "--duration", "1.5", "--log", str(tmp_path / "log.jsonl"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        counter = FlashCounter(30.0)
        for picture in frames(out):
            counter.add(picture)
        counts[limit] = counter.result().luma_flashes_max
    assert counts == {"standard": 3.0, "off": 10.0}


def test_stage_parameters_reach_the_output_and_a_folded_keystone_is_refused(gl_ctx):
    from engine.output.stage_params import stage_params
    from engine.output.stage_sinks import OutputSink

    spec = OutputSpec("main", (64, 36))
    names = {p.name for p in stage_params(load_stage_text('[[output]]\nname = "main"\nsize = [64, 36]\n'))}
    assert {"stage.main.keystone.tl", "stage.main.brightness", "stage.main.blend.left.width"} <= names
    sink = OutputSink(OutputCompositor(gl_ctx, spec, (64, 36), "off"))
    try:
        sink.adopt({"stage.main.keystone.tl": (0.1, 0.1), "stage.main.brightness": 0.5})
        assert sink.spec.keystone[0] == (0.1, 0.1) and sink.spec.brightness == 0.5
        sink.adopt({"stage.main.keystone.tl": (1.5, 1.5), "stage.main.brightness": 0.5})  # folds the quad
        assert sink.spec.keystone[0] == (0.1, 0.1)
    finally:
        sink.release()


def load_stage_text(text: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stage.toml"
        path.write_text(text)
        return load_stage(path)


def test_blackout_fades_over_its_fade_time_and_cuts_without_one():
    from engine.params.show_params import BlackoutFade

    fade = BlackoutFade()
    on = {"master.level": 0.8, "master.blackout": True, "master.fade": 2.0}
    assert fade.level({**on, "master.blackout": False}, 0.0) == pytest.approx(0.8)
    levels = [fade.level(on, t) for t in (0.5, 1.0, 2.0, 3.0)]
    assert levels == pytest.approx([0.6, 0.4, 0.0, 0.0])  # a quarter of the way each half second
    assert fade.level({**on, "master.blackout": False, "master.fade": 0.0}, 3.1) == pytest.approx(0.8)


def test_a_typo_in_the_second_outputs_blend_names_its_own_line(tmp_path):
    body = (
        '[[output]]\nname = "left"\nsize = [640, 360]\n[output.blend]\nright = { width = 0.1 }\n'
        '[[output]]\nname = "right"\nsize = [640, 360]\n[output.blend]\nleft = { width = 0.1, curv = 2 }\n'
    )
    path = write_stage(tmp_path, body)
    with pytest.raises(StageError) as err:
        load_stage(path)
    assert str(err.value) == f"{path}:10: unknown key 'curv' in blend.left (did you mean 'curve'?)"


# --- the outputs' geometry, and the limiter on a warped output ----------------------------------------


def gradient(ctx, size):
    """A program with a different colour at every pixel (x in red, y in green)."""
    w, h = size
    x, y = np.meshgrid(np.linspace(0, 255, w), np.linspace(0, 255, h))
    rgba = np.stack([x, y, np.full_like(x, 90), np.full_like(x, 255)], -1).astype(np.uint8)
    return ctx.texture(size, 4, np.ascontiguousarray(rgba[::-1]).tobytes())  # GL rows: bottom first


def shown(ctx, spec, canvas=(320, 180), program=None, mode="off") -> np.ndarray:
    program = program or gradient(ctx, canvas)
    comp = OutputCompositor(ctx, spec, canvas, mode)
    try:
        return read_pixels(ctx, comp.draw(program, 0.0))[..., :3].astype(int)
    finally:
        comp.release()


def test_a_regular_mesh_changes_nothing_and_a_moved_point_moves_the_picture(gl_ctx):
    from dataclasses import replace

    from engine.output.stage import Mesh

    base = OutputSpec("main", (320, 180), brightness=0.999)  # not plain: drawn through the warp
    flat = shown(gl_ctx, base)
    for kind in ("bilinear", "smooth"):
        regular = shown(gl_ctx, replace(base, mesh=Mesh.regular(4, 3, kind)))
        assert np.abs(regular - flat).max() <= 1, kind  # a regular mesh is the identity, edges included
    mesh = Mesh.regular(3, 3, "smooth")
    points = list(mesh.points)
    points[4] = (0.6, 0.5)  # the middle point to the right: the picture's middle is drawn there
    moved = shown(gl_ctx, replace(base, mesh=replace(mesh, points=tuple(points))))
    assert abs(moved[90, 192, 0] - flat[90, 160, 0]) <= 2  # what was at x = 160 is now at x = 192


def test_a_scaled_or_warped_picture_never_shows_its_opposite_edge_at_its_border(gl_ctx):
    """Render 160x90, project 320x180: the border pixels sample within half a texel of the picture's
    edge, where a repeating texture would blend in the other side (a faint line of the right edge's
    white down the left of the projector)."""
    w, h = 160, 90
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:, -1, :3] = 255  # the right edge white, the bottom row white
    rgba[-1, :, :3] = 255
    program = gl_ctx.texture((w, h), 4, np.ascontiguousarray(rgba[::-1]).tobytes())
    try:
        for spec in (
            OutputSpec("main", (320, 180)),
            OutputSpec("main", (320, 180), keystone=((0.0, 0.0), (0.97, 0.02), (1.0, 1.0), (0.0, 0.96))),
        ):
            px = shown(gl_ctx, spec, canvas=(w, h), program=program)
            assert px[:150, 0].max() == 0, spec.keystone  # the left column: black, as the picture's
            assert px[0, :300].max() == 0, spec.keystone  # the top row too
    finally:
        program.release()


def test_a_mask_blacks_out_its_polygon_and_leaves_the_rest(gl_ctx):
    from engine.output.stage import Mask

    spec = OutputSpec("main", (320, 180), masks=(Mask(((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0))),))
    flat = shown(gl_ctx, OutputSpec("main", (320, 180), brightness=0.999))
    px = shown(gl_ctx, spec)
    assert px[100:, 170:].max() == 0  # inside the mask: black
    assert np.abs(px[:80] - flat[:80]).max() <= 1 and np.abs(px[:, :150] - flat[:, :150]).max() <= 1
    inverted = shown(gl_ctx, OutputSpec("main", (320, 180), masks=(Mask(spec.masks[0].points, True),)))
    assert inverted[:80].max() == 0 and np.abs(inverted[110:, 180:] - flat[110:, 180:]).max() <= 1


def test_fit_letterboxes_fill_crops_and_two_regions_share_one_wide_picture(gl_ctx):
    canvas = (640, 180)  # a wide canvas onto 16:9 outputs
    program = gradient(gl_ctx, canvas)
    fit = shown(gl_ctx, OutputSpec("a", (320, 180), fit="fit"), canvas, program)
    assert fit[:40].max() == 0 and fit[-40:].max() == 0 and fit[90, :, 2].min() > 80  # bars above, below
    fill = shown(gl_ctx, OutputSpec("a", (320, 180), fit="fill"), canvas, program)
    assert fill[:, :, 2].min() > 80 and 60 < fill[90, 0, 0] < 70  # no bars; a quarter cut off each side
    halves = [
        shown(gl_ctx, OutputSpec(n, (320, 180), region=r), canvas, program)
        for n, r in (("left", (0.0, 0.0, 0.5, 1.0)), ("right", (0.5, 0.0, 0.5, 1.0)))
    ]
    whole = read_pixels(gl_ctx, program)[..., :3].astype(int)
    assert np.array_equal(np.hstack(halves), whole)  # side by side they are the canvas, texel for pixel
    program.release()


def test_a_warped_blended_output_is_flash_limited_and_otherwise_untouched(gl_ctx):
    corners = tuple(map(tuple, KEYSTONE))
    spec = OutputSpec("main", (320, 180), keystone=corners, blend={"left": EdgeBlend(0.2)})
    on, _ = run_limiter(gl_ctx, strobe((255, 255, 255, 255), (0, 0, 0, 255)), "standard", spec=spec)
    off, _ = run_limiter(gl_ctx, strobe((255, 255, 255, 255), (0, 0, 0, 255)), "off", spec=spec)
    assert on.result().luma_flashes_max <= 3.0 and off.result().luma_flashes_max == 10.0
    slow = [(v, 255 - v, 128, 255) for v in np.linspace(0, 255, 40).astype(int)]
    _, a = run_limiter(gl_ctx, slow, "standard", spec=spec)
    _, b = run_limiter(gl_ctx, slow, "off", spec=spec)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_the_limiter_counts_what_the_audience_sees_of_a_masked_warped_output(gl_ctx):
    """A strobing band over 40 % of the program, most of it under the mask on the keystoned output: what
    the audience sees of it is a sliver, not a flash, so the limiter leaves every frame as it is; without
    the mask the same band is limited."""
    size = (320, 180)
    lit = np.zeros((*size[::-1], 4), np.uint8)
    lit[..., 3] = 255
    lit[:, : round(0.4 * size[0]), :3] = 255
    dark = lit.copy()
    dark[..., :3] = 0
    corners = tuple(map(tuple, KEYSTONE))
    bare = OutputSpec("main", size, keystone=corners)
    masked = OutputSpec("main", size, keystone=corners, masks=(Mask(((0, 0), (0.3, 0), (0.3, 1), (0, 1))),))
    seen, on = run_limiter(gl_ctx, strobe(lit, dark), "standard", spec=masked)
    _, off = run_limiter(gl_ctx, strobe(lit, dark), "off", spec=masked)
    assert seen.result().luma_flashes_max == 0.0
    assert all(np.array_equal(a, b) for a, b in zip(on, off, strict=True))
    limited, _ = run_limiter(gl_ctx, strobe(lit, dark), "standard", spec=bare)
    unlimited, _ = run_limiter(gl_ctx, strobe(lit, dark), "off", spec=bare)
    assert limited.result().luma_flashes_max <= 3.0 and unlimited.result().luma_flashes_max == 10.0


def test_the_flash_limit_switches_live_logged_and_shown_on_the_preview(gl_ctx, caplog):
    from engine.output.flash import NOTICE
    from engine.output.sink import FrameInfo
    from engine.output.stage import Stage
    from engine.output.stage_params import FLASH_LIMIT
    from engine.output.stage_sinks import OutputSink, StageControl

    size = (160, 90)
    sink = OutputSink(OutputCompositor(gl_ctx, OutputSpec("main", size), size, "standard"))
    control = StageControl(Stage((sink.spec,)), [sink], "standard")
    program = gl_ctx.texture(size, 4)
    counters = {0: FlashCounter(60.0), 2: FlashCounter(60.0)}
    try:
        for n, colour in enumerate(strobe((255, 255, 255, 255), (0, 0, 0, 255), seconds=2.0)):
            limit = 0 if n < 60 else 2  # standard for a second, then the operator turns it off
            info = FrameInfo(n / 60, n, None, {FLASH_LIMIT: float(limit)}, ())
            program.write(np.broadcast_to(np.array(colour, np.uint8), (*size[::-1], 4)).tobytes())
            control.present(program, info)
            sink.present(program, info)
            counters[limit].add(read_pixels(gl_ctx, sink.picture))
            if n == 70:
                notices = control.notices()
    finally:
        sink.release()
        program.release()
    assert counters[0].result().luma_flashes_max <= 3.0
    assert counters[2].result().luma_flashes_max >= 9.5  # unlimited (its count starts mid-flash)
    said = [r.getMessage() for r in caplog.records if "changed live" in r.getMessage()]
    assert len(said) == 1 and "OFF" in said[0] and "was standard" in said[0]
    assert NOTICE["off"] in notices and "flash limit changed: standard -> off" in notices


def test_strict_lowers_the_area_a_strobe_over_22_percent_of_the_frame_is_limited_only_by_strict(gl_ctx):
    size = (320, 180)
    lit = np.zeros((*size[::-1], 4), np.uint8)
    lit[..., 3] = 255
    lit[:, : round(0.22 * size[0])] = 255  # a white band over 22 % of the frame, the rest black
    dark = lit.copy()
    dark[..., :3] = 0
    frames_ = strobe(lit, dark)
    counted = {mode: run_limiter(gl_ctx, frames_, mode)[0] for mode in ("standard", "strict")}
    strict_area = FlashCounter(60.0, area=0.20)  # the viewer's count at the strict area
    for picture in run_limiter(gl_ctx, frames_, "strict")[1]:
        strict_area.add(picture)
    assert counted["standard"].result().luma_flashes_max == 0.0  # under 25 %: not a general flash
    unlimited = FlashCounter(60.0, area=0.20)
    for picture in run_limiter(gl_ctx, frames_, "standard")[1]:
        unlimited.add(picture)
    assert unlimited.result().luma_flashes_max == 10.0  # standard lets it through
    assert strict_area.result().luma_flashes_max <= 3.0  # strict does not


def test_brightness_and_gamma_and_every_test_pattern(gl_ctx):
    grey = gl_ctx.texture((64, 36), 4, bytes([128, 128, 128, 255]) * (64 * 36))
    half = shown(gl_ctx, OutputSpec("main", (64, 36), brightness=0.5), (64, 36), grey)
    assert np.abs(half - 64).max() <= 1
    curved = shown(gl_ctx, OutputSpec("main", (64, 36), gamma=2.2), (64, 36), grey)
    assert np.abs(curved - 255 * (128 / 255) ** 2.2).max() <= 1.5
    size = (320, 180)
    bars = shown(gl_ctx, OutputSpec("main", size, pattern="bars"), size, grey)[90, 20::40] // 255
    expected = [[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert bars.tolist() == expected  # white, yellow, cyan, green, magenta, red, blue, black
    grid = shown(gl_ctx, OutputSpec("main", size, pattern="grid"), size, grey)[..., 0]
    assert grid[0].min() == 255 and grid[:, 160].min() == 255 and grid[50, 7] == 0  # border, cross, cell
    circles = shown(gl_ctx, OutputSpec("main", size, pattern="circles"), size, grey)[..., 0]
    assert circles[90, 160 + 22] == 255 and circles[90, 160 + 11] == 0  # a ring every quarter radius
    ramp = shown(gl_ctx, OutputSpec("main", size, pattern="ramp"), size, grey)[90, :, 0]
    assert ramp[10] < ramp[160] < ramp[310]
    grey.release()


def test_output_gamma_follows_its_curve_within_a_level_at_every_input_level(gl_ctx):
    """The output gamma is drawn as a short polynomial where one follows the curve (0.8, 2.2, 4.0) and as
    pow where none does (0.3): either way each of the 256 input levels comes out as 255 (v / 255)^gamma,
    within one level."""
    ramp = np.zeros((4, 256, 4), np.uint8)
    ramp[..., :3] = np.arange(256, dtype=np.uint8)[None, :, None]
    ramp[..., 3] = 255
    program = gl_ctx.texture((256, 4), 4, ramp.tobytes())
    try:
        for gamma in (0.3, 0.8, 2.2, 4.0):
            got = shown(gl_ctx, OutputSpec("main", (256, 4), gamma=gamma), (256, 4), program)[2, :, 0]
            assert np.abs(got - 255 * (np.arange(256) / 255) ** gamma).max() <= 1.0, gamma
    finally:
        program.release()


def test_stage_edit_markers_are_drawn_on_a_limited_warped_output(gl_ctx):
    spec = OutputSpec("main", (320, 180), keystone=tuple(map(tuple, KEYSTONE)))
    program = gradient(gl_ctx, (320, 180))
    comp = OutputCompositor(gl_ctx, spec, (320, 180), "standard")
    comp.markers = ([(0.5, 0.5)], 0)  # stage edit: the selected point, in the middle of the output
    try:
        for n in range(3):  # the limiter's own pass runs beside them, frame after frame
            px = read_pixels(gl_ctx, comp.draw(program, n / 60))[..., :3]
    finally:
        comp.release()
        program.release()
    assert px[90, 160 + 11].tolist() == [255, 204, 0]  # the selected marker's ring, 11 px from its centre


def test_a_damped_frame_changes_only_the_cells_that_would_flash_drawn_into_a_window_or_not(gl_ctx):
    """A strobe over the left 60 % of a textured picture, beside a still right part: once the budget is
    used, the left part is blended toward what was shown before (each pixel between the two), and the
    right part is the picture bit for bit in every frame, damped or not; an output drawn into a window's
    framebuffer shows the same frames as one drawn into its own texture."""
    size, fps = (320, 180), 60.0
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 256, (size[1], size[0], 4), np.uint8)
    texture[..., 3] = 255
    bright = np.maximum(texture, 150).astype(np.uint8)  # a textured strobe: bright, then black
    split = int(size[0] * 0.6)
    program = gl_ctx.texture(size, 4)
    window = gl_ctx.texture(size, 4)
    window_fbo = gl_ctx.framebuffer(color_attachments=[window])
    comps = [OutputCompositor(gl_ctx, OutputSpec("main", size), size, "standard") for _ in range(2)]
    counter, damped, before = FlashCounter(fps), 0, None
    try:
        for n, on in enumerate(strobe(True, False, seconds=1.5)):
            picture = texture.copy()
            picture[:, :split] = bright[:, :split] if on else (0, 0, 0, 255)
            program.write(picture[::-1].tobytes())  # GL's rows: bottom first
            shown = read_pixels(gl_ctx, comps[0].draw(program, n / fps))
            comps[1].draw_into(program, n / fps, window_fbo)
            assert np.array_equal(read_pixels(gl_ctx, window), shown)
            cells_right = split + size[0] // 64 + 1  # the first whole cell right of the strobe
            assert np.array_equal(shown[:, cells_right:], picture[:, cells_right:])
            counter.add(shown)
            if not np.array_equal(shown, picture):
                damped += 1
                lo, hi = np.minimum(before, picture) - 1, np.maximum(before, picture) + 1
                left = shown[:, : split - size[0] // 64 - 1].astype(int)
                assert ((left >= lo[:, : left.shape[1]]) & (left <= hi[:, : left.shape[1]])).all()
            before = shown.astype(int)
    finally:
        for comp in comps:
            comp.release()
        window_fbo.release()
        window.release()
        program.release()
    assert damped >= 10
    assert counter.result().luma_flashes_max <= 3.0


@pytest.mark.parametrize("keystone", [None, ((0.03, 0.02), (0.98, 0.0), (1.0, 1.0), (0.0, 0.97))])
def test_a_strobe_over_the_top_of_the_picture_is_damped_there_and_the_bottom_stays_as_it_is(gl_ctx, keystone):
    """The limiter's cells are two halves of the picture (the bottom one first): a strobe over the top 60 %
    is counted and damped in the top cells only; the still bottom of the output is, in every frame, what
    it is with the limiter off, plain or keystoned."""
    size, fps = (320, 180), 60.0
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 256, (size[1], size[0], 4), np.uint8)
    texture[..., 3] = 255
    split = int(size[1] * 0.6)  # rows from the top
    spec = OutputSpec("main", size) if keystone is None else OutputSpec("main", size, keystone=keystone)
    program = gl_ctx.texture(size, 4)
    on, off = OutputCompositor(gl_ctx, spec, size, "standard"), OutputCompositor(gl_ctx, spec, size, "off")
    counter, damped = FlashCounter(fps), 0
    still = split + size[1] // 64 * 2 + 8  # output rows below the strobe's cells, the keystone's shift too
    try:
        for n, lit in enumerate(strobe(True, False, seconds=1.5)):
            picture = texture.copy()
            picture[:split] = np.maximum(texture[:split], 150) if lit else (0, 0, 0, 255)
            program.write(picture[::-1].tobytes())  # GL's rows: bottom first
            shown = read_pixels(gl_ctx, on.draw(program, n / fps))
            unlimited = read_pixels(gl_ctx, off.draw(program, n / fps))
            assert np.array_equal(shown[still:], unlimited[still:]), n
            counter.add(shown)
            damped += not np.array_equal(shown[: split // 2], unlimited[: split // 2])
    finally:
        for thing in (on, off, program):
            thing.release()
    assert damped >= 10
    assert counter.result().luma_flashes_max <= 3.0


def test_an_output_drawn_through_its_geometry_is_limited_as_a_plain_one(gl_ctx):
    """The limiter measures a plain output on the program and any other by drawing its picture into the
    cells (each half of the picture into its half of them): with a still top and a strobing bottom, an
    output that only dims by a thousandth is damped frame for frame as the plain one is."""
    size, fps = (320, 180), 60.0
    rng = np.random.default_rng(5)
    texture = rng.integers(60, 200, (size[1], size[0], 4), np.uint8)
    texture[..., 3] = 255
    split = int(size[1] * 0.4)  # rows from the top: still; the rest strobes
    program = gl_ctx.texture(size, 4)
    plain = OutputCompositor(gl_ctx, OutputSpec("main", size), size, "standard")
    drawn = OutputCompositor(gl_ctx, OutputSpec("main", size, brightness=0.999), size, "standard")
    damped = 0
    try:
        for n, lit in enumerate(strobe(True, False, seconds=1.5)):
            picture = texture.copy()
            picture[split:] = (255, 255, 255, 255) if lit else (0, 0, 0, 255)
            program.write(picture[::-1].tobytes())  # GL's rows: bottom first
            a = read_pixels(gl_ctx, plain.draw(program, n / fps)).astype(int)
            b = read_pixels(gl_ctx, drawn.draw(program, n / fps)).astype(int)
            assert np.abs(a - b).max() <= 3, n
            damped += not np.array_equal(a, picture)
    finally:
        for thing in (plain, drawn, program):
            thing.release()
    assert damped >= 10
