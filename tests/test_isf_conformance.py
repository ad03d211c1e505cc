"""Every public ISF file we test against must load, compile and render (at least 99 %), and so must ours."""

from __future__ import annotations

from engine.paths import SHADERS_DIR
from engine.render.check import check_shader


def test_public_isf_corpus_renders(gl_ctx, shared_data):
    files = sorted((shared_data / "isf" / "tests").glob("*.fs")) + sorted(
        (shared_data / "isf" / "library").glob("*.fs")
    )
    assert len(files) > 250
    failures = []
    for path in files:
        err = check_shader(gl_ctx, path, size=(64, 36), frames=2)
        if err is not None:
            failures.append(str(err))
    passed = len(files) - len(failures)
    print(f"\nISF conformance: {passed}/{len(files)} passed")
    for line in failures:
        print("  FAIL", line)
    assert passed >= 0.99 * len(files), "\n".join(failures)


def test_our_own_shaders_conform_too(gl_ctx):
    files = sorted(SHADERS_DIR.rglob("*.fs"))
    failures = [str(err) for err in (check_shader(gl_ctx, p, size=(64, 36), frames=2) for p in files) if err]
    assert files and not failures, "\n".join(failures)
