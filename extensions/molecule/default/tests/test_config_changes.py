"""Role runs on a live proxy: changes reload nginx without dropping WebSockets; one end-to-end
proof each of a rollback after a failed check through nginx and of a reload nginx refuses.

Every other failure path of the change (refused by nginx -t, a file that cannot be written or put
back, rollback turned off, an interrupted run, check mode's nginx -t) is a unit test against a real
nginx: tests/unit/plugins/modules/test_nginx_transaction.py."""

import threading
import time

from wsn_e2e import http_get, task_result, ws_connect


def nginx_master_pid(container):
    return container.file("/run/nginx.pid").content_string.strip()


def nginx_worker_pids(container):
    return set(container.check_output("pgrep -f 'nginx: worker process' || true").split())


def test_change_reloads_nginx_and_open_websocket_keeps_echoing(container, ws_base, http_base, apply_site_change):
    assert http_get(f"{http_base}/added/index.html")[0] == 404
    master_before = nginx_master_pid(container)
    workers_before = nginx_worker_pids(container)
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send("before the change")
        assert ws.recv(timeout=10) == "before the change"

        result = apply_site_change({"static_locations": [{"path": "/added/", "alias": "/var/www/demo/"}]})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "changed=" in result.stdout and "changed=0" not in result.stdout

        # The new location is live...
        assert http_get(f"{http_base}/added/index.html")[0] == 200
        # ...through a reload: same master, new workers (a restart would replace the master).
        assert nginx_master_pid(container) == master_before
        assert nginx_worker_pids(container) - workers_before
        # ...and the WebSocket opened before it still works, served by an old worker.
        ws.send("after the change")
        assert ws.recv(timeout=10) == "after the change"


def test_diff_mode_shows_the_change_and_check_mode_makes_none():
    """On both proxies at once (one ansible run)."""
    import testinfra
    from conftest import HOSTS, INVENTORY, SCENARIO_DIR
    from wsn_e2e import run_playbook

    site_file = "/etc/nginx/conf.d/websocket-proxy-demo.conf"
    containers = {host: testinfra.get_host(f"ansible://{host}?ansible_inventory={INVENTORY}") for host in HOSTS}
    before = {host: container.file(site_file).content_string for host, container in containers.items()}
    result = run_playbook(
        SCENARIO_DIR / "apply_site_change.yml", "--check", "--diff",
        extra_vars={"molecule_site_change": {"proxy_locations": [{"path": "/diffed/", "upstream": "echo_backend"}]}},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("+    location /diffed/ {") == len(HOSTS), result.stdout
    recap = result.stdout[result.stdout.index("PLAY RECAP"):]
    # Check mode reports the change it would make on each host...
    assert recap.count("changed=0") == 0 and all(f"{host} " in recap for host in HOSTS), recap
    for host, container in containers.items():
        assert container.file(site_file).content_string == before[host]  # ...and makes none


def test_check_mode_on_the_deployed_hosts_reports_no_change():
    """The collection's site playbook (converge.yml also puts the test's static files in place)."""
    from wsn_e2e import run_playbook

    result = run_playbook("websocket.nginx.site", "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    recap = result.stdout[result.stdout.index("PLAY RECAP"):]
    assert recap.count("changed=0") == 2, recap


class Traffic:
    """Background traffic during a role run: a new WebSocket echo on /ws/ and a GET of `probe_path`
    every 50 ms, each recorded with its time (bounded by the run it watches)."""

    def __init__(self, ws_base, http_base, probe_path):
        self.ws_base, self.http_base, self.probe_path = ws_base, http_base, probe_path
        self.echoes, self.probes = [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(0.05):
            try:
                with ws_connect(f"{self.ws_base}/ws/", open_timeout=5) as ws:
                    ws.send("during the run")
                    self.echoes.append(ws.recv(timeout=5) == "during the run")
            except Exception:  # noqa: BLE001  (any failure counts as one)
                self.echoes.append(False)
            self.probes.append((time.monotonic(), http_get(self.http_base + self.probe_path, timeout=5)[0]))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)

    def seconds_with_status(self, status):
        """How long the probe path answered `status`: from its first to its last such answer."""
        times = [at for at, got in self.probes if got == status]
        return times[-1] - times[0] if times else 0.0


# A change nginx accepts but the check through nginx fails: a WebSocket location whose only
# server does not listen (502). allow_unhealthy_upstreams lets it past the check before the
# change, and must not turn the check after the reload off.
BROKEN_CHANGE = {
    "upstreams": [{"name": "nowhere", "servers": [{"address": "127.0.0.1:9"}]}],
    "websocket_locations": [{"path": "/nowhere/", "upstream": "nowhere"}],
    "static_locations": [{"path": "/undone/", "alias": "/var/www/demo/"}],
}


def test_failed_check_through_nginx_puts_the_previous_configuration_back(
        proxy, container, ws_base, http_base, apply_site_change):
    site_file = "/etc/nginx/conf.d/websocket-proxy-demo.conf"
    before = container.file(site_file).content_string
    master_before = nginx_master_pid(container)
    with ws_connect(f"{ws_base}/ws/") as ws, Traffic(ws_base, http_base, "/undone/index.html") as traffic:
        ws.send("before the run")
        assert ws.recv(timeout=10) == "before the run"
        started = time.monotonic()
        result = apply_site_change(BROKEN_CHANGE, websocket_proxy_allow_unhealthy_upstreams=True)
        run_seconds = time.monotonic() - started
        time.sleep(0.5)  # a few probes after the run
        ws.send("after the run")
        assert ws.recv(timeout=10) == "after the run"

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "upstream nowhere: 1 of 1 servers unhealthy" in output  # allowed before the change...
    assert "The check through nginx failed: site demo, location /nowhere/ (/nowhere/): failed at stage handshake" in output
    assert "502" in output
    assert "The previous configuration files are back and nginx reloaded with them" in output
    # The previous file, no leftover copies or journal, the same master (reloads only), the new location gone.
    assert container.file(site_file).content_string == before
    assert container.check_output("ls -A /etc/nginx/conf.d/ | grep -c -e '~' -e '.tmp$' || true") == "0"
    assert not container.file("/var/lib/websocket-nginx/transaction/journal.json").exists
    assert nginx_master_pid(container) == master_before
    assert http_get(f"{http_base}/undone/index.html")[0] == 404
    # Every WebSocket opened during the run echoed; the new configuration was live for a while
    # (its /undone/ answered 200), then the previous one again.
    assert traffic.echoes and all(traffic.echoes), traffic.echoes.count(False)
    assert traffic.probes[-1][1] == 404
    stages = task_result(result.stdout + result.stderr, "check through it", proxy)["seconds"]  # failures: stderr
    print(f"run {run_seconds:.1f} s; {len(traffic.echoes)} WebSockets during it, {traffic.echoes.count(False)} failed; "
          f"new configuration live {traffic.seconds_with_status(200):.1f} s; transaction stages {stages}")


def test_reload_nginx_refuses_is_rolled_back_and_proxy_keeps_serving(container, ws_base, http_base, apply_site_change):
    """nginx -t passes a listen address another process holds (it does not bind); the reload
    then fails in the master, which keeps the previous workers. The role notices (the handler
    waits for new workers), puts the previous files back and reloads them."""
    site_file = "/etc/nginx/conf.d/websocket-proxy-demo.conf"
    before = container.file(site_file).content_string
    master_before = nginx_master_pid(container)
    # The echo backend listens on 127.0.0.1:8765 in the same container.
    result = apply_site_change({"listen": ["127.0.0.1:8765"],
                                "static_locations": [{"path": "/undone/", "alias": "/var/www/demo/"}]})
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "nginx did not take the new configuration when it reloaded" in output, output
    assert "The previous configuration files are back and nginx reloaded with them" in output
    assert container.file(site_file).content_string == before
    assert nginx_master_pid(container) == master_before
    assert http_get(f"{http_base}/undone/index.html")[0] == 404
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send("still serving")
        assert ws.recv(timeout=10) == "still serving"
