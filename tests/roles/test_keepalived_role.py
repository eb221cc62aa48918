"""Smoke tests of the keepalived role's wiring, in the style of test_nginx_exporter_role.py: a bad variable stops
the play in the role's first task, before any change, with the model's own message; ``-e`` strings reach the model;
the inventory's other proxies and the websocket_proxy role's registered checks reach it; role_config reads the host
in one module call.

Every message of the model is unit-tested (tests/unit/plugins/plugin_utils/test_keepalived_model.py). The role
runs against localhost in check mode, so even a validation gap could not change this machine. localhost is the
first proxy of a three-proxy group; its VRRP address is one this machine really has (the interface is read on
the host), the two other proxies are inventory entries that are never contacted.
"""

import json
import re
import sys

import pytest

from test_bad_variables import REPO, ansible_playbook, one_line, recap, results

sys.path.insert(0, str(REPO / ".venv" / "collections"))

from ansible_collections.websocket.nginx.plugins.modules.role_host_info import network_interfaces  # noqa: E402

ROLE = "keepalived"
# The role's tasks after its variables were checked (the install ones are skipped where keepalived is installed).
AFTER_VALIDATION = ("Install the keepalived package",
                    "Write keepalived's configuration and scripts, run keepalived and reload it when they changed")
VIP = "203.0.113.10/24"
CHECKS = [{"address": "127.0.0.1:80", "path": "/ws/"}]


def own_address():
    """An IPv4 address of this machine on an interface other than lo, and that interface."""
    for name, addresses in sorted(network_interfaces().items()):
        for address in addresses["ipv4"]:
            if name != "lo" and not address.startswith(("127.", "169.254.")):
                return address.split("/")[0], name
    pytest.skip("this machine has no IPv4 address but loopback ones: no VRRP address to test with")
    return None, None


def inventory(address):
    return ("[websocket_proxies]\n"
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable} "
            f"keepalived_address={address}\n"
            "proxy2 ansible_host=203.0.113.212\n"
            "proxy3 ansible_host=proxy3.example.com keepalived_address=203.0.113.213\n")


def play(tmp_path, tasks=None, play_vars=None):
    """A play on localhost: the role (or ``tasks``)."""
    body = {"hosts": "localhost", "gather_facts": False, "vars": play_vars or {}}
    if tasks is None:
        body["roles"] = [{"role": f"websocket.nginx.{ROLE}"}]
    else:
        body["tasks"] = tasks
    path = tmp_path / "play.yml"
    path.write_text(json.dumps([body]))
    return path


def run_role(tmp_path, variables, *args):
    address, _interface = own_address()
    extra = {"keepalived_virtual_addresses": [VIP], "keepalived_track_checks": CHECKS, **variables}
    return ansible_playbook(tmp_path, play(tmp_path), inventory(address), "-e", json.dumps(extra), *args)


INVALID = [
    pytest.param({"keepalived_virtual_addresses": ["vip.example.com/24"]},
                 ['keepalived_virtual_addresses: "vip.example.com/24" must be an IP address with its prefix length, '
                  'such as 192.0.2.10/24 or 2001:db8::10/64 (a host name is not taken)'], id="vip-host-name"),
    pytest.param({"keepalived_unicast_peers": ["proxy9"]},
                 ['keepalived_unicast_peers: "proxy9" is not a proxy of the group "websocket_proxies" '
                  '(keepalived_group)'], id="peer-not-in-group"),
    pytest.param({"keepalived_interface": "nosuch0"},
                 [Ellipsis, 'keepalived_interface "nosuch0" is not an interface of this host; it has: '],
                 id="interface-missing"),
    pytest.param({"keepalived_vrrp_version": "3", "keepalived_auth_pass": "secret"},
                 ["keepalived_auth_pass is set, but VRRP version 3 (keepalived_vrrp_version) has no authentication: "
                  "leave keepalived_auth_pass empty, or use version 2"], id="auth-pass-v3"),
    # Two variables, two problems: both reported, joined by "; ".
    pytest.param({"keepalived_virtual_router_id": 300, "keepalived_check_timeout": 9},
                 ['keepalived_virtual_router_id must be a number from 1 to 255 (the same on every proxy of the group, '
                  'used by no other VRRP router on the network), got "300"',
                  'keepalived_check_timeout (9 s) must be at most keepalived_check_interval x keepalived_check_fall '
                  '(2 s): a check that hangs longer would keep a failed proxy MASTER longer than the failures it takes '
                  'to give the address away'], id="two-problems"),
    # Nothing to check: no keepalived_track_checks, and websocket_proxy did not run in this play.
    pytest.param({"keepalived_track_checks": []},
                 ["keepalived_track_checks is empty and this host has no checks through nginx from the websocket_proxy "
                  "role: run websocket.nginx.websocket_proxy before this role in the same play (its WebSocket locations "
                  "with a check are checked), or set keepalived_track_checks"], id="no-checks"),
]


@pytest.mark.parametrize(("variables", "errors"), INVALID)
def test_invalid_variables_stop_the_play_before_any_change(variables, errors, tmp_path):
    returncode, output = run_role(tmp_path, variables)
    assert returncode == 2, output
    failed = results(output, "fatal")
    assert len(failed) == 1, output
    if errors[0] is Ellipsis:
        assert len(failed[0]["errors"]) == 1 and failed[0]["errors"][0].startswith(errors[1]), failed[0]
        assert "lo" in failed[0]["errors"][0]
    else:
        assert failed[0]["errors"] == errors
        assert failed[0]["msg"] == f"{ROLE}: invalid variables, nothing was changed: " + "; ".join(errors)
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output
    assert not any(name in output for name in AFTER_VALIDATION), output


def test_type_errors_are_found_by_ansible_before_the_model(tmp_path):
    returncode, output = run_role(tmp_path, {}, "-e", "keepalived_check_interval=1s")
    assert returncode == 2, output
    flat = one_line(output)
    assert "argument 'keepalived_check_interval' is of type str and we were unable to convert to int" in flat
    assert "invalid variables, nothing was changed" not in output
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output


def test_a_missing_virtual_address_stops_the_play_with_the_models_message(tmp_path):
    address, _interface = own_address()
    extra = json.dumps({"keepalived_track_checks": CHECKS})
    returncode, output = ansible_playbook(tmp_path, play(tmp_path), inventory(address), "-e", extra)
    assert returncode == 2, output
    (failed,) = results(output, "fatal")
    assert failed["errors"] == ["keepalived_virtual_addresses must list at least one address with its prefix length, "
                                "such as 192.0.2.10/24: the floating address the proxies share"]
    assert recap(output)["changed"] == "0", output


def model_of(tmp_path, extra, play_vars=None):
    """The role's first task alone (role_config, as the role calls it) against localhost in check mode with
    -vvv: its result and the modules each task put on the host."""
    address, interface = own_address()
    task = {"name": "model", "websocket.nginx.role_config": {
        "role": ROLE, "proxy_checks": "{{ websocket_proxy_model.config.proxy_checks | default([]) }}"}}
    arguments = [argument for value in extra for argument in ("-e", value)]
    _returncode, output = ansible_playbook(tmp_path, play(tmp_path, [task], play_vars), inventory(address), "-vvv",
                                           *arguments)
    calls, current = {}, None
    for line in output.splitlines():
        header = re.match(r"TASK \[(.*)\] \*+", line)
        if header:
            current = header.group(1)
            calls[current] = []
        module = re.search(r"/AnsiballZ_([a-z0-9_]+)\.py\b", line)
        if current and module and " PUT " in line:
            calls[current].append(module.group(1))
    decoder = json.JSONDecoder()
    found = [decoder.raw_decode(output, match.end() - 1)[0]
             for match in re.finditer(r"^ok: \[localhost\] => \{", output, re.MULTILINE)]
    found = [result for result in found if "config" in result]
    assert len(found) == 1, output
    return found[0], calls, output, address, interface


def test_extra_var_strings_and_the_inventory_reach_the_model(tmp_path):
    """``-e name=value`` gives strings: "8" is 8, "true" is true; the other proxies come from the inventory."""
    result, calls, output, address, interface = model_of(tmp_path, [
        json.dumps({"keepalived_virtual_addresses": [VIP], "keepalived_track_checks": CHECKS}),
        "keepalived_virtual_router_id=8", "keepalived_preempt=true", "keepalived_priority=99",
        "keepalived_check_interval=3", "keepalived_check_fall=1", "keepalived_check_timeout=3",
        "keepalived_service_enabled=false"])
    assert calls == {"model": ["role_host_info"]}, output
    config = result["config"]
    assert (config["virtual_router_id"], config["preempt"], config["priority"], config["priority_from"]) == (
        8, True, 99, "set")
    assert (config["check_interval"], config["check_fall"], config["check_timeout"]) == (3, 1, 3)
    assert config["service_enabled"] is False
    assert (config["address"], config["interface"]) == (address, interface)
    assert config["peers"] == [{"host": "proxy2", "address": "203.0.113.212"},
                               {"host": "proxy3", "address": "203.0.113.213"}]
    assert config["track_checks_from"] == "keepalived_track_checks"
    assert config["virtual_addresses"] == [VIP]


def test_role_config_reads_the_host_in_one_call(tmp_path):
    """The interfaces and the installed package come from one role_host_info call; the interface holding
    keepalived_address is the one found there; priority auto follows the group (localhost is first)."""
    result, calls, output, address, interface = model_of(tmp_path, [
        json.dumps({"keepalived_virtual_addresses": [VIP], "keepalived_track_checks": CHECKS})])
    assert calls == {"model": ["role_host_info"]}, output
    host = result["host"]
    assert set(host["packages"]) == {"keepalived"}
    assert "127.0.0.1/8" in host["interfaces"]["lo"]["ipv4"]
    assert any(item.startswith(address + "/") for item in host["interfaces"][interface]["ipv4"])
    assert (result["config"]["priority"], result["config"]["priority_from"]) == (150, "auto")


def test_the_websocket_proxy_checks_of_the_play_are_used(tmp_path):
    """keepalived_track_checks empty: the checks websocket_proxy registered (websocket_proxy_model) are run."""
    registered = {"config": {"proxy_checks": [
        {"site": "chat", "location": "/ws/", "path": "/ws/", "address": "127.0.0.1:8080", "host_header": "chat.test",
         "echo": True, "subprotocols": None, "timeout": 5.0, "tls": False, "ca_path": None, "origin": None}]}}
    result, _calls, output, _address, _interface = model_of(
        tmp_path, [json.dumps({"keepalived_virtual_addresses": [VIP]})], {"websocket_proxy_model": registered})
    config = result["config"]
    assert config["track_checks_from"] == "websocket_proxy", output
    assert [(check["site"], check["address"], check["echo"]) for check in config["track_checks"]] == [
        ("chat", "127.0.0.1:8080", True)]
    # The settings file as the role writes it is JSON (not a Python literal Ansible could turn into a dict).
    assert json.loads(config["track_settings_json"])["checks"] == config["track_checks"]


def test_valid_variables_pass_validation(tmp_path):
    """Control: the same harness as the invalid cases, good variables, gets past validation (check mode)."""
    _returncode, output = run_role(tmp_path, {})
    assert "invalid variables" not in output and "must be" not in output, output
    assert AFTER_VALIDATION[1] in output, output
