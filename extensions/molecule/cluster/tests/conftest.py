"""Fixtures and helpers for the cluster scenario: one proxy, three echo backends."""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "support"))

import wsn_e2e  # noqa: E402  (needs the path above)

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
_RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
PROXY = _RUNNER.get_hosts("websocket_proxies")[0]
BACKENDS = sorted(_RUNNER.get_hosts("websocket_backends"))
SERVICE = wsn_e2e.ECHO_SERVICE


@pytest.fixture(scope="session")
def ws_base():
    return wsn_e2e.base_url(PROXY, scheme="ws")


def open_ws(ws_base, path):
    """An open WebSocket through the proxy and the name of the backend that answered it."""
    ws = wsn_e2e.ws_connect(ws_base + path)
    return ws, ws.response.headers["X-Echo-Backend"]


def backend_of(ws_base, path):
    """Open one WebSocket through the proxy, check it echoes, close it; the backend's name."""
    ws, backend = open_ws(ws_base, path)
    try:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
    finally:
        ws.close()
    return backend


def spread(ws_base, path, count):
    """Counter of the backends that answered `count` new connections."""
    return Counter(backend_of(ws_base, path) for _attempt in range(count))


def wait_for_backend(ws_base, path, backend, timeout=30):
    """Open connections until one reaches `backend` (bounded); the names seen meanwhile."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(backend_of(ws_base, path))
        if seen[-1] == backend:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"no connection through {path} reached {backend} within {timeout}s: {Counter(seen)}")


def upstream_health(upstream, **options):
    """Run websocket.nginx.upstream_health on the proxy for one nginx upstream (and any other
    module options, such as path); its result."""
    arguments = {"nginx_upstream": upstream, "min_healthy": 0, "timeout": 3, **options}
    result = subprocess.run(
        ["ansible", "-i", INVENTORY, PROXY, "-b", "-o", "-m", "websocket.nginx.upstream_health",
         "-a", json.dumps(arguments)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # "<host> | SUCCESS => {...}" on one line (-o); anything after the object is not ours.
    return json.JSONDecoder().raw_decode(result.stdout.split(" => ", 1)[1])[0]


def start_stopped_backends():
    for backend in BACKENDS:
        code, _output = wsn_e2e.docker_exec(backend, "systemctl", "is-active", "--quiet", SERVICE)
        if code != 0:
            wsn_e2e.set_echo_service(backend, "start")
            wsn_e2e.wait_echo_listening(backend)


@pytest.fixture(scope="session", autouse=True)
def cluster_in_rotation(ws_base):
    """Before the first test every backend takes connections, even if an earlier (failed) run
    left one stopped or still counted as failed by nginx (fail_timeout 10s)."""
    start_stopped_backends()
    for path in ("/rr/", "/least/", "/weighted/"):
        for backend in BACKENDS:
            wait_for_backend(ws_base, path, backend, timeout=30)


@pytest.fixture(autouse=True)
def all_backends_running():
    """Every test starts with all echo services up (a failed test may have left one stopped)."""
    start_stopped_backends()
