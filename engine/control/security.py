"""Who may talk to the show, and how fast: an allowlist of networks and a per-source token bucket.

The default allowlist is loopback plus the local network segments of this machine's interfaces, so a desk on
the lighting network gets in and the rest of the venue's network does not. A per-source rate limit keeps one
runaway sender from starving the others; a flood costs a counter, never memory.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time

from engine.errors import HalationError

log = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def local_segments() -> tuple[Network, ...]:
    """The networks this machine's interfaces sit on (via ifaddr, which zeroconf also uses)."""
    try:
        import ifaddr
    except ImportError:
        log.warning("ifaddr is missing: only loopback is allowed by default")
        return ()
    nets: list[Network] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip
            try:
                nets.append(ipaddress.ip_network(f"{address}/{ip.network_prefix}", strict=False))
            except ValueError:
                continue
    return tuple(nets)


def parse_networks(text: str) -> tuple[Network, ...] | None:
    """Comma-separated addresses and networks, `local`, `loopback`; `any` (None) allows every source."""
    nets: list[Network] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item.lower() in ("any", "all", "*"):
            return None
        if item.lower() == "local":
            nets.extend(LOOPBACK + local_segments())
            continue
        if item.lower() in ("loopback", "localhost"):
            nets.extend(LOOPBACK)
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise HalationError(
                f"--osc-allow: '{item}' is not an address or network (e.g. 10.0.0.0/24)"
            ) from None
    return tuple(nets)


class Allowlist:
    """Sources in these networks may send; `networks=None` allows everyone."""

    def __init__(self, networks: tuple[Network, ...] | None):
        self.networks = None if networks is None else tuple(dict.fromkeys(networks))
        self._cache: dict[str, bool] = {}

    @classmethod
    def local(cls) -> Allowlist:
        """The default: loopback and the local network segments."""
        return cls(LOOPBACK + local_segments())

    def describe(self) -> str:
        return "any" if self.networks is None else ", ".join(str(n) for n in self.networks)

    def allows(self, host: str) -> bool:
        if self.networks is None:
            return True
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            ok = any(ip.version == n.version and ip in n for n in self.networks)
        except ValueError:
            ok = False
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[host] = ok
        return ok


class RateLimiter:
    """A token bucket per source host: `rate` messages a second, bursts up to `burst`. Thread-safe."""

    def __init__(
        self, rate: float, burst: float | None = None, max_sources: int = 1024, clock=time.monotonic
    ):
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.max_sources = max_sources
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}  # host → [tokens, last time]
        self._lock = threading.Lock()

    def exhausted(self, host: str) -> bool:
        """Whether this host has no message left to spend now: a flood beyond the rate is dropped before
        it is even decoded, so it costs the show as little as a packet can."""
        if self.rate <= 0:
            return False
        bucket = self._buckets.get(host)
        if bucket is None:
            return False
        return bucket[0] + (self._clock() - bucket[1]) * self.rate < 1.0

    def allow(self, host: str, n: int = 1) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(host)
            if bucket is None:
                if len(self._buckets) >= self.max_sources:
                    self._buckets.clear()  # a spray of spoofed sources must not grow memory
                bucket = self._buckets[host] = [self.burst, now]
            else:
                bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
                bucket[1] = now
            if bucket[0] < n:
                return False
            bucket[0] -= n
            return True
