"""OSCQuery over HTTP and WebSocket on one port, in one asyncio thread.

GET /path returns the node's JSON, GET /path?ATTRIBUTE one attribute, GET /?HOST_INFO the server's ports and
extensions. A WebSocket on the same port takes {"COMMAND": "LISTEN"|"IGNORE", "DATA": path} and then streams
that path's value changes as binary OSC; binary OSC sent by the client sets values like UDP does (unless
the server is read-only).
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from engine.control.address import AddressSpace
from engine.control.codec import encode_message
from engine.control.oscquery import ATTRIBUTES, find, host_info, json_value, namespace
from engine.control.router import Router, Source
from engine.errors import HalationError
from engine.params.store import ParamValue

log = logging.getLogger(__name__)
quiet = logging.getLogger("halation.oscquery.websocket")  # port scanners should not fill the operator's log
quiet.setLevel(logging.CRITICAL)
MAX_LISTENERS = 64


def path_changes(old: AddressSpace, new: AddressSpace) -> list[str]:
    """The WebSocket messages that carry one address space into the next, as JSON texts."""
    before, after = old.targets, new.targets
    messages = [("PATH_REMOVED", a) for a in before if a not in after]
    messages += [("PATH_ADDED", a) for a in after if a not in before]
    messages += [
        ("PATH_CHANGED", a) for a in after if a in before and _meaning(before[a]) != _meaning(after[a])
    ]
    return [json.dumps({"COMMAND": command, "DATA": address}) for command, address in messages]


def _meaning(target) -> tuple:
    param = target.param
    if param is None:
        return (target.action, target.status)
    return (param.kind, param.min, param.max, param.description)


class OscQueryServer:
    def __init__(
        self,
        space: AddressSpace,
        values: Callable[[], Mapping[str, ParamValue]],
        router: Router,
        *,
        host: str = "0.0.0.0",
        port: int = 0,
        read_only: bool = False,
        osc_port: int | None = None,
        osc_tcp: bool = False,
        name: str = "Halation",
        rate_hz: float = 30.0,
        status: Callable[[], Mapping[str, Any]] = dict,
        choices: Callable[[], Mapping[str, list[str]]] = dict,
    ):
        self.space = space
        self.values = values
        self.status = status
        self.choices = choices
        self.router = router
        self.host = host
        self.port = port
        self.read_only = read_only
        self.info = host_info(name, osc_port, host, osc_tcp)
        self.period = 1.0 / rate_hz
        self._listeners: dict[Any, dict[str, list[Any] | None]] = {}  # socket → address → value last sent
        self._tasks: set[asyncio.Future] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="halation-oscquery", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10.0)
        if self._error is not None:
            raise HalationError(
                f"OSCQuery: cannot listen on {self.host}:{self.port} ({self._error}); pick another port"
            )

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=3.0)

    # --- HTTP ---------------------------------------------------------------------------------------------

    def respond(self, path: str, query: str) -> tuple[int, Any]:
        """(status, JSON body or None) for GET path?query."""
        if query.upper() == "HOST_INFO":
            return 200, self.info
        attribute = query.split("&")[0].upper()
        if attribute and attribute not in ATTRIBUTES:
            return 400, None  # the proposal: a query for an attribute the server does not know
        tree = namespace(self.space, self.values(), self.read_only, self.status(), self.choices())
        node = find(tree, urllib.parse.unquote(path))
        if node is None:
            return 404, None
        if not attribute:
            return 200, node
        if attribute in node:
            return 200, {attribute: node[attribute]}
        return 204, None

    # --- a look that changes ------------------------------------------------------------------------------

    def retarget(self, space: AddressSpace) -> None:
        """Serve the new look's tree from now on and tell every WebSocket client which paths came and went
        (PATH_ADDED / PATH_REMOVED; PATH_CHANGED where a path stays but now means another input)."""
        old, self.space = self.space, space
        messages = path_changes(old, space)
        if messages and self._loop is not None:
            self._loop.call_soon_threadsafe(self._broadcast, messages)

    def _broadcast(self, messages: list[str]) -> None:
        for ws, listened in list(self._listeners.items()):
            for text in messages:
                self._spawn(self._send(ws, text))
            for gone in [a for a in listened if a not in self.space.targets]:
                listened.pop(gone, None)

    def _process_request(self, connection, request):
        peer = connection.remote_address[0] if connection.remote_address else ""
        if not self.router.allowlist.allows(peer):
            self.router.counters.add("denied")
            return connection.respond(http.HTTPStatus.FORBIDDEN, "not on the allowlist\n")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        path, _, query = request.path.partition("?")
        status, body = self.respond(path, query)
        if body is None:
            response = connection.respond(status, "")
            if status == 204:
                response.headers["Content-Length"] = "0"
            return response
        response = connection.respond(http.HTTPStatus.OK, json.dumps(body))
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    # --- WebSocket ----------------------------------------------------------------------------------------

    async def _serve_socket(self, ws) -> None:
        if len(self._listeners) >= MAX_LISTENERS:
            await ws.close(1013, "too many listeners")
            return
        self._listeners[ws] = {}
        peer = ws.remote_address or ("", 0)
        loop = asyncio.get_running_loop()

        def reply(packet: bytes) -> bool:
            loop.call_soon_threadsafe(self._spawn, self._send(ws, packet))
            return True

        source = Source(peer[0], peer[1], "ws", reply)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    if self.read_only:
                        self.router.counters.add("read-only")
                    else:
                        self.router.handle(message, source)
                    continue
                self._command(ws, message)
        except Exception:  # a broken client costs its socket only
            pass
        finally:
            self._listeners.pop(ws, None)

    def _command(self, ws, text: str) -> None:
        try:
            command = json.loads(text)
            verb, path = command["COMMAND"], command["DATA"]
        except (ValueError, KeyError, TypeError):
            self.router.counters.add("bad-websocket-command")
            return
        listened = self._listeners.get(ws)
        if listened is None or not isinstance(path, str):
            return
        if verb == "LISTEN":
            listened[path] = None
            self._send_changes(ws, listened, (path,))  # start from the current value
        elif verb == "IGNORE":
            listened.pop(path, None)

    def _current(self, address: str) -> list[Any] | None:
        target = self.space.targets.get(address)
        if target is not None and target.status is not None:
            value = self.status().get(target.status.key)
            return None if value is None else [value]
        param = target.param if target else None
        if param is None or param.kind == "event":
            return None
        value = self.values().get(param.name)
        return None if value is None else json_value(param, value)

    def _send_changes(self, ws, listened: dict[str, list[Any] | None], addresses) -> None:
        """Send each listened address whose value differs from what this listener last heard."""
        for address in addresses:
            args = self._current(address)
            if args is not None and listened.get(address) != args:
                listened[address] = args
                self._spawn(self._send(ws, encode_message(address, args)))

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)  # held until done, so it is not collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _send(self, ws, packet: bytes) -> None:
        try:
            await ws.send(packet)
        except Exception:
            self._listeners.pop(ws, None)

    async def _stream(self) -> None:
        """Send value changes to whoever listens, at most `rate_hz` times a second."""
        while True:
            await asyncio.sleep(self.period)
            for ws, listened in list(self._listeners.items()):
                self._send_changes(ws, listened, list(listened))

    # --- thread -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            server = await serve(
                self._serve_socket,
                self.host,
                self.port,
                process_request=self._process_request,
                logger=quiet,
                max_size=65536,
            )
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        streamer = asyncio.create_task(self._stream())
        async with server:
            await self._stop.wait()
            streamer.cancel()
            server.close()
