"""Fixtures for the default scenario's tests: one container per Debian release."""

import os
import sys
import time
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "support"))

import wsn_e2e  # noqa: E402  (needs the path above)

SCENARIO_DIR = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("websocket_proxies")


# Last: the idle check, then what ends every WebSocket: test_upstream_health.py stops the echo backend; then
# test_upgrades.py, which closes the idle WebSockets (nginx moves to one binary at a time: an old master that
# still holds WebSockets from an earlier move would hold up the next).
LAST = {"test_idle_websocket.py": 1, "test_upstream_health.py": 2, "test_services.py": 3, "test_upgrades.py": 4}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: LAST.get(Path(str(item.fspath)).name, 0))  # stable: the rest keep their order


@pytest.fixture(scope="session", autouse=True)
def idle_websockets():
    """WebSockets opened before the first test and left idle, for test_idle_websocket.py: on /ws/ and on a
    location with a 3 s read timeout, on each proxy. That test runs after the others but the two that end
    every WebSocket (LAST above), so they stay idle through every reload and rollback of those, and its
    wait overlaps them."""
    sockets = {"ws": {}, "short": {}}
    try:
        for host in HOSTS:
            sockets["ws"][host] = wsn_e2e.ws_connect(f"{wsn_e2e.base_url(host, scheme='ws')}/ws/")
            sockets["short"][host] = wsn_e2e.ws_connect(f"{wsn_e2e.base_url(host, scheme='ws')}/ws-short-timeout/")
        for kind in sockets.values():
            for host, ws in kind.items():
                ws.send(f"before idle on {host}")
                assert ws.recv(timeout=10) == f"before idle on {host}"
        yield dict(sockets, since=time.monotonic())
    finally:
        for kind in sockets.values():
            for ws in kind.values():
                ws.close()


@pytest.fixture(params=HOSTS)
def proxy(request):
    """Name of a proxy container; its nginx is reached on a published loopback port."""
    return request.param


@pytest.fixture
def http_base(proxy):
    return wsn_e2e.base_url(proxy)


@pytest.fixture
def ws_base(proxy):
    return wsn_e2e.base_url(proxy, scheme="ws")


@pytest.fixture
def apply_site_change(proxy):
    """Re-apply websocket_proxy on one host with a change to the demo site (or the site at
    molecule_site_index); undone afterwards by applying each changed site as the scenario has it."""
    applied = []

    def apply(change, **role_variables):
        index = role_variables.get("molecule_site_index", 0)
        if index not in applied:
            applied.append(index)
        # -v: the tests read the transaction's result (task_result).
        return wsn_e2e.run_playbook(
            SCENARIO_DIR / "apply_site_change.yml", "--limit", proxy, "-v",
            extra_vars={"molecule_site_change": change, **role_variables},
        )

    # For a test that has shown the change left nothing behind (a rejected change): no re-run needed.
    apply.nothing_to_undo = applied.clear
    yield apply
    for index in applied:
        restored = wsn_e2e.run_playbook(SCENARIO_DIR / "apply_site_change.yml", "--limit", proxy,
                                        extra_vars={"molecule_site_index": index})
        assert restored.returncode == 0, restored.stdout + restored.stderr


@pytest.fixture
def container(proxy):
    """testinfra host for running commands inside the proxy container."""
    return testinfra.get_host(f"ansible://{proxy}?ansible_inventory={INVENTORY}")
