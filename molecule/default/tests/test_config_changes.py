"""Role runs on a live proxy: changes reload nginx without dropping WebSockets, and a
config nginx rejects never goes live."""

from wsn_e2e import http_get, ws_connect


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


def test_rejected_config_is_rolled_back_and_proxy_keeps_serving(container, ws_base, apply_site_change):
    site_file = "/etc/nginx/conf.d/websocket-proxy-demo.conf"
    before = container.file(site_file).content_string
    master_before = nginx_master_pid(container)

    result = apply_site_change({"extra_directives": ["no_such_directive on;"]})

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "nginx rejected the new configuration" in output
    assert 'unknown directive "no_such_directive"' in output  # nginx's own words
    # The previous file is back, without leftover backups, and nginx never reloaded.
    assert container.file(site_file).content_string == before
    assert container.check_output("ls /etc/nginx/conf.d/ | grep -c '~' || true") == "0"
    assert container.run("nginx -t").rc == 0
    assert nginx_master_pid(container) == master_before
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send("still serving")
        assert ws.recv(timeout=10) == "still serving"


def test_diff_mode_shows_the_change_and_check_mode_makes_none(proxy, container):
    from conftest import SCENARIO_DIR
    from wsn_e2e import run_playbook

    site_file = "/etc/nginx/conf.d/websocket-proxy-demo.conf"
    before = container.file(site_file).content_string
    result = run_playbook(
        SCENARIO_DIR / "apply_site_change.yml", "--limit", proxy, "--check", "--diff",
        extra_vars={"molecule_site_change": {"proxy_locations": [{"path": "/diffed/", "upstream": "echo_backend"}]}},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "+    location /diffed/ {" in result.stdout
    assert "changed=0" not in result.stdout  # check mode reports the change it would make...
    assert container.file(site_file).content_string == before  # ...and makes none


def test_check_mode_on_the_deployed_hosts_reports_no_change():
    from conftest import SCENARIO_DIR
    from wsn_e2e import run_playbook

    result = run_playbook(SCENARIO_DIR / "converge.yml", "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    recap = result.stdout[result.stdout.index("PLAY RECAP"):]
    assert recap.count("changed=0") == 2, recap


def test_failed_write_is_reported_as_such_and_proxy_keeps_serving(container, ws_base, apply_site_change):
    """A file that cannot be written is not blamed on nginx; nothing changes, nginx keeps serving."""
    master_before = nginx_master_pid(container)
    result = apply_site_change({}, websocket_proxy_config_dir="/etc/nginx/no-such-dir")
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "Writing the new configuration failed (Write the WebSocket upgrade map)" in output, output
    assert "nginx rejected" not in output
    assert nginx_master_pid(container) == master_before
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send("still serving")
        assert ws.recv(timeout=10) == "still serving"
