"""Feedback to registered clients: value echoes, BPM, beat and the current cue, about 30 times a second.

A desk or a tablet registers with `/hl/feedback/register [port]` (or is named with --osc-feedback) and then
hears every change, so motorized faders and button lights follow what the show really does. The render
thread only hands over a reference; this thread diffs and sends, so feedback never costs a frame.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.control.address import AddressSpace
from engine.control.codec import encode_message
from engine.control.profiles import SCALES, UNIT_PARAMS
from engine.control.resolume import resolume_feedback, resolume_status
from engine.control.stats import Counters
from engine.params.store import Param, ParamValue

log = logging.getLogger(__name__)
MAX_CLIENTS = 64
Send = Callable[[bytes], bool | None]


@dataclass(eq=False)
class Client:
    key: tuple[str, str, int]
    send: Send
    profile: str = "native"
    last: dict[str, Any] = field(default_factory=dict)


def feedback_args(param: Param, value: ParamValue, profile: str) -> tuple[Any, ...] | None:
    """A value in the units the client speaks (percent for a 0–100 desk); None for events."""
    if param.kind == "event":
        return None
    if param.kind == "bool":
        return (1.0 if value else 0.0,)
    if isinstance(value, tuple):
        return tuple(float(v) for v in value)
    number = float(value)
    scale = SCALES.get(profile)
    if scale and param.name not in UNIT_PARAMS and param.max > param.min:
        share = (number - param.min) / (param.max - param.min)
        return (round(share * scale),) if scale > 1 else (share,)
    return (number,)


class Feedback:
    def __init__(
        self, space: AddressSpace, params: Mapping[str, Param], counters: Counters, rate_hz: float = 30.0
    ):
        self.view = (space, params)  # swapped whole by retarget
        self.counters = counters
        self.period = 1.0 / rate_hz
        self._clients: dict[tuple[str, str, int], Client] = {}
        self._lock = threading.Lock()
        self._state: tuple[Mapping[str, ParamValue], Mapping[str, Any]] | None = None
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="halation-osc-feedback", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def clients(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._clients)

    def register(self, key: tuple[str, str, int], send: Send, profile: str = "native") -> None:
        with self._lock:
            if key not in self._clients and len(self._clients) >= MAX_CLIENTS:
                self.counters.add("feedback-full")
                return
            self._clients[key] = Client(key, send, profile)
        log.info("OSC feedback: %s %s:%d registered", *key)
        self._wake.set()

    def unregister(self, key: tuple[str, str, int]) -> None:
        with self._lock:
            self._clients.pop(key, None)

    @property
    def active(self) -> bool:
        return bool(self._clients)

    def update(self, values: Mapping[str, ParamValue], status: Mapping[str, Any]) -> None:
        """Render thread: the values of the frame just shown and the show's status (cue, bpm, fps, error…)."""
        self._state = (values, status)

    def retarget(self, space: AddressSpace, params: Mapping[str, Param]) -> None:
        """A new look: its addresses from now on; what clients last heard of gone inputs is forgotten, and
        the new inputs' values go out with the next pass (nothing was sent for them yet)."""
        self.view = (space, params)
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.last = {k: v for k, v in client.last.items() if k in params or k.startswith("status.")}
        self._wake.set()

    def refresh(self) -> None:
        """Send everything again (a desk that just started, or `/hl/status/refresh`)."""
        with self._lock:
            for client in self._clients.values():
                client.last = {}
        self._wake.set()

    def _messages(self, client: Client, values: Mapping[str, ParamValue], status: Mapping[str, Any]):
        space, params = self.view  # one look's pair, even if a retarget lands meanwhile
        for name, value in values.items():
            param = params.get(name)
            address = space.address_of(name)
            if param is None or address is None:
                continue
            args = feedback_args(param, value, client.profile)
            if args is None or client.last.get(name) == args:
                continue
            client.last[name] = args
            yield encode_message(address, args)
            yield from resolume_feedback(space, name, value)
        for name, value in status.items():
            if value is None or client.last.get(f"status.{name}") == value:
                continue
            client.last[f"status.{name}"] = value
            yield encode_message(f"{space.prefix}/status/{name}", (value,))
            yield from resolume_status(space, name, value)

    def _run(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(self.period)
            self._wake.clear()
            if self._state is None:
                continue
            values, status = self._state
            with self._lock:
                clients = list(self._clients.values())
            for client in clients:
                try:
                    self._send_to(client, values, status)
                except Exception:  # one bad value or client must not silence feedback for the show
                    self.counters.add("feedback-error")
                    log.debug("feedback to %s failed", client.key, exc_info=True)

    def _send_to(self, client: Client, values: Mapping[str, ParamValue], status: Mapping[str, Any]) -> None:
        sent = 0
        for packet in self._messages(client, values, status):
            if client.send(packet) is False:
                self.unregister(client.key)
                break
            sent += 1
        if sent:
            self.counters.add("feedback", sent)

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self._thread.join(timeout=2.0)
