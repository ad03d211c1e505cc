"""OSCQuery as a controller sees it: the namespace over HTTP with types, ranges and live values, HOST_INFO,
WebSocket LISTEN streaming value changes, read-only mode, and zeroconf discovery."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect

from engine.analysis.features import silent_features
from engine.control.codec import decode_packet, encode_message
from engine.control.hub import ControlHub, OscConfig
from engine.live import ShowState
from engine.params.show_params import show_params
from engine.params.store import Param, ParamStore

PARAMS = {p.name: p for p in show_params()}
PARAMS["shader.zoom"] = Param("shader.zoom", "float", 1.0, 0.5, 4.0, "Zoom")
PARAMS["shader.tint"] = Param("shader.tint", "color", (1.0, 0.5, 0.0, 1.0), 0.0, 1.0, "Tint")
PARAMS["shader.mode"] = Param("shader.mode", "long", 1.0, 0.0, 3.0, "Mode")


@pytest.fixture
def make_hub():
    hubs = []

    def make(**config) -> tuple[ControlHub, ParamStore]:
        hub = ControlHub(OscConfig(**{"udp_port": 0, "oscquery_port": 0, "zeroconf": False, **config}))
        hub.start(PARAMS)
        hubs.append(hub)
        return hub, ParamStore(PARAMS.values())

    yield make
    for hub in hubs:
        hub.stop()


def frame(hub: ControlHub, store: ParamStore) -> None:
    store.apply(hub.drain())
    hub.publish(ShowState(0.0, store.base(), silent_features(("bass",))))


def get(hub: ControlHub, path: str) -> tuple[int, dict | None]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{hub.oscquery.port}{path}", timeout=5) as r:
            body = r.read()
            return r.status, json.loads(body) if body else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_the_namespace_describes_every_parameter(make_hub):
    hub, _ = make_hub()
    status, root = get(hub, "/")
    assert status == 200
    level = root["CONTENTS"]["hl"]["CONTENTS"]["master"]["CONTENTS"]["level"]
    assert level == {
        "FULL_PATH": "/hl/master/level",
        "TYPE": "f",
        "DESCRIPTION": "Master brightness",
        "ACCESS": 3,
        "VALUE": [1.0],
        "RANGE": [{"MIN": 0.0, "MAX": 1.0}],
        "CLIPMODE": ["both"],
    }
    assert get(hub, "/hl/shader/zoom?RANGE")[1] == {"RANGE": [{"MIN": 0.5, "MAX": 4.0}]}
    assert get(hub, "/hl/shader/tint?VALUE")[1] == {"VALUE": ["#ff8000ff"]}
    assert get(hub, "/hl/shader/mode")[1]["TYPE"] == "i"
    assert get(hub, "/hl/master/blackout")[1]["TYPE"] == "T"
    tap = get(hub, "/hl/tempo/tap")[1]
    assert (tap["TYPE"], tap["ACCESS"]) == ("N", 2)  # a trigger: write-only, no value
    assert get(hub, "/hl/cue/goto")[1]["TYPE"] == "s"
    assert get(hub, "/hl/no/such/thing")[0] == 404


def test_host_info_names_the_osc_port_and_extensions(make_hub):
    hub, _ = make_hub()
    status, info = get(hub, "/?HOST_INFO")
    assert status == 200
    assert info["OSC_PORT"] == hub.udp.port and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] and info["EXTENSIONS"]["RANGE"] and info["EXTENSIONS"]["VALUE"]


@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo-tools is not installed")
def test_a_value_set_over_osc_shows_in_value(make_hub):
    hub, store = make_hub()
    subprocess.run(["oscsend", "localhost", str(hub.udp.port), "/hl/shader/zoom", "f", "3"], check=True)
    deadline = time.monotonic() + 3
    while get(hub, "/hl/shader/zoom?VALUE")[1] != {"VALUE": [3.0]} and time.monotonic() < deadline:
        frame(hub, store)
        time.sleep(0.01)
    assert get(hub, "/hl/shader/zoom?VALUE")[1] == {"VALUE": [3.0]}


def test_websocket_listen_streams_changes_and_sets_values(make_hub):
    hub, store = make_hub()
    with connect(f"ws://127.0.0.1:{hub.oscquery.port}/", open_timeout=5) as ws:
        ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/hl/master/level"}))
        ws.send(encode_message("/hl/master/level", [0.25]))  # binary OSC over the socket sets values too
        heard = []  # the current value first, then each change
        deadline = time.monotonic() + 3
        while (0.25,) not in [m.args for m in heard] and time.monotonic() < deadline:
            frame(hub, store)
            try:
                heard.append(decode_packet(ws.recv(timeout=0.1))[0])
            except TimeoutError:
                continue
        assert [(m.address, m.args) for m in heard] == [
            ("/hl/master/level", (1.0,)),
            ("/hl/master/level", (0.25,)),
        ]
        ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/hl/master/level"}))
        time.sleep(0.1)
        ws.send(encode_message("/hl/master/level", [0.5]))
        for _ in range(10):
            frame(hub, store)
            time.sleep(0.02)
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.2)
    assert store.base()["master.level"] == 0.5


def test_read_only_mode_shows_values_but_accepts_nothing(make_hub):
    hub, store = make_hub(read_only=True)
    assert get(hub, "/hl/master/level")[1]["ACCESS"] == 1
    assert get(hub, "/hl/cue/go")[1]["ACCESS"] == 0
    with connect(f"ws://127.0.0.1:{hub.oscquery.port}/", open_timeout=5) as ws:
        ws.send(encode_message("/hl/master/level", [0.1]))
        time.sleep(0.2)
    frame(hub, store)
    assert store.base()["master.level"] == 1.0
    assert hub.counters["read-only"] == 1


def test_http_from_outside_the_allowlist_is_forbidden(make_hub):
    hub, _ = make_hub(allow=(ipaddress.ip_network("10.0.0.0/8"),))
    assert get(hub, "/")[0] == 403


def test_zeroconf_advertises_oscjson_and_osc(make_hub):
    from zeroconf import ServiceBrowser, Zeroconf

    # on loopback only: the test's mDNS traffic stays on this machine
    hub, _ = make_hub(zeroconf=True, zeroconf_interfaces=("127.0.0.1",), name="Halation test")
    if not hub.advertisement.registered.wait(10):
        pytest.skip("zeroconf could not register here (no multicast on this machine)")
    found: dict[str, int] = {}

    class Listener:
        def add_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name, timeout=2000)
            if info and name.startswith("Halation test"):
                found[kind] = info.port

        update_service = remove_service = lambda *a: None

    zc = Zeroconf(interfaces=["127.0.0.1"])
    try:
        browser = ServiceBrowser(zc, ["_oscjson._tcp.local.", "_osc._udp.local."], Listener())
        deadline = time.monotonic() + 8
        while len(found) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        browser.cancel()
    finally:
        zc.close()
    assert found == {"_oscjson._tcp.local.": hub.oscquery.port, "_osc._udp.local.": hub.udp.port}


def test_the_feature_stream_is_listed_as_what_the_show_sends(make_hub):
    from pythonoscquery.shared.osc_path_node import OSCPathNode

    from engine.control.status import SentNode
    from engine.output.features_out import stream_nodes

    sent = tuple(SentNode(*n) for n in stream_nodes(("bass", "high")))
    hub, _ = make_hub(sent=sent)
    status, node = get(hub, "/hl/frame/bpm")
    assert status == 200 and node["ACCESS"] == 0 and node["TYPE"] == "f"
    assert get(hub, "/hl/event/downbeat")[1]["TYPE"] == "di"
    assert get(hub, "/hl/frame/bass/hits")[0] == 200
    OSCPathNode.from_json(get(hub, "/")[1])  # an existing client reads the tree with them in it
