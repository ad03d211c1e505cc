"""DMX in: a desk without OSC drives Halation as a fixture, over sACN (E1.31, through the `sacn` package) or
Art-Net (engine/control/artnet.py). Both hand a universe's levels to `FixtureInput.apply`, which turns the
channels that changed into values and commands, with the same fixture file semantics.

`sacn` handles priorities, sequence numbers, stream timeouts and multicast; its receive thread calls back
only when a universe's data changed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.control.fixture import DEFAULT, Channel, Fixture
from engine.control.targets import Resolved, resolve
from engine.errors import HalationError

if TYPE_CHECKING:
    from engine.control.hub import ControlHub

log = logging.getLogger(__name__)
logging.getLogger("sacn").setLevel(logging.WARNING)  # its thread start/stop notices are not the operator's
SACN_PORT = 5568


def channel_share(data: tuple[int, ...] | list[int], index: int, bits: int) -> float:
    """A channel's level as 0–1; 16-bit reads the coarse byte at `index` and the fine one after it."""
    if bits == 16:
        return (data[index] * 256 + data[index + 1]) / 65535.0
    return data[index] / 255.0


class FixtureInput:
    """The fixture patched at `address`: what each of its channels drives, and what they last said."""

    def __init__(self, address: int, fixture: Fixture, flag: str):
        if not 1 <= address <= 513 - fixture.footprint:
            raise HalationError(f"{flag} {address}: the {fixture.footprint}-channel fixture must fit in 512")
        self.address = address
        self.fixture = fixture
        self._hub: ControlHub | None = None
        self._bound: list[tuple[Channel, Resolved]] = []
        self._bound_for: object = None  # the show's params the channels were resolved against
        self._protocol = ""
        self._last: dict[int, float] = {}

    def bind(self, hub: ControlHub, protocol: str, warn: bool = True) -> None:
        """Resolve the fixture's channels against the show; a channel the show has no target for is skipped
        (with a warning at start; a later look without that input is normal)."""
        self._hub, self._protocol, self._bound_for = hub, protocol, hub.params
        self._bound = []
        for channel in self.fixture.channels:
            target = resolve(channel.target, hub.params)
            if target is None:
                say = log.warning if warn else log.debug
                say(
                    "%s fixture: '%s' is no parameter or action of this show; skipped",
                    protocol,
                    channel.target,
                )
            else:
                self._bound.append((channel, target))

    def apply(self, data: tuple[int, ...] | list[int] | bytes) -> None:
        """Turn one universe's levels into values and commands for the channels that changed."""
        hub = self._hub
        if hub is None or len(data) < self.address - 1 + self.fixture.footprint:
            return
        if hub.params is not self._bound_for:  # another look on screen: its inputs, its ranges
            self.bind(hub, self._protocol, warn=False)
        hub.counters.add("dmx")
        first = not self._last
        for channel, target in self._bound:
            index = self.address - 2 + channel.offset
            share = channel_share(data, index, channel.bits)
            before = self._last.get(channel.offset)
            self._last[channel.offset] = share
            if before is not None and share == before:
                continue
            effect = None
            if channel.value:
                raw = data[index] if channel.bits == 8 else data[index] * 256 + data[index + 1]
                if raw and target.action is not None:
                    effect = target.fire(float(raw))
            elif target.is_trigger:
                if not first and share >= 0.5 > (before or 0.0):
                    effect = target.fire()
            else:
                effect = target.level(share)
            if effect is not None:
                hub.inbox.put(effect)


class SacnInput(FixtureInput):
    def __init__(
        self,
        universe: int = 1,
        address: int = 1,
        fixture: Fixture = DEFAULT,
        *,
        bind: str = "0.0.0.0",
        port: int = SACN_PORT,
        multicast: bool = True,
    ):
        if not 1 <= universe <= 63999:
            raise HalationError(f"--sacn-universe {universe}: use 1–63999")
        super().__init__(address, fixture, "--sacn-address")
        self.universe = universe
        self.host = bind
        self.port = port
        self.multicast = multicast
        self._receiver: Any = None

    def start(self, hub: ControlHub) -> None:
        try:
            import sacn
        except ImportError:
            raise HalationError("sACN input needs the sacn package: pip install sacn") from None
        self.bind(hub, "sACN")
        try:
            self._receiver = sacn.sACNreceiver(bind_address=self.host, bind_port=self.port)
        except OSError as exc:
            raise HalationError(f"sACN: cannot listen on port {self.port} ({exc.strerror})") from None
        self._receiver.register_listener("universe", self._on_packet, universe=self.universe)
        self._receiver.start()
        if self.multicast:
            try:
                self._receiver.join_multicast(self.universe)
            except OSError as exc:
                log.warning(
                    "sACN: could not join multicast for universe %d (%s); unicast still works",
                    self.universe,
                    exc,
                )
        log.info(
            "sACN listening on port %d: universe %d, address %d, %d channels (%s)",
            self.port,
            self.universe,
            self.address,
            self.fixture.footprint,
            self.fixture.mode,
        )

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None

    def _on_packet(self, packet: Any) -> None:
        try:
            self.apply(packet.dmxData)
        except Exception:
            log.exception("sACN: packet failed")
