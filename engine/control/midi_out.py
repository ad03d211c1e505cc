"""MIDI feedback out: the controller shows the show. Motor faders and LED rings follow the levels their CCs
drive, button LEDs light while the bool they toggle is on, and a cue button (`cue.goto` with a cue number)
is lit while that cue is on screen, whatever moved it (the desk, OSC, a timecode, the autopilot).

About 30 times a second the feedback thread compares what each bound control should show with what it last
sent and sends the differences. A fader value the controller itself just sent is not echoed back (a motor
fader being moved by hand must not be pulled around by its own echo); a button's LED is sent again after
each press and release, since many controllers light or darken their own LEDs when pressed, and every
couple of seconds, so a controller plugged in or connected mid-show shows the state too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.control.midi_map import Binding
from engine.params.store import Param, ParamValue

log = logging.getLogger(__name__)
RATE_HZ = 30.0
REFRESH = 2.0  # seconds between re-sending every button's LED (a controller connected later lights up)
Key = tuple[str, int, int]  # ("cc" | "note", channel 1–16, number)


def key_of(binding: Binding) -> Key:
    return binding.control, binding.channel or 1, binding.number


def _level(param: Param, value: ParamValue, binding: Binding) -> int | None:
    """A parameter's value as 0–127 (bools: the binding's on or off velocity); None for what a control
    cannot show."""
    if param.kind in ("bool", "event"):
        return binding.on if value else binding.off
    if param.kind in ("float", "long") and isinstance(value, int | float) and param.max > param.min:
        share = (float(value) - param.min) / (param.max - param.min)
        return round(min(max(share, 0.0), 1.0) * 127)
    return None


def _cue_lit(binding: Binding, status: Mapping[str, Any]) -> int | None:
    """A `cue.goto N` button: lit while cue N is on screen."""
    if not binding.args:
        return None
    try:
        wanted = int(float(binding.args[0]))
        lit = status.get("cue_number") == wanted
    except (TypeError, ValueError):  # a cue by name: lit while its name is on screen
        lit = str(status.get("cue", "")).split(" ", 1)[-1] == str(binding.args[0])
    return binding.on if lit else binding.off


def lamps(
    bindings: Iterable[Binding],
    params: Mapping[str, Param],
    values: Mapping[str, ParamValue],
    status: Mapping[str, Any],
) -> dict[Key, int]:
    """What every bound control should show now (0–127). Triggers (cue.go, tap) show nothing."""
    out: dict[Key, int] = {}
    for binding in bindings:
        param = params.get(binding.target)
        if param is not None:
            if param.kind == "event" or binding.target not in values:
                continue
            lamp = _level(param, values[binding.target], binding)
        elif binding.target == "cue.goto":
            lamp = _cue_lit(binding, status)
        else:
            continue
        if lamp is not None:
            out[key_of(binding)] = lamp
    return out


def message(key: Key, value: int) -> list[int]:
    """The MIDI bytes that show `value` on a control: the CC's value, or a note-on whose velocity lights
    the LED (0 = off, which every controller reads as note off)."""
    control, channel, number = key
    status = (0xB0 if control == "cc" else 0x90) | (channel - 1)
    return [status, number, value]


class MidiFeedback:
    """Sends the lamps' changes to one MIDI output port on a thread of its own."""

    def __init__(
        self,
        port: Any,
        bindings: Callable[[], Iterable[Binding]],
        show: Callable[[], tuple[Mapping[str, Param], Mapping[str, ParamValue], Mapping[str, Any]]],
        heard: Mapping[Key, int],
    ):
        self.port = port
        self.bindings = bindings
        self.show = show
        self.heard = heard  # what the controller itself last sent, per fader (CC)
        self.sent: dict[Key, int] = {}
        self.count = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-midi-feedback", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def touch(self, key: Key) -> None:
        """The controller's button was pressed or released: show its LED again on the next pass."""
        self.sent.pop(key, None)

    def _run(self) -> None:
        passes = 0
        while not self._halt.wait(1.0 / RATE_HZ):
            passes += 1
            if passes % round(REFRESH * RATE_HZ) == 0:
                self.sent = {k: v for k, v in self.sent.items() if k[0] != "note"}
            try:
                self.send_changes()
            except Exception:  # a bad value must not end feedback for the show
                log.debug("MIDI feedback failed", exc_info=True)

    def send_changes(self) -> int:
        params, values, status = self.show()
        sent = 0
        for key, value in lamps(self.bindings(), params, values, status).items():
            if self.sent.get(key) == value:
                continue
            self.sent[key] = value
            if self.heard.get(key) == value:  # the controller shows this already: it sent it
                continue
            self.port.send_message(message(key, value))
            sent += 1
        self.count += sent
        return sent
