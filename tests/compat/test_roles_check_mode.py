"""Each role renders its files in check mode on localhost with the ansible-core of the Python running these tests.

``make roles-check`` runs this file with the newest ansible-core the collection claims (.venv), ``make compat``
with the lowest (.venv-ansible-2.17). One ``ansible-playbook --check --diff`` run per role, its results read
from the json stdout callback: every task up to the one that writes the files passes, and the files hold what
the role's model (``role_config``) asked for. Nothing on this machine changes: check mode, and websocket_proxy
writes to a temporary directory besides.

Without systemd as PID 1 (a container) a service task fails: that failure, of that task only and after the
files, is accepted.
"""

import subprocess
from pathlib import Path

# This directory's helper (pytest puts the directory on sys.path).
from check_mode_play import ANSIBLE_PLAYBOOK, SYSTEMD, result_of, run_check_mode_play

SITE = {
    "name": "demo",
    "upstreams": [{"name": "echo", "servers": [{"address": "127.0.0.1:8765"}, {"address": "127.0.0.2:8765"}]}],
    "websocket_locations": [{"path": "/ws/", "upstream": "echo"}],
    "static_locations": [{"path": "/", "root": "/var/www/demo"}],
}


def run_role(tmp_path, role, variables):
    """The role in check and diff mode on localhost: [(task name without the role's prefix, result)] in order."""
    return run_check_mode_play(tmp_path, {"roles": [{"role": f"websocket.nginx.{role}"}]}, variables)


def assert_passed_up_to(tasks, files_task, service_task=None, service_error=""):
    """Every task passed up to ``files_task``; the service task may fail, last, with ``service_error``, and only
    without systemd."""
    names = [name for name, _result in tasks]
    assert files_task in names, names
    for index, (name, result) in enumerate(tasks):
        if name == service_task and result.get("failed") and not SYSTEMD:
            assert result.get("msg", "").startswith(service_error), result
            assert index == len(tasks) - 1 and index >= names.index(files_task), names
        else:
            assert not result.get("failed"), (name, result)


def rendered(result, dest):
    """What ``dest`` would hold after the run: the diff's text, or the file as it is when it would not change."""
    for entry in result.get("diff", []):
        if entry.get("after_header") == dest:
            return entry["after"]
    assert result["changed"] is False, result
    return Path(dest).read_text(encoding="utf-8")


def test_ansible_playbook_is_the_one_next_to_this_python():
    """The runs below test the ansible-core this Python imports: make compat's or make roles-check's."""
    from ansible.release import __version__  # pylint: disable=import-outside-toplevel
    version = subprocess.run([str(ANSIBLE_PLAYBOOK), "--version"], capture_output=True, text=True, timeout=60,
                             check=True).stdout.splitlines()[0]
    assert f"[core {__version__}]" in version, version


def test_nginx(tmp_path):
    tasks = run_role(tmp_path, "nginx", {})
    write = "Write nginx.conf and remove the default site, tested with nginx -t"
    assert_passed_up_to(tasks, write, "Enable and start nginx")
    config = result_of(tasks, "Check the variables and build the nginx configuration")["config"]
    lines = {line.strip() for line in rendered(result_of(tasks, write), "/etc/nginx/nginx.conf").splitlines()}
    for line in (f"worker_processes {config['worker_processes']};",
                 f"worker_rlimit_nofile {config['worker_rlimit_nofile']};",
                 f"worker_connections {config['worker_connections']};",
                 "include /etc/nginx/conf.d/*.conf;"):
        assert line in lines, (line, sorted(lines))


def test_websocket_proxy(tmp_path):
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    tasks = run_role(tmp_path, "websocket_proxy", {
        "websocket_proxy_sites": [SITE], "websocket_proxy_config_dir": str(conf_d),
        "websocket_proxy_check_upstreams": False, "websocket_proxy_check_through_proxy": False})
    transaction = "Check the upstreams, write the sites, test them, reload nginx and check through it"
    assert_passed_up_to(tasks, transaction)
    result = result_of(tasks, transaction)
    assert result["changed"] is True, result
    site = rendered(result, str(conf_d / "websocket-proxy-demo.conf"))
    for part in ("upstream echo {", "server 127.0.0.1:8765 ", "server 127.0.0.2:8765 ",
                 # the session log's lines come first in a WebSocket location
                 "location /ws/ {\n", "        access_log /var/log/nginx/websocket-sessions.log websocket_proxy_session_demo;\n"
                 "        proxy_pass http://echo;\n        proxy_http_version 1.1;\n"
                 "        proxy_set_header Upgrade $http_upgrade;\n"
                 "        proxy_set_header Connection $connection_upgrade;\n",
                 "location / {\n        root /var/www/demo;\n"):
        assert part in site, (part, site)
    upgrade_map = rendered(result, str(conf_d / "websocket-proxy-upgrade-map.conf"))
    assert "map $http_upgrade $connection_upgrade {" in upgrade_map, upgrade_map
    assert not list(conf_d.iterdir())  # check mode wrote nothing


def test_echo_backend(tmp_path):
    tasks = run_role(tmp_path, "echo_backend", {"echo_backend_port": 8799})
    service = "Install the echo server and its systemd unit, run it as asked and check its health URL"
    # Without systemd, websocket.nginx.app_service stops at the service's state, after the files.
    assert_passed_up_to(tasks, service, service, "systemd does not answer")
    config = result_of(tasks, "Check the variables and build the echo backend configuration")["config"]
    result = result_of(tasks, service)
    unit = "/etc/systemd/system/%s.service" % config["service_name"]
    server = "%s/echo_server.py" % config["install_dir"]
    # The action plugin rendered both templates on the controller and the module compared them with the host.
    assert sorted(result["files"]) == sorted([unit, server]), result
    # Their text: in the diff when the task went on to the end (with systemd); else in the module's arguments,
    # which ansible-core before 2.19 returns with a failed result (2.19 and later do not).
    if "diff" in result:
        texts = {path: rendered(result, path) for path in (unit, server)}
    elif "invocation" in result:
        texts = {item["path"]: item["content"] for item in result["invocation"]["module_args"]["files"]}
    else:
        assert not SYSTEMD and result["failed"], result
        return
    assert "\nPORT = 8799\n" in texts[server], texts[server]
    assert "\nExecStart=/usr/bin/python3 %s\n" % server in texts[unit], texts[unit]
