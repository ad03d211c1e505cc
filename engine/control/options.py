"""The `perform` options for control (OSC, OSCQuery, MIDI, sACN) and building the ControlHub from them.

Imports nothing heavy at module level: the CLI builds its parser for every command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}': ports are 0–65535 (0 = any free port)")
    return value


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host:
        raise argparse.ArgumentTypeError(f"'{text}' is not HOST:PORT")
    return host, _port(port)


def add_control_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("control (OSC, OSCQuery, MIDI, sACN; see docs/control.md)")
    add = g.add_argument
    add("--osc-port", type=_port, help="listen for OSC over UDP on this port (0 = any free port)")
    add(
        "--osc-tcp-port",
        type=_port,
        help="OSC over TCP (length-prefix or SLIP); default: the --osc-port number",
    )
    add("--no-osc-tcp", action="store_true", help="UDP only")
    add("--osc-bind", default="0.0.0.0", help="address to listen on (default: all interfaces)")
    add("--osc-prefix", default="/hl", help="root of the address space (default /hl; '' for none)")
    add(
        "--osc-allow",
        help="who may send, comma-separated: addresses, networks, 'loopback', 'local' (loopback + this "
        "machine's network segments, the default) or 'any'",
    )
    add(
        "--osc-profile",
        action="append",
        default=[],
        metavar="[SOURCE=]PROFILE",
        help="level range per source: native, 0-1, 0-100, 0-255, auto, or a desk: eos, ma3, chamsys, "
        "qlcplus (repeatable, e.g. 10.0.0.5=ma3)",
    )
    add(
        "--osc-rate-limit", type=float, default=12000.0, help="messages/s per source (default 12000; 0 = off)"
    )
    add(
        "--osc-feedback",
        action="append",
        default=[],
        type=_host_port,
        metavar="HOST:PORT",
        help="send value feedback here (repeatable); clients may also send /hl/feedback/register",
    )
    add("--osc-alias", type=Path, help="TOML file mapping a desk's own addresses onto Halation targets")
    add("--no-resolume", action="store_true", help="ignore the Resolume-style /composition/ aliases")
    add("--oscquery-port", type=_port, help="serve OSCQuery (HTTP + WebSocket) on this port (0 = any)")
    add("--oscquery-readonly", action="store_true", help="OSCQuery shows values but accepts no changes")
    add("--no-zeroconf", action="store_true", help="do not advertise _oscjson._tcp / _osc._udp")
    add(
        "--midi",
        action="append",
        metavar="PORT",
        help="MIDI input: part of a device name, or 'virtual' for a Halation port (repeatable: several "
        "controllers); its output port gets feedback (motor faders, LEDs)",
    )
    add(
        "--midi-map",
        action="append",
        type=Path,
        help="MIDI map file (TOML); MIDI learn writes to it (one for all --midi, or one per --midi)",
    )
    add("--no-midi-feedback", action="store_true", help="send nothing back to the MIDI controllers")
    add("--midi-api", help="MIDI system: alsa, jack, coremidi, windows (default: the platform's)")
    add("--midi-clock", action="store_true", help="follow MIDI clock for the tempo (start = beat 1)")
    add("--sacn-universe", type=int, help="listen for sACN (E1.31) on this universe")
    add("--sacn-address", type=int, default=1, help="DMX start address of the Halation fixture (default 1)")
    add("--sacn-fixture", type=Path, help="channel list (TOML); default: docs/fixtures/halation-sacn.toml")
    add("--sacn-port", type=_port, default=5568, help=argparse.SUPPRESS)
    add(
        "--artnet-universe",
        help="listen for Art-Net (ArtDmx, UDP 6454) on this universe: NET:SUBNET:UNIVERSE or 0–32767",
    )
    add(
        "--artnet-address",
        type=int,
        default=1,
        help="DMX start address of the fixture on Art-Net (default 1)",
    )
    add("--artnet-fixture", type=Path, help="channel list (TOML) for Art-Net; default: the sACN fixture's")
    add("--artnet-port", type=_port, default=6454, help=argparse.SUPPRESS)


def wants_control(args: Any) -> bool:
    return any(
        getattr(args, name, None) is not None
        for name in ("osc_port", "osc_tcp_port", "oscquery_port", "midi", "sacn_universe", "artnet_universe")
    )


def _stream_nodes(args: Any) -> tuple[Any, ...]:
    """With --send-features, what the stream sends, so OSCQuery lists it beside what the show takes."""
    if not getattr(args, "send_features", None):
        return ()
    from engine.analysis.bands import DEFAULT_BANDS
    from engine.control.status import SentNode
    from engine.output.features_out import stream_nodes

    return tuple(SentNode(*node) for node in stream_nodes(tuple(DEFAULT_BANDS)))


def build_controls(args: Any) -> tuple[Any, ...]:
    """The control surfaces to hand to perform(): one ControlHub, or none when no control option is given."""
    if not wants_control(args):
        return ()
    from engine.control.aliases import load_aliases
    from engine.control.hub import ControlHub, OscConfig
    from engine.control.profiles import parse_rule
    from engine.control.security import parse_networks

    tcp_port = None
    if args.osc_port is not None and not args.no_osc_tcp:
        tcp_port = args.osc_tcp_port if args.osc_tcp_port is not None else args.osc_port
    elif args.osc_tcp_port is not None:
        tcp_port = args.osc_tcp_port
    allow: Any = "local" if args.osc_allow is None else parse_networks(args.osc_allow)
    config = OscConfig(
        udp_port=args.osc_port,
        tcp_port=tcp_port,
        bind=args.osc_bind,
        prefix=args.osc_prefix,
        oscquery_port=args.oscquery_port,
        read_only=args.oscquery_readonly,
        zeroconf=not args.no_zeroconf,
        allow=allow,
        profiles=tuple(parse_rule(r) for r in args.osc_profile),
        rate_limit=args.osc_rate_limit,
        feedback=tuple(args.osc_feedback),
        resolume=not args.no_resolume,
        aliases=load_aliases(args.osc_alias) if args.osc_alias else (),
        sent=_stream_nodes(args),
    )
    inputs: list[Any] = []
    if args.midi:
        from engine.control.midi import midi_inputs

        inputs += midi_inputs(
            args.midi, args.midi_map or [], args.midi_api, args.midi_clock, not args.no_midi_feedback
        )
    if args.sacn_universe is not None:
        from engine.control.dmx import SacnInput
        from engine.control.fixture import DEFAULT, load_fixture

        fixture = load_fixture(args.sacn_fixture) if args.sacn_fixture else DEFAULT
        inputs.append(
            SacnInput(args.sacn_universe, args.sacn_address, fixture, bind=args.osc_bind, port=args.sacn_port)
        )
    if getattr(args, "artnet_universe", None) is not None:
        inputs.append(_artnet_input(args))
    return (ControlHub(config, tuple(inputs)),)


def _artnet_input(args: Any) -> Any:
    from engine.control.artnet import ArtnetInput, port_address
    from engine.control.fixture import DEFAULT, load_fixture

    path = args.artnet_fixture or args.sacn_fixture
    return ArtnetInput(
        port_address(args.artnet_universe),
        args.artnet_address,
        load_fixture(path) if path else DEFAULT,
        bind=args.osc_bind,
        port=args.artnet_port,
    )
