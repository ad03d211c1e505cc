"""`halation fixture --ofl OUT` writes an Open Fixture Library definition that OFL's own schema accepts (the
schema files are in tests/data/ofl-schema, from OFL's repository): a desk's fixture editor imports Halation
with the channels where the DMX input reads them and the capabilities a desk understands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.control.fixture import DEFAULT, load_fixture

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
referencing = pytest.importorskip("referencing", reason="referencing is not installed")
SCHEMAS = Path(__file__).parent / "data" / "ofl-schema"
BASE = "https://raw.githubusercontent.com/OpenLightingProject/open-fixture-library/master/schemas/"


def validator():
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        resources.append((BASE + path.name, referencing.Resource.from_contents(schema)))
    registry = referencing.Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / "fixture.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def export(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "halation.json"
    cmd = [sys.executable, "-m", "engine", "fixture", *args, "--ofl", str(out)]
    subprocess.run(cmd, check=True, timeout=60, capture_output=True)
    return json.loads(out.read_text())


def test_the_standard_fixture_is_a_valid_ofl_definition(tmp_path):
    ofl = export(tmp_path)
    errors = [f"{list(e.path)}: {e.message}" for e in validator().iter_errors(ofl)]
    assert not errors, errors
    (mode,) = ofl["modes"]
    assert len(mode["channels"]) == DEFAULT.footprint == 16
    assert mode["channels"][:3] == ["Master Level", "Master Level fine", "Master Blackout"]
    channels = ofl["availableChannels"]
    assert channels["Master Level"]["capability"]["type"] == "Intensity"
    assert [c["shutterEffect"] for c in channels["Master Blackout"]["capabilities"]] == ["Open", "Closed"]
    bpm = channels["Tempo Bpm"]["capabilities"]
    assert bpm[0]["dmxRange"][0] == 0 and bpm[-1]["dmxRange"][1] == 65535 and bpm[-1]["speedEnd"] == "300bpm"
    go = channels["Cue Go"]["capabilities"]
    assert [c["dmxRange"] for c in go] == [[0, 127], [128, 255]]  # fires from 50 %, as the input reads it


def test_a_custom_fixture_file_exports_too(tmp_path):
    custom = tmp_path / "zoom.toml"
    custom.write_text(
        'name = "Halation zoom"\nmode = "Zoom 3ch"\n'
        '[[channel]]\noffset = 1\ntarget = "shader.zoom"\nbits = 16\n'
        '[[channel]]\noffset = 3\ntarget = "macro.2"\n'
    )
    ofl = export(tmp_path, str(custom))
    assert not list(validator().iter_errors(ofl))
    assert ofl["modes"][0]["channels"] == ["Shader Zoom", "Shader Zoom fine", "Macro 2"]
    assert ofl["modes"][0]["name"] == "Zoom 3ch"
    assert load_fixture(custom).footprint == 3
