"""Real applications behind the proxy, not echo servers (extensions/molecule/cluster/apps, deployed by
prepare.yml; the sites "apps" on port 8080 and "apps-round-robin" on 8081 in molecule.yml).

- chat: a Socket.IO server on backend-1 and backend-2 (upstream "chat", hash $remote_addr);
  it emits "welcome" on connect and answers "hello" with "hello_reply", naming its host.
- feed: a plain WebSocket server on backend-2 and backend-3 (upstream "feed", round robin) that
  serves /feed/ws only and speaks first.
"""

import json
import queue
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import socketio

from conftest import BACKENDS, PROXY, upstream_health
from wsn_e2e import base_url, docker_exec, http_get, ws_connect

B1, B2, B3 = BACKENDS
CHAT_BACKENDS = {B1, B2}
FEED_BACKENDS = {B2, B3}
APPS_PORT, ROUND_ROBIN_PORT = 8080, 8081  # inside the proxy container
SOCKETIO_WEBSOCKET = "/socket.io/?EIO=4&transport=websocket"
POLLING_CLIENT = Path(__file__).with_name("engineio_polling_client.py")
POLLING_CLIENT_IN_PROXY = "/opt/wsn-engineio-polling-client.py"
SOURCES = 20  # client addresses 127.0.0.1 .. 127.0.0.20 in the proxy container


@pytest.fixture(scope="module")
def apps_url():
    return base_url(PROXY, port=APPS_PORT)


@pytest.fixture(scope="module")
def apps_ws():
    return base_url(PROXY, scheme="ws", port=APPS_PORT)


@pytest.fixture
def no_proxy_env(monkeypatch):
    """Loopback only, whatever *_PROXY says (the Socket.IO client's libraries read them)."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def socketio_exchange(url, transports):
    """Connect a python-socketio client, take the welcome, emit hello and take the reply;
    (transport in use after connecting, welcome data, reply data)."""
    events = queue.Queue()
    session = requests.Session()
    session.trust_env = False
    client = socketio.Client(reconnection=False, http_session=session)
    client.on("welcome", lambda data: events.put(("welcome", data)))
    client.on("hello_reply", lambda data: events.put(("hello_reply", data)))
    try:
        client.connect(url, transports=transports, wait_timeout=10)
        transport = client.transport()
        welcome = events.get(timeout=10)
        client.emit("hello", {"text": "through nginx"})
        reply = events.get(timeout=10)
    finally:
        client.disconnect()
        session.close()
    return transport, welcome, reply


# "polling" first is the client's default: open with long polling, then upgrade to a WebSocket,
# which only works when the upgrade request reaches the backend that holds the session. Over the
# WebSocket the client sends "Origin: http://127.0.0.1:<port>", which the application (Socket.IO's
# default same-origin check) accepts only if nginx passed the Host with its port.
@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]], ids=["websocket", "upgrade"])
def test_socketio_client_through_the_proxy(apps_url, no_proxy_env, transports):
    transport, welcome, reply = socketio_exchange(apps_url, transports)
    assert transport == "websocket"
    assert welcome[0] == "welcome" and welcome[1]["backend"] in CHAT_BACKENDS, welcome
    assert reply == ("hello_reply", {"backend": welcome[1]["backend"], "received": {"text": "through nginx"}})


@pytest.fixture(scope="module")
def polling_sessions():
    """Run engineio_polling_client.py in the proxy container against one port; its results."""
    copied = subprocess.run(["docker", "cp", str(POLLING_CLIENT), f"{PROXY}:{POLLING_CLIENT_IN_PROXY}"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert copied.returncode == 0, copied.stderr

    def run(port):
        # timeout(1) bounds the whole run; each request is bounded by the client's own 10 s.
        code, output = docker_exec(PROXY, "timeout", "120", "python3", POLLING_CLIENT_IN_PROXY,
                                   "--port", str(port), "--sources", str(SOURCES))
        assert code == 0, output
        results = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        assert len(results) == SOURCES, output
        return results

    return run


def test_socketio_polling_sessions_stick_to_one_backend(polling_sessions):
    results = polling_sessions(APPS_PORT)
    failed = [result for result in results if not result["ok"]]
    assert not failed, failed
    # and hash $remote_addr spread the 20 client addresses over both backends.
    served = Counter(result["backend"] for result in results)
    assert set(served) == CHAT_BACKENDS, served


def test_round_robin_breaks_polling_sessions(polling_sessions):
    """The control: without stickiness the same client fails, so the test above can fail."""
    results = polling_sessions(ROUND_ROBIN_PORT)
    failed = [result for result in results if not result["ok"]]
    assert failed, results
    # A request with a session id reached the backend that does not know it.
    assert all(result["status"] == 400 and "Invalid session" in result["error"] for result in failed), failed


def feed_exchange(ws_url, text):
    """Open /feed/ws, take the greeting without sending anything, then send text; both
    decoded."""
    with ws_connect(ws_url + "/feed/ws") as ws:
        greeting = json.loads(ws.recv(timeout=5))
        ws.send(text)
        answer = json.loads(ws.recv(timeout=5))
    return greeting, answer


def test_feed_speaks_first_and_answers(apps_ws):
    greeted_by = Counter()
    for attempt in range(4):
        greeting, answer = feed_exchange(apps_ws, f"tick {attempt}")
        backend = greeting["backend"]
        assert greeting["type"] == "greeting" and backend in FEED_BACKENDS, greeting
        assert answer == {"type": "answer", "backend": backend, "n": 1, "text": f"TICK {attempt}"}
        greeted_by[backend] += 1
    assert set(greeted_by) == FEED_BACKENDS, greeted_by  # round robin


def test_the_feed_application_answers_its_other_paths(apps_url):
    # aiohttp's own 404 body: nginx passed the request to the feed application, which refused it.
    status, _headers, body = http_get(apps_url + "/feed/other")
    assert (status, body) == (404, b"404: Not Found")
    # A plain GET of the WebSocket path: the application's own refusal.
    status, _headers, body = http_get(apps_url + "/feed/ws")
    assert (status, body) == (426, b"WebSocket only\n")


def test_a_path_without_location_is_nginx_404(apps_url):
    # Not nginx's compiled-in root, whose index.html is Debian's "Welcome to nginx!" page.
    status, _headers, body = http_get(apps_url + "/")
    assert status == 404 and b"<center>nginx</center>" in body, (status, body[:200])


def test_application_sees_the_host_the_client_asked_for(apps_ws):
    """Port included: what Socket.IO's same-origin check compares the Origin with (see
    test_socketio_client_through_the_proxy)."""
    greeting, _answer = feed_exchange(apps_ws, "host?")
    assert greeting["host"] == urlsplit(apps_ws).netloc, greeting


@pytest.mark.parametrize("upstream, path", [("chat", SOCKETIO_WEBSOCKET), ("feed", "/feed/ws")])
def test_upstream_health_passes_with_the_applications_paths(upstream, path):
    health = upstream_health(upstream, path=path)
    servers = CHAT_BACKENDS if upstream == "chat" else FEED_BACKENDS
    port = 8000 if upstream == "chat" else 8100
    assert {server["address"] for server in health["servers"]} == {f"{name}:{port}" for name in servers}, health
    assert health["healthy"] == 2 and health["unhealthy"] == 0, health


@pytest.mark.parametrize("upstream", ["chat", "feed"])
def test_upstream_health_fails_with_the_default_path(upstream):
    """The path matters: / is 404 in both applications, so the WebSocket handshake fails."""
    health = upstream_health(upstream)
    assert health["healthy"] == 0 and health["unhealthy"] == 2, health
    assert {(server["path"], server["stage"], server["status"]) for server in health["servers"]} \
        == {("/", "handshake", 404)}, health


def test_health_playbook_checks_each_upstream_as_its_health_check_says():
    """websocket.nginx.health: the applications' upstreams with their own paths and types (a
    handshake on "/" would find every server unhealthy), the echo upstreams with the default."""
    from conftest import INVENTORY
    from wsn_e2e import run_playbook

    playbook = Path(__file__).resolve().parents[4] / "playbooks" / "health.yml"
    result = run_playbook(playbook, "-e", "health_min_healthy=100%", inventory=INVENTORY)
    assert result.returncode == 0, result.stdout + result.stderr
    for upstream in ("chat", "feed", "chat_round_robin", "rr"):
        assert f"{upstream}: 2 healthy, 0 unhealthy" in result.stdout or \
            f"{upstream}: 3 healthy, 0 unhealthy" in result.stdout, (upstream, result.stdout)
