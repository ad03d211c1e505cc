"""MIDI in and feedback out (python-rtmidi ports, mido messages): CC and notes drive parameters and actions,
MIDI learn binds a control by moving it, MIDI clock can set the tempo, and the controller's output port gets
the show back (motor faders, LEDs: engine/control/midi_out.py). `--midi` may be given several times: each
device is one MidiInput, with its own map or a shared one.

rtmidi queues each event with the driver's time since the previous one (mido's port would drop that time);
one thread takes them out, looks up the binding and leaves a value in the inbox. MIDI clock is timed from
the driver stamps, so a busy machine that delivers ticks late does not bend the tempo.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.control.midi_clock import MidiClock
from engine.control.midi_map import Binding, MidiMap, default_mode
from engine.control.midi_out import Key, MidiFeedback
from engine.control.targets import Resolved, resolve
from engine.errors import HalationError

if TYPE_CHECKING:
    from engine.control.hub import ControlHub

log = logging.getLogger(__name__)
APIS = {
    "alsa": "API_LINUX_ALSA",
    "jack": "API_UNIX_JACK",
    "coremidi": "API_MACOSX_CORE",
    "windows": "API_WINDOWS_MM",
}
VIRTUAL = "virtual"
QUEUE = 4096  # events rtmidi holds (in C) between two polls
POLL = 0.001  # seconds between polls when nothing is waiting


def _modules():
    try:
        import mido
        import rtmidi
    except ImportError:
        raise HalationError("MIDI needs mido and python-rtmidi: pip install mido python-rtmidi") from None
    return mido, rtmidi


def open_midi_in(api: str | None, client: str = "Halation"):
    """An rtmidi input on a chosen MIDI system (alsa, jack…) or the platform's default."""
    _, rtmidi = _modules()
    api_id = rtmidi.API_UNSPECIFIED
    if api:
        if api.lower() not in APIS:
            raise HalationError(f"--midi-api '{api}': use one of {', '.join(APIS)}")
        api_id = getattr(rtmidi, APIS[api.lower()])
    try:
        midi_in = rtmidi.MidiIn(api_id, name=client, queue_size_limit=QUEUE)
    except Exception as exc:
        hint = ""
        if "ALSA sequencer" in str(exc):
            hint = "; this machine has no ALSA sequencer (modprobe snd-seq), or try --midi-api jack"
        raise HalationError(f"MIDI: cannot reach the MIDI system ({exc}){hint}") from None
    midi_in.ignore_types(sysex=True, timing=False, active_sense=True)  # keep clock, drop the rest
    return midi_in


def open_midi_out(api: str | None, client: str = "Halation"):
    """An rtmidi output on the same MIDI system as the inputs."""
    _, rtmidi = _modules()
    api_id = getattr(rtmidi, APIS[api.lower()]) if api else rtmidi.API_UNSPECIFIED
    return rtmidi.MidiOut(api_id, name=client)


def input_names(api: str | None = None) -> list[str]:
    midi_in = open_midi_in(api)
    try:
        return list(midi_in.get_ports())
    finally:
        midi_in.delete()


class MidiInput:
    """One MIDI input port: a named device (matched by substring) or a virtual port other apps connect to."""

    def __init__(
        self,
        port: str = VIRTUAL,
        midi_map: MidiMap | None = None,
        *,
        api: str | None = None,
        clock: bool = False,
        virtual_name: str = "Halation",
        feedback: bool = True,
    ):
        self.port_query = port
        self.map = midi_map or MidiMap()
        self.api = api
        self.follow_clock = clock
        self.virtual_name = virtual_name
        self.clock = MidiClock()
        self.port_name = ""
        self._port: Any = None
        self._hub: ControlHub | None = None
        self._learning: str | None = None
        self._pressed: dict[tuple[str, int, int], bool] = {}
        self._toggled: dict[str, bool] = {}
        self._targets: dict[str, Resolved | None] = {}
        self._targets_for: object = None  # the params the cached targets were resolved against
        self.send_feedback = feedback
        self.feedback: MidiFeedback | None = None
        self.out_name = ""
        self._out: Any = None
        self._heard: dict[Key, int] = {}  # the last value each of the controller's faders sent
        self._lock = threading.Lock()
        self._event_time = 0.0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._mido = _modules()[0]
        self.learned = threading.Event()

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self, hub: ControlHub) -> None:
        self._hub = hub
        for binding in self.map.bindings:
            if self._target(binding.target) is None:
                log.warning(
                    "MIDI map: '%s' is not a parameter or action of this show; ignored", binding.target
                )
        self._port = open_midi_in(self.api)
        try:
            if self.port_query == VIRTUAL:
                self._port.open_virtual_port(self.virtual_name)
                self.port_name = self.virtual_name
            else:
                names = self._port.get_ports()
                matches = [i for i, n in enumerate(names) if self.port_query.lower() in n.lower()]
                if not matches:
                    listed = ", ".join(names) or "none"
                    raise HalationError(f"--midi '{self.port_query}': no such MIDI input (found: {listed})")
                self.port_name = names[matches[0]]
                self._port.open_port(matches[0])
        except HalationError:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise HalationError(f"MIDI: cannot open '{self.port_query}' ({exc})") from None
        self._halt.clear()
        self._thread = threading.Thread(target=self._poll, name="halation-midi", daemon=True)
        self._thread.start()
        log.info("MIDI listening on '%s' (%d mappings)", self.port_name, len(self.map.bindings))
        if self.send_feedback:
            self._start_feedback(hub)

    def _start_feedback(self, hub: ControlHub) -> None:
        """The device's output port (or a virtual one beside the virtual input) hears the show; a device
        with no output port is only an input."""
        out = open_midi_out(self.api)
        try:
            if self.port_query == VIRTUAL:
                out.open_virtual_port(self.virtual_name)
                self.out_name = self.virtual_name
            else:
                names = out.get_ports()
                matches = [i for i, n in enumerate(names) if self.port_query.lower() in n.lower()]
                if not matches:
                    log.info("MIDI: '%s' has no output port; no feedback to it", self.port_name)
                    out.delete()
                    return
                self.out_name = names[matches[0]]
                out.open_port(matches[0])
        except Exception as exc:
            log.warning("MIDI: no feedback to '%s' (%s)", self.port_query, exc)
            out.delete()
            return
        self._out = out

        def show():
            return hub.params, hub.values(), getattr(hub, "status", dict)()

        self.feedback = MidiFeedback(out, lambda: self.map.bindings, show, self._heard)
        self.feedback.start()
        log.info("MIDI feedback to '%s'", self.out_name)

    def stop(self) -> None:
        self._halt.set()
        if self.feedback is not None:
            self.feedback.stop()
            self.feedback = None
        if self._out is not None:
            self._out.close_port()
            self._out.delete()
            self._out = None
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._port is not None:
            self._port.close_port()
            self._port.delete()
            self._port = None

    # --- learn --------------------------------------------------------------------------------------------

    def learn(self, target: str) -> None:
        """The next CC or note that moves is bound to `target` (and saved to the map file)."""
        if self._hub is not None and self._target(target) is None:
            log.warning("MIDI learn: '%s' is not a parameter or action of this show", target)
            return
        with self._lock:
            self._learning = target
        self.learned.clear()
        log.info("MIDI learn: move a control to drive %s", target)

    def cancel_learn(self) -> None:
        with self._lock:
            self._learning = None

    def _learn(self, control: str, channel: int, number: int) -> None:
        with self._lock:
            target, self._learning = self._learning, None
        if target is None:
            return
        for other in self._hub.inputs if self._hub is not None else ():
            if other is not self and hasattr(other, "cancel_learn"):
                other.cancel_learn()  # the first device moved is bound; the others stop listening for it
        resolved = self._target(target)
        kind = resolved.param.kind if resolved and resolved.param else "action"
        binding = Binding(control, number, target, channel, default_mode(control, kind))
        self.map.bind(binding)
        log.info("MIDI learn: %s", binding.describe())
        try:
            self.map.save()
        except OSError as exc:
            log.warning("MIDI learn: could not save the map (%s)", exc)
        self.learned.set()

    # --- messages (rtmidi's thread) -----------------------------------------------------------------------

    def _target(self, name: str) -> Resolved | None:
        params = self._hub.params if self._hub else None
        if params is not self._targets_for:  # another look: its inputs, its ranges
            self._targets, self._targets_for = {}, params
        if name not in self._targets:
            self._targets[name] = resolve(name, self._hub.params) if self._hub else None
        return self._targets[name]

    def _poll(self) -> None:
        """rtmidi queues events in C on its driver thread (no Python, no GIL there, so a busy interpreter
        never makes the MIDI driver miss a period); this thread takes them out."""
        port = self._port
        while not self._halt.is_set():
            event = port.get_message()
            if event is None:
                self._halt.wait(POLL)
                continue
            self._on_event(event)

    def _on_event(self, event: tuple[list[int], float]) -> None:
        raw, delta = event
        self._event_time += delta  # the driver's clock: seconds since the first event
        try:
            message = self._mido.Message.from_bytes(raw)
        except ValueError:
            return  # a message mido cannot read (or a lone status byte)
        try:
            self._handle(message, self._event_time)
        except Exception:
            log.exception("MIDI: message %s failed", message)

    def _handle(self, message: Any, stamp: float) -> None:
        hub = self._hub
        if hub is None:
            return
        hub.counters.add("midi")
        kind = message.type
        if kind == "clock":
            if self.follow_clock:
                bpm = self.clock.tick(stamp)
                if bpm is not None and "tempo.bpm" in hub.params:
                    hub.inbox.put(resolve("tempo.bpm", hub.params).set(bpm))  # type: ignore[union-attr]
            return
        if kind == "start":
            self.clock.reset()
            if self.follow_clock and "tempo.resync" in hub.params:
                hub.inbox.put(resolve("tempo.resync", hub.params).fire())  # type: ignore[union-attr]
            return
        if kind == "control_change":
            control, number, value = "cc", message.control, message.value
        elif kind in ("note_on", "note_off"):
            control, number = "note", message.note
            value = message.velocity if kind == "note_on" else 0
        else:
            return
        channel = message.channel + 1
        if control == "cc":
            self._heard[(control, channel, number)] = value
        elif self.feedback is not None:
            self.feedback.touch((control, channel, number))
        if self._learning is not None and (control == "cc" or value > 0):
            self._learn(control, channel, number)
            return
        binding = self.map.find(control, channel, number)
        if binding is None:
            hub.counters.add("midi-unmapped")
            return
        self._apply(binding, (control, channel, number), value)

    def _apply(self, binding: Binding, key: tuple[str, int, int], value: int) -> None:
        hub = self._hub
        target = self._target(binding.target)
        if hub is None or target is None:
            return
        kind = target.param.kind if target.param else "action"
        mode = binding.mode or default_mode(binding.control, kind)
        pressed = value >= 64 if binding.control == "cc" else value > 0
        was = self._pressed.get(key, False)
        self._pressed[key] = pressed
        effect = None
        if mode == "trigger" or target.is_trigger:
            if pressed and not was:
                effect = target.fire(*binding.args)
        elif mode == "toggle":
            if pressed and not was:
                on = not self._toggled.get(binding.target, bool(hub.values().get(binding.target, False)))
                self._toggled[binding.target] = on
                effect = target.level(1.0 if on else 0.0)
        elif mode == "momentary":
            effect = target.level((value / 127.0) if binding.control == "cc" and pressed else float(pressed))
        else:  # level
            effect = target.level(value / 127.0)
        if effect is not None:
            hub.inbox.put(effect)


def load_map(path: str | Path | None) -> MidiMap:
    return MidiMap.load(Path(path)) if path else MidiMap()


def midi_inputs(
    ports: list[str], maps: list[Path], api: str | None, clock: bool = False, feedback: bool = True
) -> list[MidiInput]:
    """One MidiInput per `--midi`: one map for all of them, or one each (in order); MIDI clock is followed
    from the first; virtual ports are named Halation, Halation 2, …"""
    if len(maps) > 1 and len(maps) != len(ports):
        raise HalationError(
            f"{len(maps)} --midi-map for {len(ports)} --midi: give one map for all, or one per --midi"
        )
    shared = load_map(maps[0]) if len(maps) == 1 else None
    virtual = 0
    out = []
    for i, port in enumerate(ports):
        name = "Halation"
        if port == VIRTUAL:
            virtual += 1
            name = "Halation" if virtual == 1 else f"Halation {virtual}"
        midi_map = shared if shared is not None else load_map(maps[i] if maps else None)
        out.append(
            MidiInput(port, midi_map, api=api, clock=clock and i == 0, virtual_name=name, feedback=feedback)
        )
    return out
