"""playbooks/drain.yml: a backend leaves rotation, its connections end, it comes back.

WebSockets on the other backends stay open and echo during the whole drain, and no new
connection reaches the drained backend while it is out of rotation.
"""

import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from conftest import BACKENDS, INVENTORY, PROXY, backend_of, open_ws, wait_for_backend
from wsn_e2e import BackgroundPlaybook

DRAIN_PLAYBOOK = Path(__file__).resolve().parents[4] / "playbooks" / "drain.yml"
DRAINED = BACKENDS[1]
TIMEOUT = 120  # bound for the whole playbook run


def Playbook(*args):  # noqa: N802  (reads like the class it makes)
    return BackgroundPlaybook(DRAIN_PLAYBOOK, *args, inventory=INVENTORY)


def test_drain_keeps_other_connections_and_sends_nothing_new(ws_base):
    held = [open_ws(ws_base, "/rr/") for _attempt in range(9)]
    on_drained = [ws for ws, name in held if name == DRAINED]
    others = [(ws, name) for ws, name in held if name != DRAINED]
    assert len(on_drained) == 3 and len(others) == 6, Counter(name for _ws, name in held)

    probes = []  # (start, end, backend) of new connections during the drain
    playbook = Playbook("-e", f"drain_backend={DRAINED}", "-e", "drain_timeout=30",
                        "-e", "drain_poll_interval=1", "-e", "drain_maintenance=restart")
    closed_drained_at = None
    try:
        deadline = time.monotonic() + TIMEOUT
        while playbook.process.poll() is None and time.monotonic() < deadline:
            start = time.monotonic()
            probes.append((start, None, backend_of(ws_base, "/rr/")))
            probes[-1] = (start, time.monotonic(), probes[-1][2])
            # Connections on the other backends never drop and keep echoing.
            for index, (ws, name) in enumerate(others):
                message = f"during drain {index} {start}"
                ws.send(message)
                assert ws.recv(timeout=5) == message, name
            # Once the drain has found them still open (it polls again), the connections to the drained
            # backend still work; then this client ends them, which lets the drain go on before its timeout.
            # (Not a fixed time after the wait task starts: under load its first poll can come later.)
            waited_at = playbook.time_of(r"FAILED - RETRYING: \[%s\]: Wait until no connection" % re.escape(DRAINED))
            if waited_at and closed_drained_at is None:
                for ws in on_drained:
                    ws.send("last words")
                    assert ws.recv(timeout=5) == "last words"
                    ws.close()
                closed_drained_at = time.monotonic()
            time.sleep(0.2)
        returncode = playbook.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        for ws, _name in held:
            ws.close()
    output = playbook.output
    assert returncode == 0, output
    assert closed_drained_at is not None, output

    # The drain waited for this client's connections, then found none left.
    assert "FAILED - RETRYING" in output, output
    assert f"drain of {DRAINED}: 0 connection(s) still open (all ended in time)" in output, output
    # drain_maintenance=restart restarted its echo service (the only change on the backend).
    restarted = r"TASK \[Restart the echo service[^\n]*\n(?:\s*\n)*changed: \[" + re.escape(DRAINED) + r"\]"
    assert re.search(restarted, output), output

    # Out of rotation: from just after the reload (+1s for the old workers to let go of the
    # listening sockets) until the put-back starts, no new connection reached it.
    out_at = playbook.time_of(r"TASK \[Wait until no connection")
    back_at = playbook.time_of(r"TASK \[Put the backend back")
    assert out_at and back_at, output
    during = [backend for start, end, backend in probes if start > out_at + 1 and end < back_at]
    assert len(during) >= 10, (len(during), output)
    assert DRAINED not in during, Counter(during)
    assert set(during) == set(BACKENDS) - {DRAINED}, Counter(during)

    # Back in rotation.
    wait_for_backend(ws_base, "/rr/", DRAINED, timeout=10)
    assert set(Counter(backend_of(ws_base, "/rr/") for _attempt in range(12))) == set(BACKENDS)


def test_drain_refuses_to_empty_an_upstream_and_changes_nothing(tmp_path):
    """With the two other backends already down, draining the third would leave no server in rotation."""
    site_file = ["docker", "exec", PROXY, "cat", "/etc/nginx/conf.d/websocket-proxy-cluster.conf"]
    before = subprocess.run(site_file, capture_output=True, text=True, timeout=30, check=True).stdout
    others = [backend for backend in BACKENDS if backend != DRAINED]
    # In the inventory, as a user keeps them: extra vars (-e) would override the list the playbook sets.
    down_inventory = tmp_path / "down.yml"
    down_inventory.write_text(json.dumps({"websocket_proxies": {"vars": {"websocket_proxy_down_servers": others}}}))
    playbook = Playbook("-i", str(down_inventory), "-e", f"drain_backend={DRAINED}")
    returncode = playbook.wait(timeout=TIMEOUT)
    output = " ".join(playbook.output.split())
    assert returncode != 0, output
    assert f"{DRAINED} is the last server in rotation of upstream(s) rr, least, iphash, hash" in output, output
    assert "Nothing was changed. Use -e drain_force=true to drain it anyway." in output, output
    assert "Mark the backend down in the proxy configuration" not in output
    after = subprocess.run(site_file, capture_output=True, text=True, timeout=30, check=True).stdout
    assert after == before


def test_drain_refuses_when_extra_vars_would_keep_the_backend_in_rotation():
    """websocket_proxy_down_servers given with -e would override the playbook's list: caught before any change."""
    site_file = ["docker", "exec", PROXY, "cat", "/etc/nginx/conf.d/websocket-proxy-cluster.conf"]
    before = subprocess.run(site_file, capture_output=True, text=True, timeout=30, check=True).stdout
    playbook = Playbook("-e", f"drain_backend={DRAINED}", "-e", '{"websocket_proxy_down_servers": []}')
    returncode = playbook.wait(timeout=TIMEOUT)
    output = " ".join(playbook.output.split())
    assert returncode != 0, output
    assert f"{DRAINED} would not be out of rotation on {PROXY}" in output, output
    assert "Mark the backend down in the proxy configuration" not in output
    after = subprocess.run(site_file, capture_output=True, text=True, timeout=30, check=True).stdout
    assert after == before
