"""OSC decoding, patterns, TCP framing and argument coercion: what a desk sends is read the way it meant it,
and what is malformed is refused with a reason instead of corrupting a value or crashing the receiver."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.control import guard
from engine.control.address import AddressSpace
from engine.control.codec import decode_packet, encode_bundle, encode_message, unix_to_ntp
from engine.control.coerce import ArgError, command, param_value
from engine.control.framing import BadFrame, Deframer, StreamError, length_encode, slip_encode
from engine.control.guard import PacketError
from engine.control.pattern import compile_pattern
from engine.params.show_params import show_params
from engine.params.store import Param

PARAMS = {p.name: p for p in show_params()}
PARAMS["shader.zoom"] = Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")
PARAMS["shader.tint"] = Param("shader.tint", "color", (1.0, 0.0, 0.0, 1.0), 0.0, 1.0, "Tint")
PARAMS["shader.center"] = Param("shader.center", "point2D", (0.0, 0.0), -1.0, 1.0, "Centre")
SPACE = AddressSpace(PARAMS)


def raw_message(address: str, tags: str, payload: bytes = b"") -> bytes:
    def pad(b: bytes) -> bytes:
        return b + b"\0" * (4 - len(b) % 4)

    return pad(address.encode()) + pad(("," + tags).encode()) + payload


# --- decoding ----------------------------------------------------------------------------------------------

osc_args = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(width=32, allow_nan=False),
        st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=12),
        st.booleans(),
        st.binary(min_size=1, max_size=9),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(osc_args)
def test_valid_messages_decode_exactly_as_python_osc_builds_them(args):
    builder = OscMessageBuilder("/hl/some/where")
    for a in args:
        builder.add_arg(a)
    data = builder.build().dgram
    (decoded,) = decode_packet(data)
    assert decoded.address == "/hl/some/where"
    assert list(decoded.args) == OscMessage(data).params


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_refused_with_a_reason_never_an_exception(data):
    try:
        decode_packet(data)
    except PacketError as exc:
        assert exc.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_after_a_valid_address_never_escape_the_guard(tail):
    for head in (b"/hl/master/level\0\0\0\0,", b"#bundle\0" + bytes(8)):
        with contextlib.suppress(PacketError):
            decode_packet(head + tail)


@pytest.mark.parametrize("tag", ["S", "c", "x", "?"])
def test_tags_python_osc_mangles_are_refused(tag):
    # python-osc would decode ",Sf" by skipping S and then read the float from the symbol's bytes
    data = raw_message("/hl/master/level", tag + "f", b"abc\0" + struct.pack(">f", 0.5))
    with pytest.raises(PacketError) as info:
        decode_packet(data)
    assert info.value.reason == "bad-type-tag"


def test_impulse_tag_is_a_trigger_without_a_value():
    (decoded,) = decode_packet(raw_message("/hl/tempo/tap", "I"))
    assert decoded.args == (None,)


def test_truncated_and_misaligned_packets_are_refused():
    good = encode_message("/hl/master/level", [0.5])
    with pytest.raises(PacketError):
        decode_packet(good[:-4])  # python-osc would pad the missing float with zeros
    with pytest.raises(PacketError):
        decode_packet(good[:-1])
    bad_utf8 = raw_message("/hl/cue/goto", "s", b"\xff\xfe\0\0")
    with pytest.raises(PacketError) as info:
        decode_packet(bad_utf8)
    assert info.value.reason == "bad-string"


def test_a_desks_repeated_address_is_checked_as_strictly_the_thousandth_time():
    """The address and tags a desk repeats are remembered once checked; what follows them is not."""
    for value in (0.25, 0.5, 0.75):  # the same head with new values: each read as sent
        (decoded,) = decode_packet(encode_message("/hl/master/level", [value]))
        assert decoded.args == (value,)
    good = encode_message("/hl/master/level", [0.5])
    for cut in (good[:-4], good + b"\0\0\0\0"):  # a remembered head with too few or too many bytes
        with pytest.raises(PacketError):
            decode_packet(cut)
    for i in range(3000):  # a spray of distinct addresses: every one still decoded, memory bounded
        (decoded,) = decode_packet(encode_message(f"/hl/shader/x{i}", [i]))
        assert decoded.address == f"/hl/shader/x{i}" and decoded.args == (i,)
    assert len(guard._heads) <= guard.MAX_HEADS
    (decoded,) = decode_packet(raw_message("/hl/tempo/tap", "I"))  # rewritten tags are never remembered
    assert decoded.args == (None,)
    (decoded,) = decode_packet(raw_message("/hl/tempo/tap", "I"))
    assert decoded.args == (None,)


def test_bundles_carry_their_timetag_and_nest_within_limits():
    inner = encode_bundle([encode_message("/hl/master/level", [0.25])], unix_to_ntp(2_000_000_000.0))
    outer = encode_bundle([encode_message("/hl/master/freeze", [True]), inner])
    messages = decode_packet(outer)
    assert [m.address for m in messages] == ["/hl/master/freeze", "/hl/master/level"]
    assert messages[1].timetag == unix_to_ntp(2_000_000_000.0)
    deep = encode_message("/hl/master/level", [1.0])
    for _ in range(20):
        deep = encode_bundle([deep])
    with pytest.raises(PacketError) as info:
        decode_packet(deep)
    assert info.value.reason == "too-deep"


def test_a_bundle_with_one_bad_element_is_refused_whole():
    good = encode_message("/hl/master/level", [0.5])
    bad = raw_message("/hl/master/level", "S", b"abc\0")
    with pytest.raises(PacketError):
        decode_packet(encode_bundle([good, bad]))
    with pytest.raises(PacketError):
        decode_packet(encode_bundle([good]) + struct.pack(">i", 1000))  # an element longer than the packet


# --- patterns ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("/hl/master/*", ["/hl/master/level", "/hl/master/blackout"], ["/hl/tempo/bpm"]),
        ("/hl/tempo/?pm", ["/hl/tempo/bpm"], ["/hl/tempo/tap"]),
        ("/hl/tempo/[bt]*", ["/hl/tempo/bpm", "/hl/tempo/tap"], ["/hl/tempo/lock"]),
        ("/hl/tempo/[!bt]*", ["/hl/tempo/lock", "/hl/tempo/nudge"], ["/hl/tempo/bpm"]),
        ("/hl/tempo/[a-c]pm", ["/hl/tempo/bpm"], ["/hl/tempo/tap"]),
        ("/hl/{master,clips}/*", ["/hl/master/level", "/hl/clips/crossfade"], ["/hl/tempo/bpm"]),
        ("//level", ["/hl/master/level"], ["/hl/tempo/bpm"]),
        ("/hl//crossfade", ["/hl/clips/crossfade"], ["/hl/master/level"]),
        ("/hl/*", [], ["/hl/master/level"]),  # a star never crosses a '/'
    ],
)
def test_patterns_select_the_addresses_the_osc_spec_says(pattern, matches, misses):
    regex = compile_pattern(pattern)
    assert regex is not None
    for address in matches:
        assert regex.match(address), address
    for address in misses:
        assert not regex.match(address), address


def test_pattern_messages_reach_every_matching_parameter():
    found = {t.param.name for t in SPACE.lookup("/hl/master/{level,freeze}")}
    assert found == {"master.level", "master.freeze"}
    assert SPACE.lookup("/hl/master/[unclosed") == ()


def test_addresses_are_names_and_case_forgiving():
    (target,) = SPACE.lookup("/hl/shader/zoom")
    assert target.param.name == "shader.zoom"
    assert SPACE.lookup("/HL/Master/Level")[0].param.name == "master.level"
    bare = AddressSpace(PARAMS, prefix="")
    assert bare.lookup("/master/level")[0].param.name == "master.level"


def test_resolume_aliases_reach_the_same_targets():
    (fader,) = SPACE.lookup("/composition/crossfader/phase")
    assert fader.param.name == "clips.crossfade"
    (clip,) = SPACE.lookup("/composition/layers/2/clips/3/connect")
    assert command(clip, [1], "native").args == ("b", 3.0)
    assert command(clip, [0], "native") is None  # the button's release
    (tempo,) = SPACE.lookup("/composition/tempocontroller/tempo")
    assert param_value(tempo, [0.5], "native", None) == pytest.approx(260.0)  # Resolume: 20–500 BPM


# --- TCP framing -------------------------------------------------------------------------------------------

PACKETS = [encode_message("/hl/master/level", [0.5]), encode_message("/hl/cue/goto", ["intro \xc0\xdb"])]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["length", "slip", "slip-single"]), st.lists(st.integers(1, 40), max_size=20))
def test_framing_survives_any_split_of_the_stream(framing, cuts):
    if framing == "length":
        stream = b"".join(length_encode(p) for p in PACKETS)
    elif framing == "slip":
        stream = b"".join(slip_encode(p) for p in PACKETS)
    else:  # single END after each packet, as some SLIP senders do
        stream = b"".join(slip_encode(p)[1:] for p in PACKETS)
    deframer = Deframer()
    out, i = [], 0
    for cut in [*cuts, len(stream)]:
        out += deframer.feed(stream[i : i + cut])
        i += cut
    assert out == PACKETS


def test_framing_refuses_what_it_cannot_frame():
    with pytest.raises(StreamError):
        Deframer().feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(StreamError):
        Deframer().feed(struct.pack(">i", 10_000_000))
    bad = Deframer().feed(b"\xc0/hl\xdb\x01\xc0")
    assert bad == [BadFrame("bad-slip-escape")]


# --- coercion ----------------------------------------------------------------------------------------------


def target(name: str):
    return SPACE.lookup(SPACE.address_of(name) or "")[0]


@pytest.mark.parametrize(
    ("args", "profile", "expected"),
    [
        ([0.25], "native", 0.25),
        ([1], "native", 1.0),  # Eos sends whole numbers as ints
        (["0.5"], "native", 0.5),
        ([True], "native", 1.0),
        ([False], "0-100", 0.0),
        ([50], "0-100", 0.5),  # grandMA3 fader at 50 %
        ([128], "0-255", 128 / 255),
        ([75], "auto", 0.75),  # ChamSys: ints are percent…
        ([0.75], "auto", 0.75),  # …and floats are 0–1
        ([0.3], "native", 0.3),  # a 32-bit float arrives as 0.3, not 0.30000001
    ],
)
def test_levels_follow_the_source_profile(args, profile, expected):
    assert param_value(target("master.level"), args, profile, None) == pytest.approx(expected, abs=1e-9)


def test_profiles_map_onto_the_parameter_range_but_leave_a_bpm_alone():
    assert param_value(target("shader.zoom"), [50], "0-100", None) == pytest.approx(2.25)
    assert param_value(target("tempo.bpm"), [128], "0-100", None) == 128.0


def test_triggers_fire_on_press_not_on_release():
    tap = target("tempo.tap")
    for press in ([], [None], [True], [1], [1.0], [0.5], [100]):
        assert param_value(tap, press, "native" if press != [100] else "0-100", None) is True
    for release in ([0], [0.0], [False], [0.4]):
        assert param_value(tap, release, "native", None) is None
    go = SPACE.lookup("/hl/cue/go")[0]
    assert command(go, [], "native").action == "cue.go"
    assert command(go, [0.0], "native") is None


def test_a_bool_button_without_argument_toggles():
    blackout = target("master.blackout")
    assert param_value(blackout, [], "native", False) is True
    assert param_value(blackout, [], "native", True) is False
    assert param_value(blackout, [0], "native", True) is False


def test_colours_points_and_names():
    assert param_value(target("shader.tint"), [0, 1, 0], "native", None) == (0.0, 1.0, 0.0, 1.0)
    assert param_value(target("shader.tint"), [0, 255, 0, 255], "0-255", None) == (0.0, 1.0, 0.0, 1.0)
    assert param_value(target("shader.tint"), [0xFF0000FF], "native", None) == (1.0, 0.0, 0.0, 1.0)
    assert param_value(target("shader.center"), [50, 100], "0-100", None) == (0.0, 1.0)
    goto = SPACE.lookup("/hl/cue/goto")[0]
    assert command(goto, ["chorus"], "native").args == ("chorus",)
    assert command(goto, [3], "native").args == (3.0,)
    assert command(goto, ["4"], "native").args == (4.0,)


def test_unusable_arguments_are_refused_with_a_reason():
    with pytest.raises(ArgError):
        param_value(target("master.level"), [], "native", None)
    with pytest.raises(ArgError):
        param_value(target("master.level"), ["loud"], "native", None)
    with pytest.raises(ArgError):
        param_value(target("master.level"), [float("nan")], "native", None)
    with pytest.raises(ArgError):
        param_value(target("shader.tint"), [1, 2], "native", None)
