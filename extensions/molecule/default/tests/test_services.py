"""What runs in the containers: nginx sized for WebSockets, the echo backend unprivileged."""


def test_nginx_runs_with_the_sizing_for_long_lived_connections(container):
    import re

    assert container.service("nginx").is_running
    assert container.service("nginx").is_enabled
    config = container.check_output("nginx -T 2>/dev/null")
    # Sized for the default capacity, 10000 WebSockets of 2 connections, under this host's limits.
    assert "# Sized for 10000 concurrent WebSockets of 2 connections each" in config
    processes = int(re.search(r"^worker_processes (\d+);", config, re.M).group(1))
    connections = int(re.search(r"^\s*worker_connections (\d+);", config, re.M).group(1))
    rlimit = int(re.search(r"^worker_rlimit_nofile (\d+);", config, re.M).group(1))
    hard = int(next(line for line in container.file("/proc/1/limits").content_string.splitlines()
                    if line.startswith("Max open files")).split()[4])
    assert rlimit == connections + 256 <= hard
    # Below nginx's 1/16 reserve, with the 10% margin, the workers hold the capacity.
    assert processes * int((connections - connections // 16 - 32) / 2.2) >= 10000
    assert processes >= int(container.check_output("nproc --all"))
    assert "worker_shutdown_timeout 1h;" in config
    # Capacity warnings ("worker_connections are not enough") are warn level.
    assert "error_log /var/log/nginx/error.log warn;" in config
    # The workers really run, that many, with that open-files limit.
    workers = container.check_output("pgrep -f 'nginx: worker process$'").split()
    assert len(workers) == processes
    for worker in workers:
        limits = container.file(f"/proc/{worker}/limits").content_string
        open_files = next(line for line in limits.splitlines() if line.startswith("Max open files")).split()
        assert open_files[3] == str(rlimit)
    # Each address of a site gets reuseport once, so the kernel spreads connections over the workers (not the
    # nginx role's status server on 127.0.0.1:8079, which serves a few local requests).
    listens = [(address, params) for address, params in re.findall(r"^\s*listen ([^\s;]+)([^;]*);", config, re.M)
               if address != "127.0.0.1:8079"]
    assert listens and all(params.split().count("reuseport") <= 1 for _address, params in listens)
    for address in {address for address, _params in listens if not address.startswith("unix:")}:
        assert sum("reuseport" in params.split() for other, params in listens if other == address) == 1, address


def test_default_site_is_removed(container):
    assert not container.file("/etc/nginx/sites-enabled/default").exists


def test_echo_backend_runs_unprivileged(container):
    service = container.service("websocket-echo")
    assert service.is_running
    assert service.is_enabled
    user = container.check_output("ps -o user= -p $(systemctl show -p MainPID --value websocket-echo)")
    assert user == "websocket-echo"
    assert container.user("websocket-echo").shell in ("/usr/sbin/nologin", "/bin/false")


def test_changes_in_both_roles_reload_nginx_once(proxy, container):
    """Both roles change files (as on a first run): websocket_proxy's transaction takes over the nginx
    role's pending nginx.conf and reloads for both; the nginx role's handler then has nothing to do."""
    from conftest import SCENARIO_DIR
    from wsn_e2e import run_playbook, task_result

    for extra_vars in ({"nginx_keepalive_timeout": "66s", "websocket_proxy_http_read_timeout": "61s"}, {}):
        result = run_playbook(SCENARIO_DIR / "apply_proxy.yml", "--limit", proxy, "-v", extra_vars=extra_vars)
        assert result.returncode == 0, result.stdout + result.stderr
        nginx_conf = task_result(result.stdout, "TASK [websocket.nginx.nginx : Write nginx.conf", proxy)
        assert (nginx_conf["pending_reload"], nginx_conf["reloaded"]) == (True, False), nginx_conf
        sites = task_result(result.stdout, "TASK [websocket.nginx.websocket_proxy : Check the upstreams", proxy)
        assert sites["adopted"] == ["/etc/nginx/nginx.conf"] and sites["reloaded"] is True, sites
        assert [entry["state"] for entry in sites["files"] if entry["path"].endswith("-demo.conf")] == ["updated"]
        handler = task_result(result.stdout, "RUNNING HANDLER [websocket.nginx.nginx : Reload nginx]", proxy)
        assert (handler["changed"], handler["reloaded"]) == (False, False), handler
        config = container.check_output("nginx -T 2>/dev/null")
        assert ("keepalive_timeout 66s;" in config) == bool(extra_vars)
        assert ("proxy_read_timeout 61s;" in config) == bool(extra_vars)
