"""`halation fixture`: the DMX fixture Halation presents over sACN and Art-Net, for a desk to patch: as an
Open Fixture Library definition (`--ofl OUT.json`, which fixture editors and the OFL website import) or as the
channel list TOML (`--toml OUT.toml`, the file --sacn-fixture / --artnet-fixture read)."""

from __future__ import annotations

import sys
from pathlib import Path

HELP = "export the DMX fixture: an Open Fixture Library definition (--ofl) or the channel list (--toml)"


def add_arguments(p) -> None:
    p.add_argument(
        "fixture", nargs="?", type=Path, help="a fixture channel list (TOML); default: the standard 16ch one"
    )
    p.add_argument(
        "--ofl", type=Path, metavar="OUT", help="write an Open Fixture Library JSON file ('-': stdout)"
    )
    p.add_argument("--toml", type=Path, metavar="OUT", help="write the channel list as TOML ('-': stdout)")


def run(args) -> int:
    import json

    from engine.control.fixture import DEFAULT, fixture_toml, load_fixture
    from engine.control.ofl import ofl_fixture
    from engine.params.macros import macro_params
    from engine.params.show_params import show_params

    fixture = load_fixture(args.fixture) if args.fixture else DEFAULT
    params = {p.name: p for p in [*show_params(), *macro_params(())]}
    outputs = {
        args.ofl: json.dumps(ofl_fixture(fixture, params), indent=2, ensure_ascii=False) + "\n",
        args.toml: fixture_toml(fixture),
    }
    outputs.pop(None, None)
    if not outputs:  # neither: say what the fixture is
        for c in sorted(fixture.channels, key=lambda c: c.offset):
            span = f"{c.offset}-{c.offset + 1}" if c.bits == 16 else str(c.offset)
            print(f"{span:>6}  {c.target:<18} {c.description}")
        return 0
    for path, text in outputs.items():
        if str(path) == "-":
            sys.stdout.write(text)
        else:
            path.write_text(text, encoding="utf-8")
            print(path, file=sys.stderr)
    return 0
