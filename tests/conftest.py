"""Shared fixtures: a real headless GL context (Mesa llvmpipe through EGL) and paths."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def user_data_folder(tmp_path_factory):
    """Snapshots and logs of shows started from shipped presets go to the user's data folder: in tests, a
    temporary one (every show the tests start inherits it), never the tester's home."""
    import os

    folder = tmp_path_factory.mktemp("xdg-data")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture(scope="session")
def _gl_session():
    import moderngl

    ctx = moderngl.create_standalone_context(backend="egl")
    yield ctx
    ctx.release()


@pytest.fixture
def gl_ctx(_gl_session):
    """The session's context, made current for the test: a test that made a context of its own (EGL makes
    a new context current on its thread) would otherwise leave this one's calls going to that one."""
    with _gl_session:
        yield _gl_session


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


def run_cli(*args: str, env: dict | None = None, timeout: float = 240):
    """Run the real `halation` command (python -m engine) and capture what the user would see."""
    import os
    import subprocess
    import sys

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def xvfb_display():
    """A real X server (Xvfb) for window tests; yields its DISPLAY value."""
    import shutil
    import subprocess
    import time

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (make test installs it)")
    for number in range(90, 110):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.1)
        if proc.poll() is None:
            yield f":{number}"
            proc.terminate()
            proc.wait(timeout=5)
            return
    pytest.fail("could not start Xvfb")


def until(predicate, timeout: float = 10.0, every: float = 0.01) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False): readiness is waited for,
    never assumed after a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
