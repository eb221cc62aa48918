"""Each invalid role variable stops the play with its own clear message before any change.

The roles run against localhost in check mode, so even a validation gap could not change
this machine; the assertions check that the play failed in validation with changed=0.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD_SITE = {
    "name": "demo",
    "upstreams": [{"name": "echo", "servers": [{"address": "127.0.0.1:8765"}]}],
    "websocket_locations": [{"path": "/ws/", "upstream": "echo"}],
    "static_locations": [{"path": "/", "root": "/var/www/demo"}],
}


def site(**changes):
    return [{**GOOD_SITE, **changes}]


def upstream(**changes):
    return [{**GOOD_SITE["upstreams"][0], **changes}]


CASES = [
    # nginx
    ("nginx", {"nginx_package_state": "removed"},
     "value of nginx_package_state must be one of: present, latest, got: removed"),
    ("nginx", {"nginx_worker_connections": "many"},
     "nginx_worker_connections"),
    ("nginx", {"nginx_worker_processes": 0},
     "nginx_worker_processes must be 'auto' or a whole number >= 1, got \"0\""),
    ("nginx", {"nginx_worker_processes": "lots"},
     "nginx_worker_processes must be 'auto' or a whole number >= 1, got \"lots\""),
    ("nginx", {"nginx_worker_connections": 0},
     "nginx_worker_connections must be >= 1, got 0"),
    ("nginx", {"nginx_worker_connections": 4096, "nginx_worker_rlimit_nofile": 1024},
     "nginx_worker_rlimit_nofile (1024) must be at least nginx_worker_connections (4096)"),
    ("nginx", {"nginx_worker_connections": 4096, "nginx_worker_rlimit_nofile": 10_000_000},
     "nginx_worker_rlimit_nofile (10000000) exceeds this host's hard open-files limit"),
    ("nginx", {"nginx_worker_shutdown_timeout": "forever"},
     "nginx_worker_shutdown_timeout must be an nginx time such as 30s, 5m or 1h, got \"forever\""),
    ("nginx", {"nginx_keepalive_timeout": ""},
     "nginx_keepalive_timeout must be an nginx time such as 30s, 5m or 1h, got \"\""),
    ("nginx", {"nginx_http_extra_directives": ["client_max_body_size 10m"]},
     "each item of nginx_http_extra_directives must end with ';'"),
    ("nginx", {"nginx_service_enabled": "sometimes"},
     "nginx_service_enabled"),
    # echo_backend
    ("echo_backend", {"echo_backend_port": 0},
     "echo_backend_port must be an integer from 1 to 65535, got 0."),
    ("echo_backend", {"echo_backend_port": 70000},
     "echo_backend_port must be an integer from 1 to 65535, got 70000."),
    ("echo_backend", {"echo_backend_port": "abc"},
     "argument 'echo_backend_port' is of type str and we were unable to convert to int"),
    ("echo_backend", {"echo_backend_service_state": "restarted"},
     "value of echo_backend_service_state must be one of: started, stopped, got: restarted"),
    ("echo_backend", {"echo_backend_name": ""},
     "echo_backend_name must be a non-empty string of printable ASCII"),
    ("echo_backend", {"echo_backend_health_path": "healthz"},
     'must be different URL paths starting with "/"'),
    ("echo_backend", {"echo_backend_install_dir": "opt/echo"},
     'echo_backend_install_dir must be an absolute path such as /opt/websocket-echo'),
    ("echo_backend", {"echo_backend_user": "Echo User"},
     'echo_backend_user must be a system user name'),
    ("echo_backend", {"echo_backend_service_name": "echo.service"},
     'echo_backend_service_name must be a systemd unit name without the ".service" suffix, got "echo.service"'),
    ("echo_backend", {"echo_backend_ping_interval": -1},
     "echo_backend_ping_interval must be >= 0, got -1. 0 disables pings."),
    ("echo_backend", {"echo_backend_max_message_size": 0},
     "echo_backend_max_message_size must be >= 1, got 0."),
    ("echo_backend", {"echo_backend_open_files_limit": 10_000_000},
     "echo_backend_open_files_limit"),
    # websocket_proxy
    ("websocket_proxy", {"websocket_proxy_sites": "demo"},
     "websocket_proxy_sites"),
    ("websocket_proxy", {"websocket_proxy_sites": [{"upstreams": []}]},
     "missing required arguments: name"),
    ("websocket_proxy", {"websocket_proxy_sites": site(name="my site")},
     'site "my site": name may only hold letters, digits'),
    ("websocket_proxy", {"websocket_proxy_sites": site() + site()},
     'site "demo": defined more than once'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(method="fastest"))},
     "value of method must be one of: round_robin, least_conn, ip_hash, hash, random, got: fastest"),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(method="hash"))},
     'upstream "echo": method "hash" needs hash_key'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(hash_key="$remote_addr"))},
     'upstream "echo": hash_key is only used with method "hash"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(
        method="ip_hash", servers=[{"address": "127.0.0.1:1"}, {"address": "127.0.0.1:2", "backup": True}]))},
     'server "127.0.0.1:2": backup servers work only with methods round_robin and least_conn, not ip_hash'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=[{"address": "127.0.0.1:1", "weight": 0}]))},
     'server "127.0.0.1:1": weight must be 1 or more, got 0'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=[{"address": "127.0.0.1:1", "max_fails": -1}]))},
     'server "127.0.0.1:1": max_fails must be 0 or more, got -1'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=[{"address": "127.0.0.1:1", "fail_timeout": "soon"}]))},
     'server "127.0.0.1:1": fail_timeout must be an nginx time such as 10s, got "soon"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=[{"address": "bad host:1"}]))},
     'server "bad host:1": address must be host:port'),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=[{"weight": 2}]))},
     "missing required arguments: address"),
    ("websocket_proxy", {"websocket_proxy_sites": site(upstreams=upstream(servers=None)),
                         "websocket_proxy_backend_group": "no_such_group"},
     'upstream "echo": no servers; list them in "servers" or put hosts in the inventory group no_such_group'),
    ("websocket_proxy", {"websocket_proxy_sites": site() + [{**GOOD_SITE, "name": "other"}]},
     "upstream echo is defined more than once"),
    ("websocket_proxy", {"websocket_proxy_sites": site(websocket_locations=[{"path": "/ws/", "upstream": "nowhere"}])},
     'location "/ws/": upstream "nowhere" is not an upstream of this site (echo)'),
    ("websocket_proxy", {"websocket_proxy_sites": site(websocket_locations=[{"path": "/ws/", "upstream": "echo", "read_timeout": "forever"}])},
     'location "/ws/": read_timeout must be an nginx time such as 60s or 1h, got "forever"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(websocket_locations=[{"path": "ws", "upstream": "echo"}])},
     'location path "ws" must start with "/"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(proxy_locations=[{"path": "/", "upstream": "echo"}])},
     'location path "/" is used more than once'),
    ("websocket_proxy", {"websocket_proxy_sites": site(static_locations=[{"path": "/", "root": "/srv", "alias": "/srv/"}])},
     'static location "/": set exactly one of root and alias'),
    ("websocket_proxy", {"websocket_proxy_sites": site(static_locations=[{"path": "/"}])},
     'static location "/": set exactly one of root and alias'),
    ("websocket_proxy", {"websocket_proxy_sites": site(static_locations=[{"path": "/", "root": "www"}])},
     'static location "/": root / alias must be an absolute path without spaces, got "www"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(static_locations=[{"path": "/", "root": "/srv", "expires": "later"}])},
     'static location "/": expires must be an nginx time, off, epoch or max, got "later"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(static_locations=[{"path": "/", "root": "/srv", "gzip": "maybe"}])},
     "gzip"),
    ("websocket_proxy", {"websocket_proxy_sites": site(extra_directives=["client_max_body_size 1m"])},
     'extra_directives item "client_max_body_size 1m" must end with ";"'),
    ("websocket_proxy", {"websocket_proxy_sites": site(listen=[])},
     "listen needs at least one value"),
    ("websocket_proxy", {"websocket_proxy_sites": site(state="gone")},
     "value of state must be one of: present, absent, got: gone"),
]


def run_role(role, variables, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  roles:\n"
        f"    - role: websocket.nginx.{role}\n"
    )
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        ["ansible-playbook", "--check", "-i", str(inventory), str(playbook), "-e", json.dumps(variables)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )


@pytest.mark.parametrize(("role", "variables", "message"), CASES,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)])
def test_invalid_variable_stops_before_any_change(role, variables, message, tmp_path):
    result = run_role(role, variables, tmp_path)
    output = " ".join((result.stdout + result.stderr).split())  # undo line wrapping
    assert result.returncode == 2, output
    assert message in output
    assert "changed=0" in output
    assert "failed=1" in output


@pytest.mark.parametrize("role", ["nginx", "websocket_proxy", "echo_backend"])
def test_valid_variables_pass_validation(role, tmp_path):
    """Control: the same harness with good variables gets past validation (check mode)."""
    variables = {"websocket_proxy_sites": site(), "websocket_proxy_check_upstreams": False} if role == "websocket_proxy" else {}
    result = run_role(role, variables, tmp_path)
    output = result.stdout + result.stderr
    first_task_after_validation = {
        "nginx": "Record the nginx version installed before this run",
        "websocket_proxy": "Look for the nginx binary",
        "echo_backend": "Look for downloaded apt package indexes",
    }[role]
    assert first_task_after_validation in output, output
    assert "is invalid" not in output and "must be" not in output


DRAIN_CASES = [
    ({}, 'drain_backend must be one of the hosts of the group websocket_backends (backend-1, backend-2), got "nothing"'),
    ({"drain_backend": "backend-9"}, 'drain_backend must be one of the hosts of the group websocket_backends (backend-1, backend-2), got "backend-9"'),
    ({"drain_backend": "backend-1", "drain_maintenance": "reboot"}, 'drain_maintenance must be none or restart, got "reboot"'),
    ({"drain_backend": "backend-1", "drain_timeout": "5m"}, 'drain_timeout must be a whole number of seconds, at least 0, got "5m"'),
    ({"drain_backend": "backend-1", "drain_poll_interval": 0}, 'drain_poll_interval must be a whole number of seconds, at least 1, got 0'),
    ({"drain_backend": "backend-1", "drain_health_timeout": -5}, 'drain_health_timeout must be a whole number of seconds, at least 1, got -5'),
]


@pytest.mark.parametrize(("variables", "message"), DRAIN_CASES, ids=[f"drain-{index}" for index in range(len(DRAIN_CASES))])
def test_invalid_drain_request_stops_before_any_change(variables, message, tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        "[websocket_backends]\nbackend-1\nbackend-2\n[websocket_proxies]\n"
    )
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(inventory), str(REPO / "playbooks" / "drain.yml"),
         "-e", json.dumps(variables)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert message in output
    assert "Take the backend out of rotation" not in output  # stopped in the first play
