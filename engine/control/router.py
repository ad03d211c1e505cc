"""One packet from one source → values and commands in the inbox, replies, feedback registrations.

Runs in the receive thread of whichever transport got the packet; it only decodes, checks and queues, so a
handler never waits (bundles for later are held by the inbox, not slept on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.control.address import AddressSpace, Target
from engine.control.codec import IMMEDIATELY, Decoded, decode_packet, encode_message, ntp_to_unix
from engine.control.coerce import ArgError, command, param_value
from engine.control.guard import PacketError
from engine.control.inbox import Effect, Inbox
from engine.control.profiles import SourceProfiles
from engine.control.resolume import query_replies
from engine.control.security import Allowlist, RateLimiter
from engine.control.stats import Counters
from engine.params.store import ParamMessage, ParamValue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a packet came from, and how to answer it (UDP: to its address; TCP/WebSocket: on the stream)."""

    host: str
    port: int
    transport: str  # "udp", "tcp" or "ws"
    reply: Callable[[bytes], bool | None] | None = field(default=None, compare=False)  # False: gone


class Router:
    def __init__(
        self,
        space: AddressSpace,
        inbox: Inbox,
        *,
        counters: Counters | None = None,
        profiles: SourceProfiles | None = None,
        allowlist: Allowlist | None = None,
        limiter: RateLimiter | None = None,
        on_register: Callable[[Source, int | None, bool], None] | None = None,
        on_learn: Callable[[str], None] | None = None,
    ):
        self.space = space
        self.inbox = inbox
        self.counters = counters or inbox.counters
        self.profiles = profiles or SourceProfiles()
        self.allowlist = allowlist or Allowlist(None)
        self.limiter = limiter or RateLimiter(0)
        self.on_register = on_register
        self.on_learn = on_learn
        self.current: dict[str, ParamValue] = {}  # last known values, for toggles
        self.report: Callable[[str, str], None] | None = None  # (text, key): the operator hears it at once
        self.unmapped: frozenset[str] = frozenset()  # macros this look does not map
        self.on_refresh: Callable[[], None] | None = None
        p = space.prefix
        self._services: dict[str, Callable[[Decoded, Source], None]] = {
            "/ping": self._ping,
            f"{p}/ping": self._ping,
            f"{p}/feedback/register": self._register,
            f"{p}/feedback/unregister": self._unregister,
            f"{p}/midi/learn": self._learn,
            f"{p}/status/refresh": self._refresh,
        }

    def observe(self, values: Mapping[str, ParamValue]) -> None:
        """What the show last drew with (render thread, after a frame): the base for toggles."""
        self.current = dict(values)

    def handle(self, data: bytes, source: Source) -> None:
        counters = self.counters
        if not self.allowlist.allows(source.host):
            counters.add_two("packets", "denied", 1)
            return
        if self.limiter.exhausted(source.host):
            counters.add_two("packets", "rate-limited", 1)
            return
        try:
            messages = decode_packet(data)
        except PacketError as exc:
            counters.add_two("packets", exc.reason, 1)
            self.limiter.allow(source.host, 1)  # garbage spends the sender's budget too
            return
        if not self.limiter.allow(source.host, len(messages)):
            counters.add_two("packets", "rate-limited", len(messages))
            return
        counters.add_two("packets", "messages", len(messages))
        profile = self.profiles.for_host(source.host)
        later: dict[int, list[Effect]] = {}
        for message in messages:
            effects = self._effects(message, source, profile)
            if not effects:
                continue
            if message.timetag == IMMEDIATELY:
                for effect in effects:
                    self.inbox.put(effect)
            else:
                later.setdefault(message.timetag, []).extend(effects)
        for timetag, effects in later.items():
            self.inbox.schedule(ntp_to_unix(timetag), effects)

    def _effects(self, message: Decoded, source: Source, profile: str) -> list[Effect]:
        service = self._services.get(message.address)
        if service is not None:
            service(message, source)
            return []
        targets = self.space.lookup(message.address)
        if not targets:
            self.counters.add("unknown-address")
            where = message.address
            self._tell(f"OSC: no address {where} in this look (from {source.host})", where)
            return []
        if message.args == ("?",):  # Resolume's query: the current value goes back to the sender
            self._answer(targets, source)
            return []
        effects: list[Effect] = []
        for target in targets:
            if (
                target.status is not None or target.sent is not None
            ):  # read-only: an exact address is a mistake
                self.counters.add("read-only")
                if len(targets) == 1:
                    self._tell(f"OSC: {message.address} is read-only (the show reports it)", message.address)
                continue
            try:
                effect = self._effect(target, message.args, profile)
            except ArgError as exc:
                self.counters.add(exc.reason)
                self._tell(f"OSC: {message.address} cannot take {_shown(message.args)}", message.address)
                continue
            if effect is not None:
                effects.append(effect)
                if target.param is not None and target.param.name in self.unmapped:
                    self._tell(f"OSC: {message.address}: {target.param.description}", message.address)
        return effects

    def _answer(self, targets: tuple[Target, ...], source: Source) -> None:
        if source.reply is not None:
            for packet in query_replies(targets, self.current):
                source.reply(packet)
                self.counters.add("replies")

    def _tell(self, text: str, key: str) -> None:
        if self.report is not None:
            self.report(text, key)

    def _effect(self, target: Target, args: tuple[Any, ...], profile: str) -> Effect | None:
        if target.action is not None:
            return command(target, args, profile)
        name = target.param.name  # type: ignore[union-attr]
        value = param_value(target, args, profile, self.current.get(name))
        if value is None:
            return None
        self.current[name] = value
        return ParamMessage(name, value)

    def _ping(self, message: Decoded, source: Source) -> None:
        if source.reply is not None:
            reply = message.address[: -len("ping")] + "pong"
            source.reply(encode_message(reply, message.args))
            self.counters.add("replies")

    def _register(self, message: Decoded, source: Source) -> None:
        port = message.args[0] if message.args and isinstance(message.args[0], int) else None
        if self.on_register is not None:
            self.on_register(source, port, True)

    def _unregister(self, message: Decoded, source: Source) -> None:
        if self.on_register is not None:
            self.on_register(source, None, False)

    def _refresh(self, message: Decoded, source: Source) -> None:
        if self.on_refresh is not None:
            self.on_refresh()

    def _learn(self, message: Decoded, source: Source) -> None:
        if self.on_learn is not None and message.args and isinstance(message.args[0], str):
            self.on_learn(message.args[0])


def _shown(args: tuple[Any, ...]) -> str:
    """Arguments as an operator reads them, cut short for a 64 KB packet."""
    text = " ".join(repr(a) for a in args) or "no argument"
    return text if len(text) <= 60 else text[:57] + "..."
