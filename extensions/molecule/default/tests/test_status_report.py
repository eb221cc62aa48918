"""The status playbook (websocket.nginx.status) on the deployed proxies, with WebSockets of the test's own open
through them: open WebSockets and their share of the capacity, the connections per backend, the warning and the
failure at a small capacity, and old workers draining after a reload.

The scenario's upstreams all reach the one echo backend of each container, 127.0.0.1:8765, except secure_loop,
which is nginx's own TLS site on 127.0.0.1:443. On each proxy the test opens WEBSOCKETS on /ws/ (echo_backend:
one connection to 8765 each) and VIA_TLS on /via-tls/ (secure_loop, then the TLS site's echo_secure: one connection
to 443 and one to 8765 each, both WebSockets as nginx holds them). The only other WebSockets through nginx at this
point are conftest.idle_websockets' (at most OTHERS per proxy). Every playbook run covers both proxies at once."""

import re
import time

import pytest
from conftest import HOSTS, SCENARIO_DIR
from wsn_e2e import base_url, docker_exec, run_playbook, task_result, ws_connect

STATUS_PLAYBOOK = SCENARIO_DIR.parents[2] / "playbooks" / "status.yml"
REPORT = "TASK [Report how busy nginx is]"
WEBSOCKETS = 4
VIA_TLS = 2
OTHERS = 2  # conftest.idle_websockets: /ws/ and /ws-short-timeout/ (nginx closes the second after 3 s idle)
ECHO = "127.0.0.1:8765"
TLS_SITE = "127.0.0.1:443"
CAPACITY = 10  # the test's 8 WebSockets (up to 10 with the idle ones) are 80% or more of it


@pytest.fixture(scope="module")
def open_websockets():
    """The test's WebSockets on every proxy, each shown to echo; closed at the end of the file."""
    sockets = []
    try:
        for host in HOSTS:
            base = base_url(host, scheme="ws")
            for path, count in (("/ws/", WEBSOCKETS), ("/via-tls/", VIA_TLS)):
                for index in range(count):
                    ws = ws_connect(f"{base}{path}")
                    sockets.append(ws)
                    ws.send(f"status report {index} on {host}")
                    assert ws.recv(timeout=10) == f"status report {index} on {host}"
        yield sockets
    finally:
        for ws in sockets:
            ws.close()


def run_status(**extra_vars):
    """The status playbook on both proxies, with -v (each result as JSON): (return code, output)."""
    result = run_playbook(STATUS_PLAYBOOK, "-v", extra_vars=extra_vars)
    return result.returncode, result.stdout + result.stderr


def servers(report):
    """Server address -> (open connections, on old workers), one entry per address however many upstreams list it."""
    return {server["address"]: (server["connections"], server["on_old_workers"])
            for upstream in report["upstreams"] for server in upstream["servers"]}


def test_open_websockets_per_backend_and_the_capacity_warning(open_websockets):  # pylint: disable=unused-argument
    returncode, output = run_status(nginx_websocket_capacity=str(CAPACITY))  # as -e gives it
    assert returncode == 0, output
    flat = " ".join(output.split())
    for host in HOSTS:
        report = task_result(output, REPORT, host)
        by_server = servers(report)
        # Only the test's own WebSockets use nginx's TLS site as an upstream; the backend has them all, and the
        # idle ones.
        assert by_server[TLS_SITE][0] == VIA_TLS, report["upstreams"]
        assert WEBSOCKETS + VIA_TLS <= by_server[ECHO][0] <= WEBSOCKETS + VIA_TLS + OTHERS, report["upstreams"]
        # Each address once, though echo_backend, echo_capped and echo_secure all list 8765.
        assert report["websockets"] == by_server[ECHO][0] + by_server[TLS_SITE][0]
        assert WEBSOCKETS + 2 * VIA_TLS <= report["websockets"] <= WEBSOCKETS + 2 * VIA_TLS + OTHERS
        assert report["capacity"] == CAPACITY
        assert report["capacity_percent"] == round(100.0 * report["websockets"] / CAPACITY, 1)
        # From the websocket_proxy role's model: each of these is used by a WebSocket location.
        carries = {upstream["name"]: upstream["websocket"] for upstream in report["upstreams"]}
        assert carries.items() >= {"echo_backend": True, "secure_loop": True, "echo_capped": True,
                                   "echo_secure": True}.items(), carries
        echo_backend = next(upstream for upstream in report["upstreams"] if upstream["name"] == "echo_backend")
        assert set(echo_backend["servers"][0]["shared_with"]) >= {"echo_capped", "echo_secure"}, echo_backend
        # Clients: the test's on port 80 and nginx's own on 443 for /via-tls/ (and others, such as the idle ones or
        # keep-alive connections to the status server).
        assert report["client_connections"] >= WEBSOCKETS + 2 * VIA_TLS
        assert report["dropped"] == 0 and report["workers"]["count"] >= 1 and report["masters"][0]["rss_bytes"] > 0
        # The warning, at the default status_warn_percent of 80, and the table the play prints.
        assert (f"[WARNING]: {report['websockets']} open WebSockets use {report['capacity_percent']:g}% of the "
                f"capacity of {CAPACITY} (the nginx role's nginx_websocket_capacity), at or above warn_percent 80"
                in flat), output
        assert report["table"][0].startswith(f"WebSockets open: {report['websockets']} of a capacity of {CAPACITY} (")
        shown = task_result(output, "TASK [Show the report]", host)
        assert shown["msg"] == report["table"]


def test_status_fail_percent_fails_the_play_with_the_message(open_websockets):  # pylint: disable=unused-argument
    returncode, output = run_status(nginx_websocket_capacity=CAPACITY, status_fail_percent="50")
    assert returncode == 2, output
    for host in HOSTS:
        report = task_result(output, REPORT, host)
        assert report["msg"] == (
            f"{report['websockets']} open WebSockets use {report['capacity_percent']:g}% of the capacity of {CAPACITY} "
            "(the nginx role's nginx_websocket_capacity), at or above fail_percent 50"), report
        assert report["websockets"] >= WEBSOCKETS + 2 * VIA_TLS and "table" in report
    assert "TASK [Show the report]" not in output
    assert re.search(r"failed=1", output[output.index("PLAY RECAP"):]), output


# Process titles in the container, as nginx writes them over its command line (NUL-padded).
TITLES = ("import os\nfor pid in filter(str.isdigit, os.listdir('/proc')):\n    try:\n"
          "        print(pid, open('/proc/%s/cmdline' % pid, 'rb').read().strip(b'\\0 ').replace(b'\\0', b' ').decode(errors='replace'))\n"
          "    except OSError:\n        pass\n")


def worker_pids(host, title):
    """PIDs (as text) of the container's processes titled exactly ``title``."""
    code, output = docker_exec(host, "python3", "-c", TITLES)
    assert code == 0, output
    return {line.split(" ", 1)[0] for line in output.splitlines() if line.partition(" ")[2] == title}


def test_after_a_reload_the_old_workers_drain_with_the_websockets(open_websockets):  # pylint: disable=unused-argument
    """Last in this file: the test's WebSockets stay on the old workers until the file's end closes them."""
    before = {host: worker_pids(host, "nginx: worker process") for host in HOSTS}
    for host in HOSTS:
        code, output = docker_exec(host, "nginx", "-s", "reload")
        assert code == 0, output
    deadline = time.monotonic() + 20
    while any(worker_pids(host, "nginx: worker process") & before[host] for host in HOSTS):
        assert time.monotonic() < deadline, "the workers from before the reload still accept connections"
        time.sleep(0.2)
    returncode, output = run_status()
    assert returncode == 0, output
    for host in HOSTS:
        report = task_result(output, REPORT, host)
        old = report["old_workers"]
        # The workers that held the test's WebSockets, still draining (others from earlier reloads may be there too).
        pids = set(map(str, old["pids"]))
        assert old["count"] == len(pids) >= 1 and pids & before[host], (old, before[host])
        assert worker_pids(host, "nginx: worker process is shutting down") <= pids, old
        assert old["rss_bytes"] > 0
        assert old["websockets"] >= WEBSOCKETS + 2 * VIA_TLS and old["client_connections"] >= WEBSOCKETS + 2 * VIA_TLS
        by_server = servers(report)
        assert by_server[TLS_SITE] == (VIA_TLS, VIA_TLS), report["upstreams"]
        assert by_server[ECHO][1] >= WEBSOCKETS + VIA_TLS, report["upstreams"]
        assert "old worker" in report["table"][3] and "draining" in report["table"][3], report["table"]
    for ws in open_websockets:  # and they still echo, from the old workers
        ws.send("after the reload")
        assert ws.recv(timeout=10) == "after the reload"
