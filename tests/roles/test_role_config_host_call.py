"""role_config reads what its model needs from the host in one module call (websocket.nginx.role_host_info),
or none when it needs nothing; in check mode too. Counted from ``-vvv`` output, which names every module
file put on the host, with localhost as the host.
"""

import hashlib
import json
import re

import pytest

from test_bad_variables import ansible_playbook, one_line

TLS_SITE = {
    "upstreams": [{"name": "app", "servers": [{"address": "127.0.0.1:8765"}]}],
    "websocket_locations": [{"path": "/ws/", "upstream": "app"}],
}


def tls_site(name, port, **tls):
    key = {} if "certificate_key_src" in tls else {"certificate_key": "/etc/ssl/private/%s.key" % name}
    return {"name": name, "listen": [port], "tls": {**key, **tls},
            "upstreams": [{"name": name, "servers": [{"address": "127.0.0.1:8765"}]}],
            "websocket_locations": [{"path": "/ws/", "upstream": name}]}


def run_tasks(tmp_path, tasks, *args):
    """The tasks against localhost in check mode with -vvv; (output, {task name: [modules put on the host]})."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": tasks}]))
    inventory = "localhost ansible_connection=local ansible_python_interpreter=%s\n" % __import__("sys").executable
    _returncode, output = ansible_playbook(tmp_path, playbook, inventory, "-vvv", *args)
    calls = {}
    task = None
    for line in output.splitlines():
        header = re.match(r"TASK \[(.*)\] \*+", line)
        if header:
            task = header.group(1)
            calls[task] = []
        module = re.search(r"/AnsiballZ_([a-z0-9_]+)\.py\b", line)
        if task and module and " PUT " in line:
            calls[task].append(module.group(1))
    return output, calls


def ok_results(output):
    """The results of "ok: [localhost] => {...}" lines (JSON over several lines with -vvv), in order."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(output, match.end() - 1)[0]
            for match in re.finditer(r"^ok: \[localhost\] => \{", output, re.MULTILINE)]


def role_config(name, role, **task):
    return {"name": name, "websocket.nginx.role_config": {"role": role, **task.pop("args", {})}, **task}


def test_one_call_per_role_and_none_without_tls(tmp_path):
    certificate = tmp_path / "chat.pem"
    certificate.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    sites = [tls_site("chat", 443, certificate=str(certificate)),
             tls_site("gone", 8443, certificate=str(tmp_path / "gone.pem")),
             tls_site("copied", 9443, certificate_src=str(certificate), certificate_key_src=str(certificate))]
    plain = [{"name": "plain", **TLS_SITE}]
    tasks = [
        role_config("nginx", "nginx"),
        role_config("echo_backend", "echo_backend"),
        role_config("proxy without tls", "websocket_proxy", vars={"websocket_proxy_sites": plain}),
        role_config("proxy with tls", "websocket_proxy", vars={"websocket_proxy_sites": sites}),
        role_config("proxy with tls and nginx_build", "websocket_proxy", vars={"websocket_proxy_sites": sites},
                    args={"nginx_build": "nginx version: nginx/1.26.3\nbuilt with OpenSSL 3.5.1 1 Jul 2025\n"}),
        role_config("proxy with bad variables", "websocket_proxy", ignore_errors=True,
                    vars={"websocket_proxy_sites": sites, "websocket_proxy_upstream_keepalive": "many"}),
    ]
    output, calls = run_tasks(tmp_path, tasks)
    assert calls == {
        "nginx": ["role_host_info"],                  # was 2 (slurp of /proc/1/limits, of the CPU list)
        "echo_backend": ["role_host_info"],           # was 1
        "proxy without tls": [],                      # nothing depends on the host
        "proxy with tls": ["role_host_info"],         # was 1 (/etc/os-release) + the role's nginx -V + a stat per certificate
        "proxy with tls and nginx_build": ["role_host_info"],   # the certificates' checksums
        "proxy with bad variables": [],               # refused by the argument spec before the host is asked
    }, output
    ok = [result for result in ok_results(output) if "config" in result]
    assert len(ok) == 5, output
    nginx, _echo, plain_proxy, proxy, overridden = ok
    assert nginx["host"]["nginx"]["installed"] in (True, False) and nginx["host"]["cpus"] >= 1
    assert plain_proxy["host"] == {"nginx_build": None}
    tls = {site["name"]: site["tls"]["certificate_sha1"] for site in proxy["config"]["sites"]}
    assert tls == {"chat": hashlib.sha1(b"-----BEGIN CERTIFICATE-----\n").hexdigest(), "gone": "not on the host",
                   "copied": None}
    assert proxy["host"]["certificate_sha1"] == {str(certificate): tls["chat"], str(tmp_path / "gone.pem"): None}
    assert "os_version_id" in proxy["host"] and "nginx" in proxy["host"]
    # The argument wins over the host's nginx, which is not even asked.
    assert overridden["host"]["nginx_build"] == [[1, 26, 3], [3, 5, 1]]
    assert "nginx" not in overridden["host"] and "os_version_id" not in overridden["host"]
    assert [site["listen"][0]["params"] for site in overridden["config"]["sites"]][0] == ["ssl", "reuseport"]
    assert "argument 'websocket_proxy_upstream_keepalive' is of type str" in one_line(output)


@pytest.mark.parametrize("role", ["nginx", "echo_backend"])
def test_a_failed_host_read_fails_the_task(role, tmp_path):
    """The sizing needs the host's limit: when the one call fails (here the module cannot even start: no such
    interpreter), the task fails with the module's message, and nothing is guessed."""
    output, calls = run_tasks(tmp_path, [role_config("model", role)], "-e",
                              "ansible_python_interpreter=/nonexistent/python3")
    assert calls == {"model": ["role_host_info"]}, output
    assert re.search(r"fatal: \[localhost\]: FAILED!", output), output
    assert "/nonexistent/python3" in output.split("fatal: [localhost]: FAILED!", 1)[1], output
    assert '"config"' not in output
