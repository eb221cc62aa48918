"""Smoke tests of the wiring: a role's variables are checked before anything on the host changes.

Every message of the models is unit-tested (tests/unit/plugins/plugin_utils); here a few
ansible-playbook runs prove, end to end, that:

- each role's first task (websocket.nginx.role_config) stops the play with the model's
  messages, as "<role>: invalid variables, nothing was changed: <errors joined by '; '>",
  with changed=0 and failed=1;
- ansible's own argument-spec validation (type errors) runs before it;
- good variables get past validation, including numbers and booleans given as ``-e`` strings;
- the drain playbook refuses a bad request in its first play.

The roles run against localhost in check mode, so even a validation gap could not change
this machine.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".venv" / "collections"))

from ansible_collections.websocket.nginx.tests.unit.helpers import ansible_wording  # noqa: E402

GOOD_SITE = {
    "name": "demo",
    "upstreams": [{"name": "echo", "servers": [{"address": "127.0.0.1:8765"}]}],
    "websocket_locations": [{"path": "/ws/", "upstream": "echo"}],
    "static_locations": [{"path": "/", "root": "/var/www/demo"}],
}
# The first task of each role after its variables were checked.
FIRST_TASK_AFTER_VALIDATION = {
    "nginx": "Write nginx.conf and remove the default site, tested with nginx -t",
    "websocket_proxy": "Check the upstreams, write the sites, test them, reload nginx and check through it",
    "echo_backend": "Install the echo server and its systemd unit, run it as asked and check its health URL",
}
# The repository's ansible.cfg puts this checkout on the collections path (whatever the working
# directory); a collections path from the caller's environment would win over it, so it is dropped.
BASE_ENV = {**{name: value for name, value in os.environ.items() if name != "ANSIBLE_COLLECTIONS_PATH"},
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
ENV = {**BASE_ENV, "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}


def one_line(output):
    """``output`` on one line, worded as ansible-core 2.19 and later word it (make compat runs these tests with 2.17)."""
    return ansible_wording(" ".join(output.split()))


def site(**changes):
    return [{**GOOD_SITE, **changes}]


def ansible_playbook(tmp_path, playbook, inventory, *args):
    inventory_file = tmp_path / "inventory.ini"
    inventory_file.write_text(inventory)
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(inventory_file), str(playbook), *args],
        capture_output=True, text=True, env=ENV, timeout=300, check=False,
    )
    return result.returncode, result.stdout + result.stderr


def run_role(role, tmp_path, *args):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  roles:\n"
        f"    - role: websocket.nginx.{role}\n"
    )
    inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    return ansible_playbook(tmp_path, playbook, inventory, *args)


def results(output, status):
    """The JSON results printed after ``<status>: [localhost] ... => `` lines, in order."""
    decoder = json.JSONDecoder()
    found = []
    for line in output.splitlines():
        if line.startswith(f"{status}: [localhost]") and "=> {" in line:
            found.append(decoder.raw_decode(line[line.index("=> {") + 3:])[0])
    return found


def recap(output):
    lines = [line for line in output.splitlines() if line.startswith("localhost ") and "changed=" in line]
    assert len(lines) == 1, output
    return dict(field.split("=") for field in lines[0].split(":", 1)[1].split())


INVALID = [
    pytest.param("nginx", {"nginx_worker_connections": 4096, "nginx_worker_rlimit_nofile": 1024},
                 ["nginx_worker_rlimit_nofile (1024) must be at least nginx_worker_connections (4096): every "
                  "connection is an open file."], id="nginx"),
    # The health server: each bad listen address and the path with a message of its own ("-e" gives the list as a
    # comma-separated string).
    pytest.param("nginx", {"nginx_health_listen": "99999,proxy-1:8078,8079", "nginx_health_path": "health"},
                 ['nginx_health_listen[0]: port must be a whole number from 1 to 65535, got "99999"',
                  "nginx_health_listen[1]: must be an IP address and a port, not a host name (nginx would listen on "
                  'what the name resolves to when it starts), got "proxy-1:8078"',
                  "nginx_health_listen[2]: \"8079\" takes the port of nginx's status server (nginx_status_listen "
                  "127.0.0.1:8079); choose another port",
                  'nginx_health_path must start with "/", got "health"'], id="nginx-health"),
    pytest.param("echo_backend", {"echo_backend_port": 0}, ["echo_backend_port must be 1 or more, got 0"],
                 id="echo_backend"),
    # one variable, two problems: both reported, joined by "; "
    pytest.param("websocket_proxy",
                 {"websocket_proxy_sites": site(server_name=["#x"], upstreams=[
                     {"name": "echo", "servers": [{"address": "127.0.0.1:1", "weight": 0}]}])},
                 ['site "demo": server_name "#x" must be a host name such as example.com, *.example.com, example.*, '
                  '"_" or a regex starting with "~"',
                  'site "demo", upstream "echo", server "127.0.0.1:1": weight must be 1 or more, got 0'],
                 id="websocket_proxy"),
    # A certificate from ACME: each problem of the site's tls.acme with its own message.
    pytest.param("websocket_proxy",
                 {"websocket_proxy_sites": site(
                     listen=[443], server_name=["chat.example.com"],
                     tls={"certificate": "/etc/ssl/chat.pem", "redirect_http": ["8080"],
                          "acme": {"contact": "mailto:admin@example.com", "names": ["chat.example.com", "*.example.com"],
                                   "directory": "http://acme.example.com/directory"}})},
                 ['site "demo", tls: acme gets the certificate and its key from the ACME server itself: leave out '
                  'certificate',
                  'site "demo", tls, acme: contact must be one email address such as admin@example.com (no "mailto:", '
                  'spaces, commas or control characters), got "mailto:admin@example.com"',
                  'site "demo", tls, acme: names item "*.example.com" is a wildcard name, which the HTTP-01 challenge '
                  'cannot prove (wildcard certificates need DNS-01): list each host name',
                  'site "demo", tls, acme: directory "http://acme.example.com/directory" is not an https:// URL with a '
                  'host: RFC 8555 directories are https:// URLs, such as https://acme-v02.api.letsencrypt.org/directory',
                  'site "demo", tls, acme: the HTTP-01 challenge comes over plain HTTP to port 80, where this site does '
                  'not listen: add 80 to tls.redirect_http'],
                 id="websocket_proxy-acme"),
    pytest.param("websocket_proxy",
                 {"websocket_proxy_sites": site(listen=[443], tls={"acme": {}, "redirect_http": [80]}),
                  "websocket_proxy_acme_webroot": "acme-challenge",
                  "websocket_proxy_acme_renew_calendar": "daily\nExecStartPre=/bin/true"},
                 ["websocket_proxy_acme_webroot must be an absolute path (start with \"/\"), got \"acme-challenge\"",
                  'websocket_proxy_acme_renew_calendar must be a systemd calendar expression (OnCalendar=) such as daily '
                  'or "*-*-* 03,15:27:00": letters, digits, spaces and *-:,./~ only, got "daily\\nExecStartPre=/bin/true"',
                  'site "demo", tls, acme: contact is required: the email address of the ACME account, to which the CA '
                  'writes about certificates that are about to expire and about problems',
                  'site "demo", tls, acme: names is empty and server_name has no host name to take them from (only "_", '
                  "regexes, wildcards, IP addresses or names without a dot): list the certificate's names in acme.names"],
                 id="websocket_proxy-acme-settings"),
]


@pytest.mark.parametrize(("role", "variables", "errors"), INVALID)
def test_invalid_variables_stop_the_play_before_any_change(role, variables, errors, tmp_path):
    returncode, output = run_role(role, tmp_path, "-e", json.dumps(variables))
    assert returncode == 2, output
    failed = results(output, "fatal")
    assert len(failed) == 1, output
    assert failed[0]["errors"] == errors
    assert failed[0]["msg"] == f"{role}: invalid variables, nothing was changed: " + "; ".join(errors)
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output
    assert FIRST_TASK_AFTER_VALIDATION[role] not in output


def test_type_errors_are_found_by_ansible_before_the_model(tmp_path):
    returncode, output = run_role("echo_backend", tmp_path, "-e", json.dumps({"echo_backend_port": "abc"}))
    assert returncode == 2, output
    flat = one_line(output)
    assert "argument 'echo_backend_port' is of type str and we were unable to convert to int" in flat, output
    assert "invalid variables, nothing was changed" not in output
    assert "Check the variables and build" not in output          # role_config never ran
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output


def host_hard_nofile_limit():
    with open("/proc/1/limits", encoding="ascii") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    return int(line.split()[4])


def test_capacity_is_sized_from_what_the_host_allows(tmp_path):
    """The nginx model reads the host's hard open-files limit and CPUs: a capacity given as an ``-e``
    string is sized under that limit, and one beyond what the host allows is refused, saying so."""
    limit = host_hard_nofile_limit()
    _returncode, output = run_role("nginx", tmp_path, "-v", "-e", "nginx_websocket_capacity=20000")
    (model,) = [result for result in results(output, "ok") if "config" in result]
    config = model["config"]
    assert (config["hard_nofile_limit"], config["websocket_capacity"]) == (limit, 20000), output
    assert config["worker_rlimit_nofile"] <= limit and config["holds_websockets"] >= 20000
    assert config["worker_processes"] >= max(config["cpus"], -(-40000 // limit))

    returncode, output = run_role("nginx", tmp_path, "-e", "nginx_websocket_capacity=5000000")
    assert returncode == 2, output
    (failed,) = results(output, "fatal")
    (error,) = failed["errors"]
    assert error.startswith("nginx_websocket_capacity (5000000) is more than this host allows: at most "), error
    assert f"the hard open-files limit of {limit}" in error, error
    assert recap(output)["changed"] == "0", output


@pytest.mark.parametrize("role", ["nginx", "websocket_proxy", "echo_backend"])
def test_valid_variables_pass_validation(role, tmp_path):
    """Control: the same harness with good variables gets past validation (check mode)."""
    variables = {"websocket_proxy_sites": site(), "websocket_proxy_check_upstreams": False} \
        if role == "websocket_proxy" else {}
    _returncode, output = run_role(role, tmp_path, "-e", json.dumps(variables))
    assert FIRST_TASK_AFTER_VALIDATION[role] in output, output
    assert "invalid variables" not in output and "must be" not in output


def test_numbers_and_booleans_given_as_extra_var_strings_pass_validation(tmp_path):
    """``-e name=value`` gives strings; the model converts them ("8" -> 8, "false" -> false)."""
    _returncode, output = run_role(
        "websocket_proxy", tmp_path, "-v",
        "-e", json.dumps({"websocket_proxy_sites": site(), "websocket_proxy_check_upstreams": False}),
        "-e", "websocket_proxy_upstream_keepalive=8",
        "-e", "websocket_proxy_check_through_proxy=false",
        "-e", "websocket_proxy_session_log=false",
    )
    assert FIRST_TASK_AFTER_VALIDATION["websocket_proxy"] in output, output
    assert "invalid variables" not in output
    (model,) = [result for result in results(output, "ok") if "config" in result]
    assert model["config"]["check_through_proxy"] is False
    assert model["config"]["sites"][0]["upstreams"][0]["keepalive"] == 8
    assert model["config"]["sites"][0]["websocket_locations"][0]["session_log"] is None  # on by default


DRAIN_INVENTORY = (f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                   "[websocket_backends]\nbackend-1\nbackend-2\n[websocket_proxies]\n")
# Each bad -e value gets its own message (validate_argument_spec names the variable); -e gives strings.
# ansible-core 2.19 and later go on with the value (": \"'5m'\" cannot be converted to an int"), 2.17 does not.
NOT_INT = "argument '%s' is of type str and we were unable to convert to int"
DRAIN_CASES = [
    pytest.param({}, ["missing required arguments: drain_backend"], id="no-backend"),
    pytest.param({"drain_backend": "backend-9"},
                 ["value of drain_backend must be one of: backend-1, backend-2, got: backend-9"], id="unknown-backend"),
    pytest.param({"drain_backend": "backend-1", "drain_backend_group": "nothere"},
                 ["drain_backend_group nothere is not a group with hosts in this inventory: nothing to drain"],
                 id="empty-group"),
    pytest.param({"drain_backend": "backend-1", "drain_maintenance": "reboot"},
                 ["value of drain_maintenance must be one of: none, restart, got: reboot"], id="maintenance"),
    pytest.param({"drain_backend": "backend-1", "drain_timeout": "5m"}, [NOT_INT % "drain_timeout"],
                 id="timeout-not-a-number"),
    pytest.param({"drain_backend": "backend-1", "drain_poll_interval": 0},
                 ["drain_poll_interval must be at least 1 seconds, got 0"], id="poll-interval-zero"),
    pytest.param({"drain_backend": "backend-1", "drain_health_timeout": "-5"},
                 ["drain_health_timeout must be at least 1 seconds, got -5"], id="health-timeout-negative"),
    pytest.param({"drain_backend": "backend-1", "drain_force": "maybe"},
                 ["argument 'drain_force' is of type str and we were unable to convert to bool: The value 'maybe' is "
                  "not a valid boolean."], id="force-not-a-boolean"),
    # Several bad values: every one is named, each with its own message.
    pytest.param({"drain_backend": "backend-3", "drain_timeout": "1.5", "drain_maintenance": "",
                  "drain_poll_interval": "often"},
                 [NOT_INT % "drain_timeout", NOT_INT % "drain_poll_interval",
                  "value of drain_backend must be one of: backend-1, backend-2, got: backend-3",
                  "value of drain_maintenance must be one of: none, restart, got: "], id="several"),
]


def run_drain(tmp_path, *extra_vars):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(DRAIN_INVENTORY)
    arguments = [argument for value in extra_vars for argument in ("-e", value)]
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(inventory), str(REPO / "playbooks" / "drain.yml"), *arguments],
        capture_output=True, text=True, env=BASE_ENV, timeout=300, check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(("variables", "messages"), DRAIN_CASES)
def test_invalid_drain_request_stops_before_any_change(variables, messages, tmp_path):
    returncode, output = run_drain(tmp_path, json.dumps(variables))
    flat = one_line(output)
    assert returncode == 2, output
    for message in messages:
        assert message in flat, output
    assert "Take the backend out of rotation" not in output  # stopped in the first play


def test_drain_values_given_as_extra_var_strings_pass_validation(tmp_path):
    """``-e drain_timeout=8 -e drain_force=false`` are strings; they are numbers and booleans to the checks. No
    proxy is in the inventory, so the later plays change nothing (the backends are not even reachable)."""
    returncode, output = run_drain(tmp_path, "drain_backend=backend-2", "drain_timeout=8", "drain_poll_interval=2",
                                   "drain_health_timeout=3", "drain_force=false", "drain_maintenance=restart",
                                   "drain_backend_group=websocket_backends")
    assert "PLAY [Take the backend out of rotation on every proxy]" in output, output
    (line,) = [line for line in output.splitlines() if line.startswith("localhost ")]
    assert " failed=0 " in line and " ok=3 " in line, output  # the group, the spec, the durations
    assert "must be" not in output and "Validation of arguments failed" not in output, (returncode, output)
