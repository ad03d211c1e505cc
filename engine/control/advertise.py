"""Zeroconf (mDNS) advertisement: `_oscjson._tcp` for OSCQuery and `_osc._udp` for plain OSC, so controllers
find the show without anyone typing an IP address. Registration probes the network for a few seconds, so it
runs in its own thread; failing to advertise is logged, never fatal.
"""

from __future__ import annotations

import logging
import socket
import threading

log = logging.getLogger(__name__)


def _addresses() -> list[bytes]:
    try:
        import ifaddr
    except ImportError:
        return [socket.inet_aton("127.0.0.1")]
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                found.append(socket.inet_aton(ip.ip))
    return found or [socket.inet_aton("127.0.0.1")]


class Advertisement:
    def __init__(
        self, name: str, http_port: int | None, osc_port: int | None, interfaces: list[str] | None = None
    ):
        self.name = name
        self.interfaces = interfaces  # None = every interface; e.g. ["127.0.0.1"] keeps it on this machine
        self.http_port = http_port
        self.osc_port = osc_port
        self._zeroconf = None
        self._infos: list = []
        self._thread = threading.Thread(target=self._register, name="halation-zeroconf", daemon=True)
        self.registered = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _register(self) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf

            host = socket.gethostname().split(".")[0] or "halation"
            if self.interfaces:
                addresses = [socket.inet_aton(a) for a in self.interfaces]
                zc = self._zeroconf = Zeroconf(interfaces=self.interfaces)
            else:
                addresses = _addresses()
                zc = self._zeroconf = Zeroconf()
            for kind, port in (("_oscjson._tcp.local.", self.http_port), ("_osc._udp.local.", self.osc_port)):
                if port:
                    properties = {"txtvers": "1"}
                    server = f"{host}.local."
                    info = ServiceInfo(
                        kind, f"{self.name}.{kind}", port, 0, 0, properties, server, addresses=addresses
                    )
                    self._infos.append(info)
            errors: list[Exception] = []

            def register(info: ServiceInfo) -> None:
                try:
                    zc.register_service(info, allow_name_change=True)
                except Exception as exc:
                    errors.append(exc)

            # both probes at once: each takes about 1.5 s of mandatory mDNS waiting
            threads = [threading.Thread(target=register, args=(info,), daemon=True) for info in self._infos]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
            self.registered.set()
            log.info("zeroconf: advertised as '%s' (_oscjson._tcp, _osc._udp)", self.name)
        except Exception as exc:
            log.warning("zeroconf: could not advertise (%s); controllers can still connect by address", exc)

    def stop(self) -> None:
        self._thread.join(timeout=5.0)
        if self._zeroconf is not None:
            try:
                for info in self._infos:
                    self._zeroconf.unregister_service(info)
                self._zeroconf.close()
            except Exception:
                pass
