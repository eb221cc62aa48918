"""The status playbook on localhost as the proxy, against a real nginx in a temporary directory
(tests/unit/status_proxy.py) with real WebSockets through it: it reads the capacity and the status
address from the nginx role's model and the upstreams, with which of them carry WebSockets, from the
websocket_proxy role's model (given with -e, as an inventory would), makes one proxy_status call and
prints its table. Each bad -e value stops the play with its own message before any host is read.

The module's figures are unit-tested (tests/unit/plugins/modules/test_proxy_status.py); the default
molecule scenario runs the playbook on the deployed proxies.
"""

import contextlib
import json
import os
import re
import subprocess
import sys

import pytest

from test_bad_variables import BASE_ENV, REPO, one_line

sys.path.insert(0, str(REPO / ".venv" / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.websocket.nginx.tests.unit.helpers import WebSocketServers, start_http_server  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.status_proxy import (  # noqa: E402
    StatusProxy, open_websockets, running)

pytestmark = [
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason=f"needs {NGINX} (make test-tools)"),
    pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                       reason="reads nginx's /proc/PID/fd, as root on Linux"),
]
REPORT_TASK = "TASK [Report how busy nginx is]"


@pytest.fixture(scope="module")
def servers():
    """The echo servers and the plain HTTP server on loopback: ``(WebSocketServers, HTTP port)``."""
    ws_servers = WebSocketServers()
    http_server, http_thread = start_http_server()
    try:
        yield ws_servers, http_server.server_address[1]
    finally:
        ws_servers.stop()
        http_server.shutdown()
        http_server.server_close()
        http_thread.join(5)


@pytest.fixture
def proxy(tmp_path, servers):
    """An nginx of the test's own: WebSockets a test closed may take a moment to leave nginx."""
    (tmp_path / "nginx").mkdir()
    with running(StatusProxy(tmp_path / "nginx", *servers)) as started:
        yield started


def site_variables(proxy, **variables):
    """The websocket_proxy site the test nginx runs (a WebSocket location per ws_* upstream, /plain/ a plain HTTP
    one) and its status address, as inventory variables."""
    upstreams = [{"name": name, "servers": [{"address": address}], "health_check": {"enabled": False}}
                 for name, address in proxy.servers.items()]
    site = {"name": "status", "listen": [proxy.proxy_port], "upstreams": upstreams,
            "websocket_locations": [{"path": f"/{name[3:]}/", "upstream": name} for name in proxy.servers
                                    if name.startswith("ws_")],
            "proxy_locations": [{"path": "/plain/", "upstream": "plain"}]}
    return json.dumps({"websocket_proxy_sites": [site], "nginx_status_listen": proxy.status_address, **variables})


def run_status(tmp_path, *extra_vars):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"[websocket_proxies]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    arguments = [argument for value in extra_vars for argument in ("-e", value)]
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(inventory), str(REPO / "playbooks" / "status.yml"),
         "-e", "ansible_become=false", *arguments],
        capture_output=True, text=True, env={**BASE_ENV, "ANSIBLE_STDOUT_CALLBACK": "default",
                                             "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
        timeout=300, check=False,
    )
    return result.returncode, result.stdout + result.stderr


def report(output):
    """The result of proxy_status on localhost, with ``status``: ok or fatal."""
    line = re.compile(r"^(ok|fatal): \[localhost\][^\n]*?=> \{", re.MULTILINE).search(output, output.index(REPORT_TASK))
    assert line is not None, output
    return dict(json.JSONDecoder().raw_decode(output, line.end() - 1)[0], status=line.group(1))


def test_one_report_from_the_roles_models_with_its_table_and_warning(proxy, tmp_path):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url("/a/"), 3)
        open_websockets(stack, proxy.url("/b/"), 1)
        returncode, output = run_status(tmp_path, site_variables(proxy), "nginx_websocket_capacity=5")
    assert returncode == 0, output
    result = report(output)
    assert result["status"] == "ok" and result["status_url"] == proxy.status_url
    assert (result["websockets"], result["capacity"], result["capacity_percent"]) == (4, 5, 80.0), result
    # Every upstream of the site, a WebSocket one when a WebSocket location uses it; plain serves /plain/.
    assert [(item["name"], item["websocket"], [server["address"] for server in item["servers"]], item["connections"])
            for item in result["upstreams"]] == [
        (name, name != "plain", [address], {"ws_a": 3, "ws_b": 1}.get(name, 0)) for name, address in proxy.servers.items()]
    # 80% of the capacity is the default status_warn_percent.
    assert ("[WARNING]: 4 open WebSockets use 80% of the capacity of 5 (the nginx role's nginx_websocket_capacity), "
            "at or above warn_percent 80") in one_line(output), output
    shown = output[output.index("TASK [Show the report]"):]
    for line in result["table"]:
        assert json.dumps(line) in shown, shown
    assert re.search(r"^localhost +: ok=6 +changed=0 +unreachable=0 +failed=0", output, re.MULTILINE), output


def test_status_fail_percent_given_as_a_string_fails_the_play_with_the_report(proxy, tmp_path):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url("/a/"), 2)
        returncode, output = run_status(tmp_path, site_variables(proxy), "nginx_websocket_capacity=4",
                                        "status_fail_percent=50", "status_warn_percent=90.5")
    assert returncode == 2, output
    result = report(output)
    assert result["status"] == "fatal" and (result["websockets"], result["capacity_percent"]) == (2, 50.0), result
    assert result["msg"] == ("2 open WebSockets use 50% of the capacity of 4 (the nginx role's nginx_websocket_capacity), "
                             "at or above fail_percent 50")
    assert "[WARNING]: 2 open WebSockets" not in output  # below status_warn_percent
    assert "TASK [Show the report]" not in output


NOT_FLOAT = "argument '%s' is of type str and we were unable to convert to float"
SHARE = "%s must be a number greater than 0 (a share of the capacity in percent), got %s"


@pytest.mark.parametrize(("variables", "message"), [
    pytest.param({"status_warn_percent": "most"}, NOT_FLOAT % "status_warn_percent", id="warn-not-a-number"),
    pytest.param({"status_fail_percent": "all"}, NOT_FLOAT % "status_fail_percent", id="fail-not-a-number"),
    pytest.param({"status_timeout": "5s"}, NOT_FLOAT % "status_timeout", id="timeout-not-a-number"),
    pytest.param({"status_warn_percent": "0"}, SHARE % ("status_warn_percent", "0"), id="warn-zero"),
    pytest.param({"status_fail_percent": -5}, SHARE % ("status_fail_percent", "-5"), id="fail-negative"),
])
def test_each_bad_value_stops_the_play_before_any_host_is_read(proxy, tmp_path, variables, message):
    returncode, output = run_status(tmp_path, site_variables(proxy), json.dumps(variables))
    assert returncode == 2, output
    assert message in one_line(output), output
    assert "TASK [Read the proxy's nginx and websocket_proxy models]" not in output


def test_an_nginx_without_its_status_page_is_said_so(proxy, tmp_path):
    returncode, output = run_status(tmp_path, site_variables(proxy, nginx_status_enabled=False))
    assert returncode == 2, output
    assert ("nginx_status_enabled is false on localhost: the report reads nginx's stub_status, which the nginx role "
            "serves on nginx_status_listen only when it is true") in one_line(output), output
    assert REPORT_TASK not in output
