"""upstream_health against the real echo backend, running and stopped."""

import pytest
from conftest import SCENARIO_DIR
from wsn_e2e import base_url, echo_stopped, run_playbook, task_result, ws_connect

HEALTH_PLAYBOOK = SCENARIO_DIR.parents[2] / "playbooks" / "health.yml"
SITE_FILE = "/etc/nginx/conf.d/websocket-proxy-demo.conf"


@pytest.fixture
def stopped_backend(proxy):
    with echo_stopped(proxy, timeout=10):
        yield


def test_health_playbook_reports_the_running_backend_healthy(proxy):
    result = run_playbook(HEALTH_PLAYBOOK, "--limit", proxy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "echo_backend: 1 healthy, 0 unhealthy" in result.stdout
    assert "127.0.0.1:8765 healthy" in result.stdout


def test_stopped_backend_is_reported_at_the_connect_stage(proxy, stopped_backend):
    result = run_playbook(HEALTH_PLAYBOOK, "--limit", proxy, extra_vars={"health_min_healthy": 1})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "min_healthy 1 not met: 0 of 1 servers healthy" in output
    assert "127.0.0.1:8765 (stage connect:" in output


def test_role_refuses_an_upstream_without_healthy_server(proxy, container, apply_site_change, stopped_backend):
    # apply_site_change before stopped_backend: the backend is up again when the site is restored.
    before = container.file(SITE_FILE).content_string
    result = apply_site_change({"proxy_locations": [{"path": "/refused/", "upstream": "echo_backend"}]})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert ("The upstream check before the change failed, so nothing was changed: upstream echo_backend: 0 of 1 servers "
            "healthy (1 required): 127.0.0.1:8765 failed at stage connect") in output, output
    assert container.file(SITE_FILE).content_string == before  # nothing was written...
    apply_site_change.nothing_to_undo()  # ...so nothing to put back


def test_role_goes_ahead_when_unhealthy_upstreams_are_allowed(proxy, container, apply_site_change, stopped_backend):
    # The check through nginx is a switch of its own (test_config_changes shows it still runs);
    # with the only backend stopped it would fail, so it is turned off here.
    result = apply_site_change({"proxy_locations": [{"path": "/allowed/", "upstream": "echo_backend"}]},
                               websocket_proxy_allow_unhealthy_upstreams=True,
                               websocket_proxy_check_through_proxy=False)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    assert "upstream echo_backend: 1 of 1 servers unhealthy: 127.0.0.1:8765" in output  # reported
    assert "location /allowed/ {" in container.file(SITE_FILE).content_string


def test_role_checks_websocket_echo_through_the_proxy(proxy, apply_site_change):
    # Echo only where asked (the default check is the handshake); the query reaches the backend.
    result = apply_site_change({"websocket_locations": [
        {"path": "/ws-added/", "upstream": "echo_backend", "check": {"path": "/ws-added/?probe=1", "echo": True}}]})
    assert result.returncode == 0, result.stdout + result.stderr
    checks = task_result(result.stdout, "check through it", proxy)["proxy_checks"]
    [added] = [check for check in checks if check["location"] == "/ws-added/"]
    assert (added["path"], added["echo"], added["healthy"]) == ("/ws-added/?probe=1", True, 1), added
    with ws_connect(f"{base_url(proxy, scheme='ws')}/ws-added/") as ws:
        ws.send("through the added location")
        assert ws.recv(timeout=10) == "through the added location"
