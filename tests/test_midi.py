"""MIDI in with a real MIDI peer: a controller port (python-rtmidi) sends CCs, notes and clock, and the show
follows: faders ride levels, buttons toggle or fire, MIDI learn binds a control by moving it, MIDI clock sets
the tempo. Uses the ALSA sequencer when the machine has one, else a private JACK server (jackd, dummy
driver); skips with the reason when neither can be had."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from engine.control.hub import ControlHub, OscConfig
from engine.control.midi import MidiInput
from engine.control.midi_map import Binding, MidiMap
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore

rtmidi = pytest.importorskip("rtmidi", reason="python-rtmidi is not installed")
pytest.importorskip("mido", reason="mido is not installed")

PARAMS = {p.name: p for p in show_params()}
PARAMS["shader.zoom"] = Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")
CC, NOTE_ON, NOTE_OFF = 0xB0, 0x90, 0x80


def _die_with_parent() -> None:
    """jackd goes when the test process goes, even if it is killed before the fixture can stop it."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _open_peer(api: int, name: str):
    out = rtmidi.MidiOut(api)
    out.open_virtual_port(name)
    return out


@pytest.fixture(scope="module")
def midi_system(tmp_path_factory):
    """('alsa' | 'jack', rtmidi API id); a private jackd is started when there is no ALSA sequencer."""
    if Path("/dev/snd/seq").exists():
        try:
            _open_peer(rtmidi.API_LINUX_ALSA, "probe").close_port()
            yield "alsa", rtmidi.API_LINUX_ALSA
            return
        except Exception:
            pass
    if rtmidi.API_UNIX_JACK not in rtmidi.get_compiled_api():
        pytest.skip("no ALSA sequencer (/dev/snd/seq) and python-rtmidi lacks JACK support")
    if shutil.which("jackd") is None:
        pytest.skip("no ALSA sequencer (/dev/snd/seq) and no jackd to host virtual MIDI ports")
    name = f"halation-midi-test-{os.getpid()}"
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    with log.open("w") as out:
        jackd = subprocess.Popen(
            ["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _open_peer(rtmidi.API_UNIX_JACK, "probe").close_port()
                break
            except Exception:
                if jackd.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"jackd did not start: {log.read_text()[-300:]}")
                time.sleep(0.1)
        yield "jack", rtmidi.API_UNIX_JACK
    finally:
        jackd.terminate()
        jackd.wait(timeout=5)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Rig:
    """A controller port, the hub listening to it, and the render side applying what arrives."""

    def __init__(self, midi_system, bindings=(), map_path=None, clock=False):
        api_name, api = midi_system
        self.peer = _open_peer(api, "Fake Controller")
        self.midi = MidiInput("fake controller", MidiMap(list(bindings), map_path), api=api_name, clock=clock)
        self.hub = ControlHub(OscConfig(), (self.midi,))
        self.hub.start(PARAMS)
        self.store = ParamStore(PARAMS.values())
        self.commands = []
        deadline = time.monotonic() + 5
        while self.hub.counters["midi"] == 0 and time.monotonic() < deadline:  # the ports are connected
            self.peer.send_message([CC | 15, 127, 0])  # an unmapped control on channel 16
            time.sleep(0.05)

    def send(self, *message: int) -> None:
        self.peer.send_message(list(message))

    def until(self, predicate, timeout: float = 3.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            self.store.apply(self.hub.drain())
            self.commands += self.hub.drain_commands()
            values = self.store.base()
            if predicate(values) or time.monotonic() > deadline:
                return values
            time.sleep(0.01)

    def close(self) -> None:
        self.hub.stop()
        self.peer.close_port()


@pytest.fixture
def rig(midi_system):
    rigs = []

    def make(**kwargs) -> Rig:
        rigs.append(Rig(midi_system, **kwargs))
        return rigs[-1]

    yield make
    for r in rigs:
        r.close()


def test_a_fader_rides_a_level_and_buttons_toggle_and_fire(rig):
    r = rig(
        bindings=[
            Binding("cc", 7, "master.level", channel=1),
            Binding("cc", 21, "shader.zoom"),
            Binding("note", 36, "master.blackout"),  # a note on a bool toggles
            Binding("note", 37, "cue.go"),
            Binding("note", 38, "cue.goto", args=(4,)),
            Binding("note", 39, "master.freeze", mode="momentary"),
        ]
    )
    r.send(CC, 7, 64)
    r.send(CC | 3, 21, 127)  # any channel
    values = r.until(lambda v: v["shader.zoom"] == 4.0)
    assert values["master.level"] == pytest.approx(64 / 127)
    r.send(NOTE_ON, 36, 100)
    r.send(NOTE_OFF, 36, 0)
    assert r.until(lambda v: v["master.blackout"])["master.blackout"] is True
    r.send(NOTE_ON, 36, 100)
    assert r.until(lambda v: not v["master.blackout"])["master.blackout"] is False
    r.send(NOTE_ON, 37, 100)
    r.send(NOTE_OFF, 37, 0)
    r.send(NOTE_ON, 38, 90)
    r.until(lambda v: len(r.commands) >= 2)
    assert [(c.action, c.args) for c in r.commands] == [("cue.go", ()), ("cue.goto", (4,))]
    r.send(NOTE_ON, 39, 120)
    assert r.until(lambda v: v["master.freeze"])["master.freeze"] is True
    r.send(NOTE_OFF, 39, 0)
    assert r.until(lambda v: not v["master.freeze"])["master.freeze"] is False


def test_midi_learn_binds_the_next_control_moved_and_saves_it(rig, tmp_path):
    map_path = tmp_path / "desk.toml"
    r = rig(map_path=map_path)
    r.send(CC, 30, 100)  # not mapped yet: ignored
    time.sleep(0.1)
    r.hub.learn("shader.zoom")  # what the preview (or /hl/midi/learn) does
    r.send(CC | 1, 30, 0)
    assert r.midi.learned.wait(3)
    r.send(CC | 1, 30, 127)
    assert r.until(lambda v: v["shader.zoom"] == 4.0)["shader.zoom"] == 4.0
    saved = MidiMap.load(map_path).bindings
    assert saved == [Binding("cc", 30, "shader.zoom", channel=2, mode="level")]


def test_midi_clock_sets_the_tempo_and_start_resyncs(rig):
    r = rig(clock=True)
    r.send(0xFA)  # start
    interval = 60.0 / 120.0 / 24  # 120 BPM
    next_tick = time.perf_counter()
    sent = []
    for _ in range(24 * 3):
        next_tick += interval
        time.sleep(max(0.0, next_tick - time.perf_counter()))
        r.send(0xF8)
        sent.append(time.perf_counter())
    # the tempo the ticks really had (a loaded machine may send some late), over the last two beats
    played = 60.0 * 48 / (24 * (sent[-1] - sent[-49]))
    values = r.until(lambda v: v["tempo.bpm"] > 0)
    assert played == pytest.approx(120.0, rel=0.05)
    # JACK without realtime priority can bunch ticks on a loaded machine: the estimator's own accuracy is
    # checked exactly below; here, that the clock drives the tempo
    assert values["tempo.bpm"] == pytest.approx(played, rel=0.1)
    assert values["tempo.resync"] is True


@pytest.mark.parametrize("transport", ["exact", "jack periods", "late ticks bunched"])
def test_the_clock_estimate_survives_transport_jitter(transport):
    from engine.control.midi_clock import MidiClock

    period = 60.0 / 126.0 / 24
    clock = MidiClock()
    for k in range(24 * 3):
        t = k * period
        if transport == "jack periods":  # arrival quantized to 256-sample periods at 48 kHz
            t = (int(t / (256 / 48000)) + 1) * (256 / 48000)
        elif transport == "late ticks bunched" and 44 <= k < 54:
            t = 54 * period + 0.0001 * k  # ten ticks held up, then delivered together
        clock.tick(t)
    assert clock.bpm == pytest.approx(126.0, rel=0.01)


def test_an_unknown_port_is_one_clear_error(midi_system):
    from engine.errors import HalationError

    hub = ControlHub(OscConfig(), (MidiInput("no such device", api=midi_system[0]),))
    with pytest.raises(HalationError, match="no such MIDI input"):
        hub.start(PARAMS)
