"""The ControlSurface the live loop drives: every input feeds one inbox; the render thread drains it.

start(params) builds the address space from the live parameters and starts the inputs (OSC UDP/TCP,
OSCQuery, MIDI, sACN); drain() hands the render thread the newest value per parameter at the start of a
frame; publish(state) only swaps references (feedback and OSCQuery do their work on their own threads).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from engine.control.address import AddressSpace
from engine.control.aliases import Alias, alias_targets
from engine.control.commands import ControlCommand
from engine.control.feedback import Feedback
from engine.control.inbox import Inbox
from engine.control.profiles import ProfileRule, SourceProfiles
from engine.control.router import Router, Source
from engine.control.security import Allowlist, Network, RateLimiter
from engine.control.stats import Counters
from engine.control.status import FrameMeter, SentNode, show_status
from engine.control.udp import FrameTurn
from engine.params.macros import macro_labels, unmapped_macros
from engine.params.store import Param, ParamMessage, ParamValue
from engine.show.notices import Notices

log = logging.getLogger(__name__)
MAX_COMMANDS = 1024


class Input(Protocol):
    """A MIDI or sACN input: started with the hub, leaves its values in hub.inbox."""

    def start(self, hub: ControlHub) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class OscConfig:
    udp_port: int | None = None  # None = no UDP; 0 = any free port
    tcp_port: int | None = None
    bind: str = "0.0.0.0"
    prefix: str = "/hl"
    oscquery_port: int | None = None
    read_only: bool = False
    zeroconf: bool = True
    zeroconf_interfaces: tuple[str, ...] = ()  # () = every interface
    allow: tuple[Network, ...] | str | None = "local"  # "local" = loopback + local segments; None = anyone
    profiles: tuple[ProfileRule, ...] = ()
    # messages a second per source host (0 = unlimited): above any desk's busiest (a few thousand), so a
    # runaway sender's flood is dropped before decoding and the frame rate holds
    rate_limit: float = 12000.0
    feedback: tuple[tuple[str, int], ...] = ()
    resolume: bool = True
    aliases: tuple[Alias, ...] = ()  # the desk's own addresses mapped onto targets (--osc-alias)
    name: str = "Halation"
    sent: tuple[SentNode, ...] = ()  # what the show sends (the feature stream), listed on OSCQuery


def _allowlist(allow: tuple[Network, ...] | str | None) -> Allowlist:
    if allow == "local":
        return Allowlist.local()
    return Allowlist(allow)  # type: ignore[arg-type]


class ControlHub:
    def __init__(self, osc: OscConfig | None = None, inputs: tuple[Input, ...] = ()):
        self.config = osc or OscConfig()
        self.inputs = inputs
        self.counters = Counters()
        self.inbox = Inbox(self.counters)
        self.params: Mapping[str, Param] = {}
        self.space: AddressSpace | None = None
        self.router: Router | None = None
        self.udp = None
        self.tcp = None
        self.oscquery = None
        self.feedback: Feedback | None = None
        self.advertisement = None
        self._values: Mapping[str, ParamValue] = {}
        self._commands: deque[ControlCommand] = deque(maxlen=MAX_COMMANDS)
        self._started: list[Any] = []
        self.turn = FrameTurn()  # when the render thread draws a frame (receivers decode between frames)
        self.operator: Any = None
        self.notices = Notices()  # the operator's, once attached
        self._meter = FrameMeter()
        self._status: Mapping[str, Any] = {}
        self._choices: Mapping[str, list[str]] = {}
        self._labels: Mapping[str, str] = {}

    # --- ControlSurface -----------------------------------------------------------------------------------

    def _space(self, params: Mapping[str, Param], warn: bool) -> AddressSpace:
        cfg = self.config
        aliases, unknown = alias_targets(cfg.aliases, params)
        for name in unknown if warn else ():
            log.warning("OSC alias: '%s' is no parameter or action of this show; skipped", name)
        return AddressSpace(params, cfg.prefix, resolume=cfg.resolume, aliases=aliases, sent=cfg.sent)

    def start(self, params: Mapping[str, Param]) -> None:
        cfg = self.config
        self.params = dict(params)
        self._values = {name: p.clamp(p.default) for name, p in params.items()}
        self.space = self._space(self.params, warn=True)
        self.feedback = Feedback(self.space, self.params, self.counters)
        self.router = Router(
            self.space,
            self.inbox,
            profiles=SourceProfiles(cfg.profiles),
            allowlist=_allowlist(cfg.allow),
            limiter=RateLimiter(cfg.rate_limit),
            on_register=self._register,
            on_learn=self.learn,
        )
        self.router.observe(self._values)
        self.router.report = self._report
        self.router.unmapped = unmapped_macros(self.params)
        self.router.on_refresh = self.feedback.refresh
        try:
            self._start_osc(cfg)
            for item in self.inputs:
                item.start(self)
                self._started.append(item)
        except BaseException:
            self.stop()
            raise

    def drain(self) -> list[ParamMessage]:
        self.turn.begin()
        batch = self.inbox.take()
        if batch.commands:
            self._commands.extend(batch.commands)
        return batch.values

    def drain_commands(self) -> list[ControlCommand]:
        """Commands (cue go, preset recall…) for the render thread to apply between frames."""
        out = list(self._commands)
        self._commands.clear()
        return out

    def publish(self, state: Any) -> None:
        self.turn.end()
        self.inbox.clock.observe(state.time)
        base = getattr(state, "base", None)  # the set values, when the live loop provides them
        values = base if base is not None else state.values
        self._values = values
        self._meter.tick(time.monotonic())
        self._status = {
            **show_status(state.features, self.operator, self._meter, self._last_error()),
            **self._labels,
            **(getattr(state, "status", None) or {}),  # the sync stages': link/peers, follow/connected...
        }
        if self.router is not None:
            self.router.observe(values)
        if self.feedback is not None and self.feedback.active:
            self.feedback.update(values, self._status)

    def retarget(self, params: Mapping[str, Param]) -> None:
        """The look on screen changed (a cue, a recall, a morph, a reload with new inputs): from this frame
        on its inputs answer, gone ones do not, OSCQuery serves the new tree and tells its WebSocket
        listeners, feedback clients hear the new values. Show-level addresses are the same in every look."""
        if self.router is None:
            return
        before = self.space
        self.params = dict(params)
        space = self._space(self.params, warn=False)
        self.space = space
        self.router.space = space
        self.router.unmapped = unmapped_macros(self.params)
        self._labels = macro_labels(self.params)
        if self.feedback is not None:
            self.feedback.retarget(space, self.params)
        if self.oscquery is not None:
            self.oscquery.retarget(space)
        self._choices = self.operator.choices() if self.operator is not None else {}
        gone = len(set(before.targets) - set(space.targets)) if before else 0
        log.info("OSC: the look changed: %d addresses (%d gone)", len(space.targets), gone)

    def attach(self, operator: Any) -> None:
        """The operator whose actions this hub queues: its cue and preset are the desk's status, its notices
        the desk's errors, its names the choices OSCQuery lists."""
        self.operator = operator
        self.notices = operator.notices
        self._choices = operator.choices()
        self._labels = macro_labels(self.params)

    def status(self) -> Mapping[str, Any]:
        """What /hl/status/ reads now (the last frame's)."""
        return self._status

    def choices(self) -> Mapping[str, list[str]]:
        return self._choices

    def _report(self, text: str, key: str) -> None:
        self.notices.error(text, key=key)

    def _last_error(self) -> str:
        last = self.notices.last
        return last.text if last is not None else ""

    def stop(self) -> None:
        self.turn.end()
        for item in reversed(self._started):
            try:
                item.stop()
            except Exception:
                log.exception("control: stopping %s failed", type(item).__name__)
        self._started.clear()
        if self.router is not None and self.counters["packets"]:
            log.info("OSC: %s", self.counters.summary())

    # --- for inputs, OSCQuery and tests -------------------------------------------------------------------

    def values(self) -> Mapping[str, ParamValue]:
        """The values of the last frame shown (the parameters' defaults before the first)."""
        return self._values

    def learn(self, target: str) -> None:
        """Arm MIDI learn: the next control moved on a MIDI input drives `target` (a param or action)."""
        for item in self.inputs:
            if hasattr(item, "learn"):
                item.learn(target)

    def _register(self, source: Source, port: int | None, on: bool) -> None:
        assert self.feedback is not None
        if source.transport == "udp" and self.udp is not None:
            address = (source.host, port or source.port)
            key = ("udp", *address)
            udp = self.udp

            def send(packet: bytes, a: tuple[str, int] = address) -> bool:
                return udp.send(packet, a)

        elif source.reply is not None:
            key, send = (source.transport, source.host, source.port), source.reply
        else:
            return
        if on:
            profile = self.router.profiles.for_host(source.host) if self.router else "native"
            self.feedback.register(key, send, profile)  # type: ignore[arg-type]
        else:
            self.feedback.unregister(key)  # type: ignore[arg-type]

    def _start_osc(self, cfg: OscConfig) -> None:
        from engine.control.tcp import TcpInput
        from engine.control.udp import UdpInput

        assert self.router is not None and self.space is not None and self.feedback is not None
        if cfg.udp_port is not None:
            self.udp = UdpInput(self.router, cfg.bind, cfg.udp_port)
            self.udp.turn = self.turn
            self.udp.start()
            self._started.append(self.udp)
            log.info("OSC UDP listening on %s:%d", cfg.bind, self.udp.port)
        if cfg.tcp_port is not None:
            self.tcp = TcpInput(self.router, cfg.bind, cfg.tcp_port)
            self.tcp.start()
            self._started.append(self.tcp)
            log.info("OSC TCP listening on %s:%d (length-prefix or SLIP, detected)", cfg.bind, self.tcp.port)
        if self.udp is not None or self.tcp is not None:
            self.feedback.start()
            self._started.append(self.feedback)
            log.info(
                "OSC: %d addresses under '%s/', allowed from %s",
                len(self.space.targets),
                self.space.prefix,
                self.router.allowlist.describe(),
            )
            for host, port in cfg.feedback:
                if self.udp is not None:
                    self.feedback.register(("udp", host, port), partial(self.udp.send, address=(host, port)))
        if cfg.oscquery_port is not None:
            from engine.control.oscquery_server import OscQueryServer

            osc_port = self.udp.port if self.udp else (self.tcp.port if self.tcp else None)
            self.oscquery = OscQueryServer(
                self.space,
                self.values,
                self.router,
                host=cfg.bind,
                port=cfg.oscquery_port,
                read_only=cfg.read_only,
                osc_port=osc_port,
                osc_tcp=self.udp is None and self.tcp is not None,
                name=cfg.name,
                status=self.status,
                choices=self.choices,
            )
            self.oscquery.start()
            self._started.append(self.oscquery)
            mode = "read-only" if cfg.read_only else "read-write"
            log.info("OSCQuery listening on http://%s:%d/ (%s)", cfg.bind, self.oscquery.port, mode)
        if cfg.zeroconf and (self.oscquery is not None or self.udp is not None):
            from engine.control.advertise import Advertisement

            self.advertisement = Advertisement(
                cfg.name,
                self.oscquery.port if self.oscquery else None,
                self.udp.port if self.udp else None,
                list(cfg.zeroconf_interfaces) or None,
            )
            self.advertisement.start()
            self._started.append(self.advertisement)
