"""Fixtures for the default scenario's tests: one container per Debian release."""

import os
import sys
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "support"))

import wsn_e2e  # noqa: E402  (needs the path above)

SCENARIO_DIR = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("websocket_proxies")


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
