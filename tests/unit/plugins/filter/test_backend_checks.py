"""The backend_checks filter: which checks of which proxy cover one backend (the site playbook's check of a
backend it changed, run from each proxy)."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.websocket.nginx.plugins.filter.backend_checks import backend_checks
from ansible_collections.websocket.nginx.plugins.plugin_utils import site_model

SITES = [{"name": "app", "upstreams": [{"name": "app_ws"}, {"name": "other", "servers": [{"address": "10.0.0.9:80"}]}],
          "websocket_locations": [{"path": "/ws/", "upstream": "app_ws"}, {"path": "/o/", "upstream": "other"}]}]
GROUPS = {"websocket_backends": ["backend-1", "backend-2"]}


def plan():
    """What role_config returns for websocket_proxy, built by the real model."""
    config = site_model.build({"websocket_proxy_sites": SITES}, None, GROUPS)
    return {"changed": False, "config": config.as_dict()}


def test_each_proxy_checks_only_the_backends_own_servers():
    found = backend_checks([["proxy-1", plan()], ["proxy-2", plan()]], "backend-2")
    assert [(item["proxy"], item["upstream"]) for item in found] == [("proxy-1", "app_ws"), ("proxy-2", "app_ws")]
    for item in found:
        assert item["upstream_health_args"]["servers"] == ["backend-2:8765"]


def test_a_backend_in_no_upstream_and_a_proxy_without_a_plan_give_nothing():
    assert backend_checks([["proxy-1", plan()]], "backend-9") == []
    # A proxy whose role_config was skipped (no "config") counts as none.
    assert backend_checks([["proxy-1", {"skipped": True}], ["proxy-2", None]], "backend-1") == []


@pytest.mark.parametrize("pairs", ["proxy-1", [["proxy-1"]], [["proxy-1", {}, {}]], ["ab"]])
def test_anything_but_pairs_is_refused(pairs):
    with pytest.raises(AnsibleFilterError, match="backend_checks: expected"):
        backend_checks(pairs, "backend-1")
