"""The health playbook checks each upstream nginx runs with as the role's model says (real servers on
loopback, a real ``nginx -T`` of a configuration in a temporary directory, localhost as the proxy).

The model gives one dict of upstream_health arguments per check (site_model.UpstreamCheck, unit-tested);
this proves the playbook passes it whole: TLS with a private CA, verification on and off, the path with
its query, an upstream whose check is off, one nginx has that no site of the role defines, and the
``-e health_check`` / ``health_timeout`` overrides.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from test_bad_variables import BASE_ENV, REPO
# A fixture: pytest finds it by its name here.
from test_upstream_checks import tls_server  # noqa: F401  # pylint: disable=unused-import

NGINX = "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason=f"needs {NGINX} (make test-tools)")


def run_health(tmp_path, upstreams, *extra):
    """health.yml against localhost; nginx -T reads a configuration with these upstreams (name -> servers)."""
    conf = tmp_path / "nginx.conf"
    blocks = "".join("    upstream %s {\n%s    }\n" % (name, "".join(f"        server {server};\n" for server in servers))
                     for name, servers in upstreams.items())
    conf.write_text(f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
                    f"http {{\n{blocks}    server {{ listen 127.0.0.1:1; }}\n}}\n")
    wrapper = tmp_path / "nginx"
    wrapper.write_text(f'#!/bin/sh\nexec {NGINX} -c "{conf}" -e "{tmp_path}/error.log" "$@"\n')
    wrapper.chmod(0o755)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"[websocket_proxies]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    result = subprocess.run(
        ["ansible-playbook", "-v", "-i", str(inventory), str(REPO / "playbooks" / "health.yml"),
         "-e", "ansible_become=false", "-e", f"health_nginx_binary={wrapper}", *extra],
        capture_output=True, text=True, env={**BASE_ENV, "ANSIBLE_STDOUT_CALLBACK": "default",
                                             "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
        timeout=300, check=False,
    )
    return result.returncode, result.stdout + result.stderr


def checked(output):
    """upstream name -> upstream_health's result of the "Check the servers of every upstream" loop, with the
    status the line starts with (ok, failed) as ``status``."""
    decoder = json.JSONDecoder()
    results = {}
    for match in re.finditer(r"^(ok|failed): \[localhost\](?: =>)? \(item=[^\n]*?\) => \{", output, re.MULTILINE):
        result = decoder.raw_decode(output, match.end() - 1)[0]
        if "health_upstream" in result and "servers" in result:
            results[result["health_upstream"]["name"]] = dict(result, status=match.group(1))
    return results


def test_each_upstream_is_checked_with_the_arguments_of_its_model(tls_server, tmp_path):  # noqa: F811
    port, ca_path = tls_server
    health_checks = {  # upstream -> its health_check; each has the TLS echo server, but "off" (never checked)
        "verified": {"tls": True, "ca_path": ca_path, "path": "/ws?probe=1"}, "system_cas": {"tls": True},
        "unverified": {"tls": True, "validate_certs": False}, "tcp": {"type": "tcp"}, "off": {"enabled": False}}
    upstreams = [{"name": name, "health_check": check,
                  "servers": [{"address": "127.0.0.1:%d" % (9 if name == "off" else port)}]}
                 for name, check in health_checks.items()]
    sites = {"websocket_proxy_sites": [{
        "name": "checks", "upstreams": upstreams,
        "websocket_locations": [{"path": "/" + item["name"] + "/", "upstream": item["name"]} for item in upstreams],
    }]}
    running = {item["name"]: [item["servers"][0]["address"]] for item in upstreams}
    running["foreign"] = [f"127.0.0.1:{port}"]   # not one of the role's: a WebSocket handshake on "/", no TLS
    returncode, output = run_health(tmp_path, running, "-e", json.dumps(sites))
    assert returncode == 0, output
    results = checked(output)
    assert set(results) == {"verified", "system_cas", "unverified", "tcp", "foreign"}, output  # "off" is not checked
    servers = {name: result["servers"][0] for name, result in results.items()}
    assert (servers["verified"]["healthy"], servers["verified"]["tls"], servers["verified"]["path"]) == (
        True, True, "/ws?probe=1"), servers["verified"]
    assert (servers["system_cas"]["healthy"], servers["system_cas"]["stage"]) == (False, "tls"), servers["system_cas"]
    assert servers["unverified"]["healthy"] is True, servers["unverified"]
    # A TLS server answers a TCP connection (the tcp check does not start TLS unless asked)...
    assert servers["tcp"]["healthy"] is True, servers["tcp"]
    # ...and no WebSocket handshake without TLS: the playbook's own defaults for upstreams the role did not write.
    assert (servers["foreign"]["healthy"], servers["foreign"]["tls"], servers["foreign"]["path"]) == (
        False, False, "/"), servers["foreign"]

    # -e overrides apply to every upstream, over the model's settings; the rest of each model's dict stays.
    returncode, output = run_health(tmp_path, running, "-e", json.dumps(sites), "-e", "health_check=tcp",
                                    "-e", "health_path=/other")
    assert returncode == 0, output
    servers = {name: result["servers"][0] for name, result in checked(output).items()}
    assert {server["path"] for server in servers.values()} == {"/other"}, servers
    # A TCP connection to the TLS server is all the foreign upstream needs now...
    assert servers["foreign"]["healthy"] is True and servers["foreign"]["tls"] is False, servers["foreign"]
    # ...while the model's TLS settings still apply: the test CA's certificate is verified, or not.
    assert (servers["system_cas"]["healthy"], servers["system_cas"]["stage"]) == (False, "tls"), servers["system_cas"]
    assert servers["verified"]["healthy"] is True and servers["unverified"]["healthy"] is True, servers
    # health_min_healthy: one upstream below it fails the play, after every upstream was checked.
    returncode, output = run_health(tmp_path, running, "-e", json.dumps(sites), "-e", "health_min_healthy=1")
    assert returncode == 2, output
    results = checked(output)
    assert set(results) == {"verified", "system_cas", "unverified", "tcp", "foreign"}, output
    assert sorted(name for name, result in results.items() if result["status"] == "failed") == ["foreign", "system_cas"]
