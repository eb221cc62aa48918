"""The demo's status service (extensions/molecule/shared/demo_status/demo_status.py) behind a real nginx on loopback.

Deployed as the scenarios deploy it: the script and a copy of plugins/module_utils/nginx_status.py side by side,
run by the system's python3 with an upstreams file, and reached through nginx at /demo/status.json as the demo
site's proxy location reaches it. Real WebSockets go through nginx to two loopback echo servers, each to a known
one, and the JSON must count them exactly; the service's own connection from nginx is never one of them.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The collection as tests/unit imports it (scripts/setup-venv.sh links this checkout there).
sys.path.insert(0, str(REPO_ROOT / ".venv" / "collections"))
# pylint: disable=wrong-import-position
from websockets.sync.client import connect  # noqa: E402

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_status  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, WebSocketServers, free_closed_port  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX, Nginx, children_of, http_get, title, wait_for  # noqa: E402

SERVICE = REPO_ROOT / "extensions" / "molecule" / "shared" / "demo_status" / "demo_status.py"
NGINX_STATUS = REPO_ROOT / "plugins" / "module_utils" / "nginx_status.py"
# The hosts' interpreter (Debian's python3), as the service's unit runs it; this one where there is none.
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
CAPACITY = 8
START_TIMEOUT = 10
FIELDS = {"client_connections", "websockets", "capacity", "capacity_percent", "accepts", "handled", "dropped",
          "servers", "draining_workers"}

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.access(NGINX, os.X_OK) or os.geteuid() != 0,
    reason=f"needs Linux's /proc, {NGINX} (make test-tools) and root (nginx_status reads nginx's /proc/PID/fd)")

WEBSOCKET_LOCATION = """
    location /%(name)s/ {
        proxy_pass http://%(name)s;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
"""


class Demo:
    """nginx with its stub_status, WebSocket locations /echo_a/ and /echo_b/, and /demo/status.json passed on to
    the status service, which runs from a directory of its own as deployed."""

    def __init__(self, directory, ws_servers):
        self.directory = directory
        self.echo_a = ws_servers.start()
        self.echo_b = ws_servers.start()
        self.service_port = free_closed_port()
        self.status_port = free_closed_port()
        self.status_url = f"http://{LOOPBACK}:{self.status_port}/stub_status"
        self.proxy_port = free_closed_port()
        self.nginx = Nginx(directory)
        # As the scenarios write it from the websocket_proxy role's model: a name for one server (as the
        # containers' names are), and the service's own upstream, not a WebSocket one.
        self.upstreams = [
            {"name": "echo_a", "servers": [f"{LOOPBACK}:{self.echo_a}"], "websocket": True},
            {"name": "echo_b", "servers": [f"localhost:{self.echo_b}"], "websocket": True},
            {"name": "demo_status", "servers": [f"{LOOPBACK}:{self.service_port}"], "websocket": False},
        ]
        include = directory / "conf.d"
        include.mkdir()
        (include / "demo.conf").write_text(
            f"upstream echo_a {{ server {LOOPBACK}:{self.echo_a}; }}\n"
            f"upstream echo_b {{ server {LOOPBACK}:{self.echo_b}; }}\n"
            # Kept alive as the role's upstreams are by default: an idle connection to the service must not count.
            f"upstream demo_status {{ server {LOOPBACK}:{self.service_port}; keepalive 4; }}\n"
            f"server {{\n    listen {LOOPBACK}:{self.status_port};\n    location = /stub_status {{ stub_status; }}\n}}\n"
            f"server {{\n    listen {LOOPBACK}:{self.proxy_port};\n"
            + WEBSOCKET_LOCATION % {"name": "echo_a"} + WEBSOCKET_LOCATION % {"name": "echo_b"}
            + "    location /demo/status.json {\n        proxy_pass http://demo_status;\n"
              "        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n    }\n}\n",
            encoding="utf-8")
        self.nginx.write("not the demo", include_dir=include)
        self.service = None

    def start(self):
        self.nginx.start()
        self.service = start_service(self.directory / "app", self.service_port, self.status_url, self.upstreams)
        return self

    def stop(self):
        try:
            stop_service(self.service)
        finally:
            self.nginx.stop()

    def status(self):
        """The JSON of /demo/status.json, asked through nginx."""
        code, body = http_get(self.proxy_port, "/demo/status.json")
        assert code == 200, (code, body)
        return json.loads(body)

    def websockets(self, stack, name, count):
        """``count`` open WebSockets through nginx to the echo server of upstream ``name``, each echoing once;
        closed with ``stack``."""
        sockets = []
        for number in range(count):
            ws = stack.enter_context(connect(f"ws://{LOOPBACK}:{self.proxy_port}/{name}/", proxy=None, open_timeout=5))
            sockets.append(ws)
            ws.send(f"hello {number}")
            assert ws.recv(timeout=5) == f"hello {number}"
        return sockets

    def old_workers(self):
        return [pid for pid in children_of(self.nginx.master) if title(pid) == "nginx: worker process is shutting down"]


def install(directory):
    """The service's directory as the scenarios deploy it: the script and nginx_status.py beside it."""
    directory.mkdir(exist_ok=True)
    shutil.copy(SERVICE, directory / SERVICE.name)
    shutil.copy(NGINX_STATUS, directory / NGINX_STATUS.name)
    return directory


def service_command(directory, port, status_url, upstreams_file, *extra):
    return [PYTHON, str(directory / SERVICE.name), "--listen", f"{LOOPBACK}:{port}", "--status-url", status_url,
            "--capacity", str(CAPACITY), "--upstreams-file", str(upstreams_file), *extra]


def start_service(directory, port, status_url, upstreams):
    install(directory)
    upstreams_file = directory / "upstreams.json"
    upstreams_file.write_text(json.dumps(upstreams), encoding="utf-8")
    # Run from elsewhere, as systemd runs it: nginx_status is found beside the script, not in the working directory.
    process = subprocess.Popen(service_command(directory, port, status_url, upstreams_file), cwd="/",
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the service exited with {process.returncode}: {process.stdout.read()}"
        try:
            if http_get(port, "/health") == (200, b"ok\n"):
                return process
        except OSError:
            time.sleep(0.05)
    stop_service(process)
    raise AssertionError(f"the service does not answer on {port} after {START_TIMEOUT}s")


def stop_service(process):
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(START_TIMEOUT)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws_servers = WebSocketServers()
    try:
        running = Demo(tmp_path_factory.mktemp("demo"), ws_servers).start()
        try:
            yield running
        finally:
            running.stop()
    finally:
        ws_servers.stop()


@pytest.fixture
def quiet(demo):
    """Every test starts and ends with no WebSocket open and no old worker left."""
    wait_for(lambda: demo.status()["websockets"] == 0 and not demo.old_workers(), 10, "no WebSockets before the test")
    yield demo
    wait_for(lambda: demo.status()["websockets"] == 0 and not demo.old_workers(), 10, "no WebSockets after the test")


def error_of(check, value):
    """What nginx_status says about ``value``: the service's message is its own."""
    with pytest.raises(ValueError) as error:
        check(value)
    return str(error.value)


def test_the_json_counts_the_websockets_through_nginx(quiet):
    with contextlib.ExitStack() as stack:
        quiet.websockets(stack, "echo_a", 3)
        quiet.websockets(stack, "echo_b", 2)
        shown = quiet.status()
        assert set(shown) == FIELDS, shown
        # Only the WebSockets: nginx's connection to the service, asking for this very answer, is not one.
        assert shown["websockets"] == 5, shown
        assert shown["servers"] == [{"address": f"{LOOPBACK}:{quiet.echo_a}", "connections": 3},
                                    {"address": f"localhost:{quiet.echo_b}", "connections": 2}], shown["servers"]
        assert (shown["capacity"], shown["capacity_percent"]) == (CAPACITY, round(100 * 5 / CAPACITY, 1)), shown
        # The five WebSockets and this request, as nginx holds them.
        assert shown["client_connections"] == 6, shown
        assert shown["accepts"] == shown["handled"] >= 6 and shown["dropped"] == 0, shown
        assert shown["draining_workers"] == {"workers": 0, "memory_bytes": 0, "websockets": 0}, shown
    wait_for(lambda: quiet.status()["websockets"] == 0, 10, "the closed WebSockets gone from the count")
    assert quiet.status()["servers"] == [{"address": f"{LOOPBACK}:{quiet.echo_a}", "connections": 0},
                                         {"address": f"localhost:{quiet.echo_b}", "connections": 0}]


def test_after_a_reload_the_old_workers_drain_the_websockets(quiet):
    with contextlib.ExitStack() as stack:
        sockets = quiet.websockets(stack, "echo_a", 2) + quiet.websockets(stack, "echo_b", 2)
        os.kill(quiet.nginx.master, signal.SIGHUP)
        wait_for(lambda: quiet.status()["draining_workers"]["workers"] >= 1, 10, "old workers after the reload")
        shown = quiet.status()
        draining = shown["draining_workers"]
        # Every WebSocket is still open, each on an old worker now; old workers holding none have gone.
        assert shown["websockets"] == 4 and draining["websockets"] == 4, shown
        assert 1 <= draining["workers"] <= 2, shown  # nginx runs two workers
        assert draining["memory_bytes"] > 1024 * 1024, shown
        for ws in sockets:  # still served by the old workers
            ws.send("after the reload")
            assert ws.recv(timeout=5) == "after the reload"
    wait_for(lambda: not quiet.old_workers(), 10, "the old workers gone once their WebSockets closed")
    assert quiet.status()["draining_workers"] == {"workers": 0, "memory_bytes": 0, "websockets": 0}


def test_without_nginx_the_service_says_why_and_stays_healthy(tmp_path):
    port = free_closed_port()
    closed = free_closed_port()
    url = f"http://{LOOPBACK}:{closed}/stub_status"
    service = start_service(tmp_path / "app", port, url, [])
    try:
        code, body = http_get(port, "/demo/status.json")
        assert code == 503, (code, body)
        # nginx_status's own message: where the status should be, and what to check.
        with pytest.raises(nginx_status.StatusError) as expected:
            nginx_status.fetch_stub_status(url)
        assert json.loads(body) == {"error": expected.value.msg}, body
        assert http_get(port, "/health") == (200, b"ok\n")
        assert http_get(port, "/") == (404, b"not found\n")
    finally:
        stop_service(service)


@pytest.mark.parametrize(("upstreams", "extra", "message"), [
    ('[{"name": "a", "servers": []}]', [], error_of(nginx_status.check_upstreams, [{"name": "a", "servers": []}])),
    ("not json", [], "Expecting value: line 1 column 1 (char 0)"),
    (None, [], "No such file or directory"),
    ("[]", ["--capacity", "0"], error_of(nginx_status.check_capacity, 0)),
    ("[]", ["--status-url", "https://127.0.0.1:8079/stub_status"],
     error_of(nginx_status.parse_status_url, "https://127.0.0.1:8079/stub_status")),
    ("[]", ["--timeout", "0"], error_of(nginx_status.check_timeout, 0.0)),
    ("[]", ["--listen", "127.0.0.1"], "not an address:port, such as 127.0.0.1:8077: '127.0.0.1'"),
], ids=["empty-servers", "not-json", "no-file", "capacity-0", "https", "timeout-0", "no-port"])
def test_a_bad_setting_stops_the_service_with_its_message(tmp_path, upstreams, extra, message):
    directory = install(tmp_path / "app")
    upstreams_file = directory / "upstreams.json"
    if upstreams is not None:
        upstreams_file.write_text(upstreams, encoding="utf-8")
    # Later arguments win: each case's own setting replaces the good one.
    result = subprocess.run(service_command(directory, free_closed_port(), "http://127.0.0.1:8079/stub_status",
                                            upstreams_file, *extra),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2, result
    assert message in result.stderr, result.stderr
