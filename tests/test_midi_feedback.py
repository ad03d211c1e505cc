"""More than one MIDI controller, and the show sent back to them: a JACK MIDI client (JACK-Client on a
private dummy-driver jackd) plays two controllers into two Halation MIDI inputs and listens to Halation's
feedback ports: a fader set from elsewhere moves its motor fader, a fader moved by hand is not echoed, a
toggled button lights its LED, and a cue button is lit while its cue is on screen."""

from __future__ import annotations

import os
import queue
import time
from collections import deque

import pytest

from engine.analysis.features import silent_features
from engine.commands.bench import BENCH_DIR, load
from engine.control.hub import ControlHub, OscConfig
from engine.control.midi import midi_inputs
from engine.control.midi_map import Binding, MidiMap
from engine.control.midi_out import lamps
from engine.live import ShowState
from engine.params.show_params import show_params
from engine.params.store import ParamMessage, ParamStore

jack = pytest.importorskip("jack", reason="JACK-Client is not installed")
rtmidi = pytest.importorskip("rtmidi", reason="python-rtmidi is not installed")
pytest.importorskip("mido", reason="mido is not installed")
PARAMS = {p.name: p for p in show_params()}
CC, NOTE_ON, NOTE_OFF = 0xB0, 0x90, 0x80


@pytest.fixture(scope="module")
def server():
    if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
        pytest.skip("python-rtmidi lacks JACK support")
    jackkit = load(BENCH_DIR / "_jack.py")
    jackd = jackkit.JackServer(f"halation-midi-fb-{os.getpid()}")
    try:
        jackd.start()
    except (RuntimeError, FileNotFoundError) as exc:
        pytest.skip(f"no JACK server: {exc}")
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(JACK_DEFAULT_SERVER=jackd.name, JACK_NO_START_SERVER="1")  # rtmidi's JACK client
    yield jackd.name
    jackd.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


class Desk:
    """Two controllers' worth of MIDI out and one MIDI in, as a JACK client; what arrives is queued."""

    def __init__(self, server: str):
        self.client = jack.Client("desk", servername=server, no_start_server=True)
        self.inport = self.client.midi_inports.register("in")
        self.outports = [self.client.midi_outports.register(f"out{i}") for i in (1, 2)]
        self.pending: list[deque[bytes]] = [deque(), deque()]
        self.heard: queue.Queue[bytes] = queue.Queue()
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        for _, data in self.inport.incoming_midi_events():
            self.heard.put(bytes(data))
        for port, pending in zip(self.outports, self.pending, strict=True):
            port.clear_buffer()
            while pending:
                port.write_midi_event(0, pending.popleft())

    def send(self, controller: int, *message: int) -> None:
        self.pending[controller - 1].append(bytes(message))

    def wire(self, names: tuple[str, ...], timeout: float = 10.0) -> None:
        """Our outs to Halation's inputs in order, and every Halation output to our in, once they exist."""
        deadline = time.monotonic() + timeout
        while True:
            ins = [self._port(n, is_input=True) for n in names]
            outs = [self._port(n, is_output=True) for n in names]
            if all(ins) and all(outs):
                break
            assert time.monotonic() < deadline, f"Halation's MIDI ports never appeared: {ins} {outs}"
            time.sleep(0.05)
        for ours, theirs in zip(self.outports, ins, strict=True):
            self.client.connect(ours, theirs)
        for theirs in outs:
            self.client.connect(theirs, self.inport)

    def _port(self, name: str, **kind) -> str | None:
        ports = [
            p.name for p in self.client.get_ports(is_midi=True, **kind) if not p.name.startswith("desk:")
        ]
        return next((p for p in ports if p.split(":", 1)[1] == name), None)

    def wait_for(self, message: bytes, timeout: float = 10.0) -> list[bytes]:
        """Everything heard until `message` (inclusive)."""
        seen: list[bytes] = []
        deadline = time.monotonic() + timeout
        while message not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never heard {message.hex()}; heard {[m.hex() for m in seen]}"
            try:
                seen.append(self.heard.get(timeout=min(left, 0.1)))
            except queue.Empty:
                continue
        return seen

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


class Show:
    """The render side: applies what the hub drained, publishes each 'frame' (feedback reads it)."""

    def __init__(self, hub: ControlHub):
        self.hub, self.store, self.time = hub, ParamStore(PARAMS.values()), 0.0

    def until(self, predicate, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            self.store.apply(self.hub.drain())
            values = self.store.base()
            self.hub.publish(ShowState(self.time, values, silent_features(("bass",))))
            self.time += 1 / 60
            if predicate(values) or time.monotonic() > deadline:
                return values
            time.sleep(0.01)


def test_two_controllers_drive_the_show_and_hear_it_back(server):
    first = MidiMap(
        [
            Binding("cc", 7, "master.level", channel=1),
            Binding("note", 36, "master.blackout", channel=1),
            Binding("note", 40, "cue.goto", channel=1, args=(2,)),
        ]
    )
    second = MidiMap([Binding("cc", 21, "clips.crossfade", channel=2)])
    inputs = midi_inputs(["virtual", "virtual"], [], "jack")
    inputs[0].map, inputs[1].map = first, second
    hub = ControlHub(OscConfig(), tuple(inputs))
    desk = Desk(server)
    try:
        hub.start(PARAMS)
        show = Show(hub)
        desk.wire(("Halation", "Halation 2"))
        desk.send(1, CC, 7, 64)  # the first controller's fader, by hand
        desk.send(2, CC | 1, 21, 127)  # the second controller's crossfader, channel 2
        values = show.until(lambda v: v["master.level"] < 0.9 and v["clips.crossfade"] == 1.0)
        assert values["master.level"] == pytest.approx(64 / 127) and values["clips.crossfade"] == 1.0
        hub.inbox.put(ParamMessage("master.level", 0.25))  # set from elsewhere (OSC, a cue)
        show.until(lambda v: v["master.level"] == 0.25)
        heard = desk.wait_for(bytes([CC, 7, 32]))  # the motor fader follows: 0.25 of 127
        assert bytes([CC, 7, 64]) not in heard  # the hand's own move was not echoed back
        assert bytes([NOTE_ON, 40, 0]) in heard + desk.wait_for(bytes([NOTE_ON, 40, 0]))  # cue 2 is not up
        desk.send(1, NOTE_ON, 36, 127)  # the blackout button, pressed and released: it toggles
        desk.send(1, NOTE_OFF, 36, 0)
        assert show.until(lambda v: v["master.blackout"])["master.blackout"]
        desk.wait_for(bytes([NOTE_ON, 36, 127]))  # …and its LED lights
    finally:
        hub.stop()
        desk.close()


def test_a_cue_button_is_lit_while_its_cue_is_on_screen():
    bindings = [Binding("note", 40, "cue.goto", args=(2,)), Binding("note", 41, "cue.goto", args=("Drop",))]
    lit = lamps(bindings, PARAMS, {}, {"cue": "2 Drop", "cue_number": 2})
    assert lit == {("note", 1, 40): 127, ("note", 1, 41): 127}
    assert lamps(bindings, PARAMS, {}, {"cue": "3 Outro", "cue_number": 3}) == {
        ("note", 1, 40): 0,
        ("note", 1, 41): 0,
    }


def test_maps_pair_with_inputs_one_for_all_or_one_each(tmp_path):
    from engine.errors import HalationError

    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    shared = midi_inputs(["virtual", "virtual"], [a], None)
    assert shared[0].map is shared[1].map and [m.virtual_name for m in shared] == ["Halation", "Halation 2"]
    each = midi_inputs(["nanoKONTROL", "APC"], [a, b], None, clock=True)
    assert [m.map.path for m in each] == [a, b] and [m.follow_clock for m in each] == [True, False]
    with pytest.raises(HalationError, match="one per --midi"):
        midi_inputs(["x", "y", "z"], [a, b], None)


@pytest.mark.slow
def test_perform_with_two_midi_controllers_from_the_command_line(server, tmp_path):
    """`perform --midi virtual --midi virtual` with a map each: both controllers drive the show (OSCQuery
    shows it), and a level set over OSC comes back to the first controller's motor fader."""
    import shutil
    import subprocess

    from test_control_e2e import Performance

    if shutil.which("oscsend") is None:
        pytest.skip("liblo-tools is not installed")
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    first.write_text('[[map]]\ncontrol = "cc"\nnumber = 7\nchannel = 1\ntarget = "master.level"\n')
    second.write_text('[[map]]\ncontrol = "cc"\nnumber = 21\ntarget = "clips.crossfade"\n')
    desk = Desk(server)
    perf = Performance(
        *("--midi", "virtual", "--midi", "virtual", "--midi-api", "jack"),
        *("--midi-map", str(first), "--midi-map", str(second)),
    )
    try:
        desk.wire(("Halation", "Halation 2"), timeout=30)
        deadline = time.monotonic() + 15
        while perf.value("/hl/clips/crossfade")[0] != 1.0 and time.monotonic() < deadline:
            desk.send(1, CC, 7, 0)
            desk.send(2, CC, 21, 127)
            time.sleep(0.2)
        assert perf.value("/hl/master/level")[0] == 0.0 and perf.value("/hl/clips/crossfade")[0] == 1.0
        subprocess.run(
            ["oscsend", "localhost", str(perf.ports["udp"]), "/hl/master/level", "f", "0.5"], check=True
        )
        desk.wait_for(bytes([CC, 7, 64]), timeout=15)  # 0.5 of 127, on the first controller
    finally:
        perf.stop()
        desk.close()


def test_lamp_colours_come_from_the_map_and_typos_are_refused(tmp_path):
    """An APC-style pad shows a colour per state (`on`/`off` velocities); a misspelt key is one clear line."""
    from engine.errors import HalationError

    good = tmp_path / "apc.toml"
    good.write_text(
        '[[map]]\ncontrol = "note"\nnumber = 53\ntarget = "cue.goto"\nargs = [2]\non = 3\noff = 1\n'
        '[[map]]\ncontrol = "note"\nnumber = 54\ntarget = "master.blackout"\non = 5\n'
    )
    bindings = MidiMap.load(good).bindings
    assert lamps(bindings, PARAMS, {"master.blackout": True}, {"cue_number": 3}) == {
        ("note", 1, 53): 1,  # cue 2 is not on screen: its "off" colour
        ("note", 1, 54): 5,
    }
    bad = tmp_path / "typo.toml"
    bad.write_text('[[map]]\ncontrol = "cc"\nnumber = 7\ntarget = "master.level"\nchanel = 1\n')
    with pytest.raises(HalationError) as error:
        MidiMap.load(bad)
    assert "unknown key 'chanel'" in str(error.value) and "channel" in str(error.value)
    assert ":5" in str(error.value)  # the line it is on
