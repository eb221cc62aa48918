"""websocket.nginx.nginx_exporter on the proxy (apply_exporter.yml, imported by converge.yml).

Debian's prometheus-nginx-exporter answers on its address inside the container with nginx's stub_status as
Prometheus metrics, and nginx_connections_active follows WebSockets opened and closed through the proxy; the
per-backend counter's file counts each backend's WebSockets; a re-run with the same variables restarts nothing,
and a changed address restarts the exporter there. Every scrape is a plain HTTP GET from inside the container
(python3's urllib through testinfra), as a Prometheus server would send.
"""

import contextlib
import json
import re
import socket
import time
from collections import Counter
from pathlib import Path

import pytest
import testinfra
from conftest import BACKENDS, INVENTORY, PROXY, open_ws
from wsn_e2e import container_address, get_inside, run_playbook

APPLY = Path(__file__).resolve().parents[1] / "apply_exporter.yml"
SERVICE = "prometheus-nginx-exporter"
METRICS = "http://127.0.0.1:9113/metrics"     # the role's default listen and path
TEXTFILE = "/var/lib/prometheus/node-exporter/websocket_nginx.prom"
ECHO_PORT = 8765
OPENED = 6
NGINX_METRICS = ("nginx_connections_accepted", "nginx_connections_active", "nginx_connections_handled",
                 "nginx_connections_reading", "nginx_connections_waiting", "nginx_connections_writing",
                 "nginx_http_requests_total", "nginx_up")


@pytest.fixture(scope="module")
def proxy_host():
    return testinfra.get_host(f"ansible://{PROXY}?ansible_inventory={INVENTORY}")


def samples(text):
    """``{(metric, labels): value}`` of a Prometheus text exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)", line)
            assert match, line
            found[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return found


def scrape(proxy_host, url=METRICS):
    status, body = get_inside(proxy_host, url)
    assert status == "200", (url, status, body)
    return samples(body)


def wait_until(condition, timeout, what):
    """Poll ``condition`` (bounded); its last value once it is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.5)


def main_pid(proxy_host):
    return int(proxy_host.check_output(f"systemctl show --property=MainPID --value {SERVICE}"))


def test_the_exporter_runs_with_the_flags_of_its_version(proxy_host):
    assert proxy_host.service(SERVICE).is_running and proxy_host.service(SERVICE).is_enabled
    version = proxy_host.check_output("dpkg-query --show --showformat '${Version}' " + SERVICE)
    dashes = "-" if version.startswith("0.") else "--"       # 0.11 on Debian 12, 1.4 on Debian 13
    arguments = proxy_host.file(f"/etc/default/{SERVICE}").content_string
    assert f'ARGS="{dashes}nginx.scrape-uri=http://127.0.0.1:8079/stub_status ' \
           f'{dashes}web.listen-address=127.0.0.1:9113 {dashes}web.telemetry-path=/metrics' in arguments, arguments
    # The running process got them (systemd split $ARGS into words).
    command = proxy_host.check_output(f"cat /proc/{main_pid(proxy_host)}/cmdline | tr '\\0' ' '")
    assert f"{dashes}web.listen-address=127.0.0.1:9113" in command, command


def test_the_exporter_answers_on_its_address_with_the_nginx_metrics(proxy_host):
    metrics = scrape(proxy_host)
    for name in NGINX_METRICS:
        assert (name, "") in metrics, (name, sorted(metrics))
    assert metrics[("nginx_up", "")] == 1
    assert metrics[("nginx_connections_active", "")] >= 1        # at least the exporter's own request
    assert metrics[("nginx_connections_handled", "")] <= metrics[("nginx_connections_accepted", "")]


def test_the_exporter_is_not_reachable_from_outside_the_host(proxy_host):
    """127.0.0.1:9113 by default: another host (here the machine running the containers) is refused."""
    with socket.socket() as sock:
        sock.settimeout(5)
        assert sock.connect_ex((container_address(PROXY), 9113)) != 0
    assert scrape(proxy_host)[("nginx_up", "")] == 1                       # the control: it does listen


def test_nginx_connections_active_follows_websockets(proxy_host, ws_base):
    before = scrape(proxy_host)[("nginx_connections_active", "")]
    with contextlib.ExitStack() as stack:
        for _index in range(OPENED):
            ws, _backend = open_ws(ws_base, "/rr/")
            stack.callback(ws.close)
        # Each open WebSocket is an active client connection (and a writing one: nginx relays it).
        opened = scrape(proxy_host)
        assert opened[("nginx_connections_active", "")] >= before + OPENED, (before, opened)
        assert opened[("nginx_connections_writing", "")] >= OPENED, opened
    # Closed: nginx counts them no more (other traffic may come and go meanwhile, but not six connections).
    wait_until(lambda: scrape(proxy_host)[("nginx_connections_active", "")] <= opened[("nginx_connections_active", "")]
               - OPENED, 10, "nginx_connections_active back down after the WebSockets closed")


def backend_counts(proxy_host, addresses):
    """``{backend: connections from nginx's current workers}`` from the counter's file (0 when a backend has none)."""
    metrics = samples(proxy_host.file(TEXTFILE).content_string)
    return {backend: metrics.get(("nginx_status_upstream_connections",
                                  f'{{upstream="",server="{address}:{ECHO_PORT}",workers="current"}}'), 0)
            for backend, address in addresses.items()}


def test_the_counter_writes_websockets_per_backend(proxy_host, ws_base):
    """The timer (every 2 s here) replaces the file; each backend's count follows its WebSockets."""
    timer = proxy_host.service("websocket-nginx-textfile.timer")
    assert timer.is_running and timer.is_enabled
    textfile = proxy_host.file(TEXTFILE)
    assert textfile.exists and textfile.mode == 0o644 and textfile.user == "root"
    addresses = {backend: container_address(backend) for backend in BACKENDS}
    before = backend_counts(proxy_host, addresses)
    with contextlib.ExitStack() as stack:
        names = []
        for _index in range(OPENED):
            ws, backend = open_ws(ws_base, "/rr/")
            stack.callback(ws.close)
            names.append(backend)
        opened = Counter(names)

        def counted_them():
            counts = backend_counts(proxy_host, addresses)
            return counts if all(counts[name] >= before[name] + opened[name] for name in BACKENDS) else None

        during = wait_until(counted_them, 20, f"the counter's file counting {dict(opened)} more WebSockets than {before}")
        metrics = samples(proxy_host.file(TEXTFILE).content_string)
        assert metrics[("nginx_status_websockets", '{workers="current"}')] >= OPENED, metrics
        assert metrics[("nginx_status_websocket_capacity", "")] == 10000      # the nginx role's default
    wait_until(lambda: all(count <= during[backend] - opened[backend]
                           for backend, count in backend_counts(proxy_host, addresses).items()),
               20, f"the counter's file counting the {OPENED} WebSockets no more")


def apply(*extra):
    result = run_playbook(APPLY, *extra, inventory=INVENTORY)
    assert result.returncode == 0, result.stdout + result.stderr
    recap = result.stdout[result.stdout.index("PLAY RECAP"):]
    (line,) = [line for line in recap.splitlines() if line.startswith(f"{PROXY} ")]
    return int(re.search(r"changed=(\d+)", line).group(1)), result.stdout


def test_the_exporter_is_restarted_only_when_its_arguments_change(proxy_host):
    pid = main_pid(proxy_host)
    changed, output = apply()
    assert changed == 0 and main_pid(proxy_host) == pid, output
    try:
        changed, output = apply("-e", json.dumps({"nginx_exporter_listen": "127.0.0.1:9114"}))
        assert changed >= 1 and main_pid(proxy_host) != pid, output
        assert scrape(proxy_host, "http://127.0.0.1:9114/metrics")[("nginx_up", "")] == 1
        assert get_inside(proxy_host, METRICS)[0].startswith("error"), "9113 still answers"
    finally:
        changed, output = apply()
    assert changed >= 1, output
    assert scrape(proxy_host)[("nginx_up", "")] == 1
