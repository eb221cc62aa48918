"""Role runs on a live proxy: diff and check mode, and one end-to-end proof of a reload nginx refuses.

A change reloading nginx under live WebSockets, and the rollback after a failed check through nginx (which
also stops a rolling change at its canary), are proven on three proxies by the fleet scenario
(extensions/molecule/fleet/tests/test_rolling.py).

Every other failure path of the change (refused by nginx -t, a file that cannot be written or put
back, rollback turned off, an interrupted run, check mode's nginx -t) is a unit test against a real
nginx: tests/unit/plugins/modules/test_nginx_transaction.py."""

from wsn_e2e import http_get, ws_connect


def nginx_master_pid(container):
    return container.file("/run/nginx.pid").content_string.strip()


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
