"""The site playbook's checks before a rollout, on localhost in check mode: a bad websocket_rollout_batches
value, or a bad variable of any one proxy, stops the run before any host changes (the rolling plays never
start). The rollout itself (batches, canary, stop at a failure, report) runs on three proxies in the fleet
scenario (extensions/molecule/fleet/tests/test_rolling.py).
"""

import json
import sys

import pytest

from test_bad_variables import REPO, ansible_playbook, one_line

SITE = REPO / "playbooks" / "site.yml"
LOCAL = f"ansible_connection=local ansible_python_interpreter={sys.executable}"
SITE_VARS = {"websocket_proxy_sites": [{"name": "app", "upstreams": [{"name": "app_ws", "servers": [{"address": "127.0.0.1:9"}]}],
                                        "websocket_locations": [{"path": "/ws/", "upstream": "app_ws"}]}]}


def inventory(**host_vars):
    lines = ["[websocket_proxies]"]
    for name in ("proxy-1", "proxy-2", "proxy-3"):
        extra = " ".join(f"{key}='{json.dumps(value)}'" for key, value in host_vars.get(name, {}).items())
        lines.append(f"{name} {LOCAL} {extra}".rstrip())
    return "\n".join(lines) + "\n"


def batch_message(value):
    return ('websocket_rollout_batches: each batch is a number of hosts (1 or more) or a percentage of the group (such '
            f'as "50%", more than 0 and at most 100), got {json.dumps(value)}')


@pytest.mark.parametrize(("batches", "bad"), [
    pytest.param([0], 0, id="zero"),
    pytest.param([1, "0%"], "0%", id="zero-percent"),
    pytest.param([1, "150%"], "150%", id="over-100-percent"),
    pytest.param(["one"], "one", id="a-word"),
    pytest.param([1, -2], -2, id="negative"),
])
def test_a_bad_batch_size_stops_the_run_before_any_change(batches, bad, tmp_path):
    returncode, output = ansible_playbook(tmp_path, SITE, inventory(), "-e", json.dumps(
        {**SITE_VARS, "websocket_rollout_batches": batches}))
    flat = one_line(output).replace('\\"', '"')  # ansible-core 2.17 prints the message JSON-escaped
    assert returncode == 2, output
    assert batch_message(bad) in flat, flat
    assert "PLAY [Deploy nginx as WebSocket proxy" not in output
    assert "changed=0" in output and "changed=1" not in output


def test_a_bad_variable_of_the_last_proxy_stops_the_run_before_the_canary_changes(tmp_path):
    """Also: -e websocket_rollout_batches=2 gives the string "2", which passes the batch check."""
    good = SITE_VARS["websocket_proxy_sites"]
    bad = [{**good[0], "listen": ["99999"]}]
    hosts = {"proxy-1": {"websocket_proxy_sites": good}, "proxy-2": {"websocket_proxy_sites": good},
             "proxy-3": {"websocket_proxy_sites": bad}}
    returncode, output = ansible_playbook(tmp_path, SITE, inventory(**hosts), "-e", "websocket_rollout_batches=2")
    flat = one_line(output)
    assert returncode == 2, output
    assert "websocket_rollout_batches:" not in flat, flat
    assert "fatal: [proxy-3]" in output and "fatal: [proxy-1]" not in output and "fatal: [proxy-2]" not in output
    assert "websocket_proxy: invalid variables, nothing was changed" in flat and "99999" in flat, flat
    # The rolling plays never started: not even the canary changed.
    assert "PLAY [Deploy nginx as WebSocket proxy" not in output
