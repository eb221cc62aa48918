"""nginx security updates without dropping a WebSocket: the two nginx versions of the release's archive
(the release's and its security update), by the role (nginx_package_state: latest) and by plain apt-get
outside it, each under WebSockets that echo every second through nginx.

The failure paths (a new binary that does not start, one change at a time, the policy-rc.d layer) are unit
tests against a real nginx: tests/unit/plugins/modules/test_nginx_upgrade.py."""

import time

from wsn_e2e import EchoingWebSockets, http_get, run_playbook, task_result, ws_connect

WEBSOCKETS = 40
OLD_MASTER_EXIT_TIMEOUT = 30


def master(container):
    return int(container.file("/run/nginx.pid").content_string.strip())


def installed_version(container):
    return container.check_output("dpkg-query -W -f '${Version}' nginx")


def assert_runs_installed_binary(container, version):
    """The master in the pid file runs the file /usr/sbin/nginx of ``version``; systemd says active."""
    pid = master(container)
    assert installed_version(container) == version
    assert container.check_output(f"readlink /proc/{pid}/exe") == "/usr/sbin/nginx"  # not "(deleted)"
    assert container.check_output(f"stat -L -c %i /proc/{pid}/exe") == container.check_output("stat -c %i /usr/sbin/nginx")
    assert container.check_output("systemctl is-active nginx") == "active"
    return pid


def wait_main_pid(container, pid):
    """Once the old master has let its workers finish (their WebSockets closed), systemd's main PID is ``pid``."""
    deadline = time.monotonic() + OLD_MASTER_EXIT_TIMEOUT
    while time.monotonic() < deadline:
        if container.check_output("systemctl show -p MainPID --value nginx") == str(pid):
            return
        time.sleep(0.2)
    raise AssertionError(f"systemd's main PID of nginx is not {pid} after {OLD_MASTER_EXIT_TIMEOUT} s: "
                         + container.check_output("ps -o pid,ppid,args -C nginx"))


def assert_new_connections_work(ws_base, http_base):
    assert http_get(f"{http_base}/index.html")[0] == 200
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send("after the upgrade")
        assert ws.recv(timeout=10) == "after the upgrade"


def test_upgrades_and_downgrades_keep_every_websocket(proxy, container, ws_base, http_base, idle_websockets):
    from conftest import SCENARIO_DIR

    # nginx moves to one binary at a time: the session's idle WebSockets must not hold an old master.
    for kind in ("ws", "short"):
        for ws in idle_websockets[kind].values():
            ws.close()
    wait_main_pid(container, master(container))
    versions = container.check_output("apt-cache madison nginx | awk '{print $3}'").split()
    newest = installed_version(container)
    older = [version for version in versions if version != newest]
    assert older and newest == versions[0], f"need two nginx versions in the apt index, have {versions}"
    apt_get = "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades"
    figures = []

    def step(name, change, version):
        before = master(container)
        live = EchoingWebSockets(f"{ws_base}/ws/", WEBSOCKETS)
        started = time.monotonic()
        output = change()
        took = time.monotonic() - started
        pid = assert_runs_installed_binary(container, version)
        assert pid != before, f"{name}: nginx still runs master {before}"
        assert_new_connections_work(ws_base, http_base)
        old_workers = container.check_output("pgrep -c -f 'nginx: worker process is shutting down' || true")
        dropped = live.finish()
        assert dropped == 0, f"{name}: {dropped} of {WEBSOCKETS} WebSockets dropped"
        wait_main_pid(container, pid)
        figures.append(f"{name}: 0 of {WEBSOCKETS} dropped in {live.rounds} rounds, {took:.1f} s, "
                       f"{old_workers} old workers kept them")
        return output

    # Outside the role, by apt: a downgrade (the rollback of a bad update), then the update.
    for name, version in (("apt-get downgrade", older[0]), ("apt-get upgrade", newest)):
        output = step(name, lambda version=version: container.run_expect(
            [0], f"{apt_get} nginx={version} nginx-common={version}").stdout, version)
        # Debian's restart was denied; apt's hook moved nginx to the installed binary.
        assert "websocket.nginx: not running \"restart\" of nginx for nginx-common" in output, output
        assert "websocket.nginx: nginx moved on the fly from nginx/" in output, output

    # By the role, from the older version.
    step("back to the older version", lambda: container.run_expect(
        [0], f"{apt_get} nginx={older[0]} nginx-common={older[0]}").stdout, older[0])

    def role_upgrade():
        result = run_playbook(SCENARIO_DIR / "apply_nginx.yml", "--limit", proxy, "-v",
                              extra_vars={"nginx_package_state": "latest"})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "RUNNING HANDLER" not in result.stdout and "restarted" not in result.stdout
        moved = task_result(result.stdout, "TASK [websocket.nginx.nginx : Move nginx to the installed binary", proxy)
        assert moved["master_pid"] == master(container) and moved["version"].startswith("nginx/"), moved
        return result.stdout

    step("the role, nginx_package_state latest", role_upgrade, newest)
    print("; ".join(figures))

    # Without an upgrade the role neither moves, restarts nor reloads nginx.
    pid = master(container)
    again = run_playbook(SCENARIO_DIR / "apply_nginx.yml", "--limit", proxy, extra_vars={"nginx_package_state": "latest"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "RUNNING HANDLER" not in again.stdout
    assert master(container) == pid
    for task in ("Move nginx to the installed binary", "Make upgrades by apt move nginx", "Enable and start nginx"):
        # role_config read the binary, the hooks and the service in its one host call: no call for these.
        parts = again.stdout.split(f"TASK [websocket.nginx.nginx : {task}")
        assert len(parts) == 2 and parts[1].split("]", 1)[1].lstrip("* \n").startswith(f"skipping: [{proxy}]"), again.stdout
