"""The site playbook changes the proxies one batch at a time, the canary first, and stops at a failure.

With the default batches ([1, "50%"]) three proxies go one by one. Every proxy carries live WebSockets that
echo once a second during the run (each through the proxy's own address, as a load balancer would send them).
"""

import copy
import re
import uuid

from conftest import (PROXIES, SITE_FILE, log_since, log_size, master_pid, run, sha256_of, site_playbook,
                      worker_pids, ws_url)
from wsn_e2e import EchoingWebSockets, ws_connect

CANARY, *REST = PROXIES


def changed_sites(fleet_sites, **site_change):
    sites = copy.deepcopy(fleet_sites)
    for key, value in site_change.items():
        sites[0][key] = sites[0].get(key, []) + value
    return {"websocket_proxy_sites": sites}


def modified_at(container, path):
    """The file's modification time, in seconds with nanoseconds (the containers share this host's clock)."""
    return float(run(container, "date", "-r", path, "+%s.%N"))


def test_rolling_change_goes_to_the_canary_first_and_drops_no_websocket(fleet_sites):
    masters = {proxy: master_pid(proxy) for proxy in PROXIES}
    new_path = f"/ws-rolled-{uuid.uuid4().hex[:8]}/"  # new on every proxy, whatever ran before
    live = {proxy: EchoingWebSockets(ws_url(proxy), 10) for proxy in PROXIES}
    try:
        result = site_playbook(extra_vars=changed_sites(
            fleet_sites, websocket_locations=[{"path": new_path, "upstream": "fleet_echo"}]))
    finally:
        dropped = {proxy: websockets.finish() for proxy, websockets in live.items()}
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert dropped == dict.fromkeys(PROXIES, 0), dropped
    assert "Rollout of websocket_proxies done." in output
    assert f"New configuration: {', '.join(PROXIES)}." in output

    # One batch per proxy, in the inventory's order: the canary's file was written first, and each
    # proxy's after the one before it had finished (its batch includes the check through nginx).
    written = [modified_at(proxy, SITE_FILE) for proxy in PROXIES]
    assert written == sorted(written), written
    batches = re.findall(r"TASK \[Configure the WebSocket sites\]", output)
    assert len(batches) == len(PROXIES), output
    for proxy in PROXIES:
        assert new_path in run(proxy, "cat", SITE_FILE)
        # Reloaded, not restarted: the same master.
        assert master_pid(proxy) == masters[proxy]
        with ws_connect(ws_url(proxy, new_path)) as ws:
            ws.send("new location")
            assert ws.recv(timeout=5) == "new location"
    print(f"rolling change of {len(PROXIES)} proxies: batches written at "
          f"{', '.join(f'+{at - written[0]:.1f} s' for at in written)}; 0 of {10 * len(PROXIES)} WebSockets dropped")


# A change nginx accepts but the check through nginx fails: a WebSocket location whose only server does not
# listen (502). allow_unhealthy_upstreams lets it past the check before the change.
BROKEN = {"upstreams": [{"name": "nowhere", "servers": [{"address": "127.0.0.1:9"}]}],
          "websocket_locations": [{"path": "/nowhere/", "upstream": "nowhere"}]}


def test_a_change_failing_on_the_canary_stops_the_rollout_before_the_others(fleet_sites):
    before = {proxy: (sha256_of(proxy, SITE_FILE), master_pid(proxy), worker_pids(proxy), log_size(proxy))
              for proxy in PROXIES}
    live = {proxy: EchoingWebSockets(ws_url(proxy), 5) for proxy in PROXIES}
    try:
        extra = changed_sites(fleet_sites, **BROKEN)
        extra["websocket_proxy_allow_unhealthy_upstreams"] = True
        result = site_playbook(extra_vars=extra)
    finally:
        dropped = {proxy: websockets.finish() for proxy, websockets in live.items()}
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert dropped == dict.fromkeys(PROXIES, 0), dropped

    # The play says where it stopped, which proxies run the new configuration and which do not.
    assert f"Rollout of websocket_proxies stopped at {CANARY}: " in output, output
    assert "The check through nginx failed: site fleet, location /nowhere/" in output, output
    assert "(its previous configuration is back)" in output, output
    assert "New configuration: none." in output and f"Failed: {CANARY}." in output, output
    assert f"Not reached, unchanged: {', '.join(REST)}." in output, output
    assert f"{CANARY} failed: " in output and "The rollout of websocket_proxies stopped here" in output

    # The canary served the change, then the previous files again: two reloads, the same master.
    checksum, master, _workers, offset = before[CANARY]
    assert sha256_of(CANARY, SITE_FILE) == checksum
    assert master_pid(CANARY) == master
    assert log_since(CANARY, offset).count("signal 1 (SIGHUP) received") == 2, log_since(CANARY, offset)
    assert run(CANARY, "sh", "-c", "ls -A /etc/nginx/conf.d/ | grep -c -e '~' -e '.tmp$' || true").strip() == "0"
    # The others never changed: the same files, the same master and workers, no reload in their logs.
    for proxy in REST:
        checksum, master, workers, offset = before[proxy]
        assert sha256_of(proxy, SITE_FILE) == checksum, proxy
        assert master_pid(proxy) == master, proxy
        assert worker_pids(proxy) == workers, proxy
        assert "SIGHUP" not in log_since(proxy, offset), log_since(proxy, offset)
    # Nothing ran on them after the canary failed: their hosts do not appear in the proxy play's batches.
    proxy_play = output[output.index("PLAY [Deploy nginx as WebSocket proxy"):]
    for proxy in REST:
        assert f"[{proxy}]" not in proxy_play.split("PLAY RECAP", maxsplit=1)[0], proxy
