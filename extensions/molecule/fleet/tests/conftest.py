"""Fixtures and helpers for the fleet scenario: three proxies with a floating address, two echo backends.

Every container has a fixed address on the docker network wsn-fleet (molecule.yml), reached from this host,
the network's gateway: no published ports. The floating address moves between the proxies.
"""

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import docker.errors
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "support"))

import wsn_e2e  # noqa: E402  (needs the path above)

SCENARIO_DIR = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
# In the inventory's order: the first is the canary of a rolling change, and has the highest VRRP priority.
PROXIES = ["wsn-fleet-proxy-1", "wsn-fleet-proxy-2", "wsn-fleet-proxy-3"]
ADDRESSES = {"wsn-fleet-proxy-1": "10.213.57.11", "wsn-fleet-proxy-2": "10.213.57.12", "wsn-fleet-proxy-3": "10.213.57.13"}
FLOATING = "10.213.57.100"
SITE_FILE = "/etc/nginx/conf.d/websocket-proxy-fleet.conf"
ERROR_LOG = "/var/log/nginx/error.log"
STATE_FILE = "/run/websocket-nginx-keepalived/state.json"
DRAIN_FLAG = "/var/lib/websocket-nginx/draining"


def ws_url(proxy_or_address, path="/ws/"):
    return f"ws://{ADDRESSES.get(proxy_or_address, proxy_or_address)}{path}"


def run(container, *command, reads=True):
    """A command in a container; its output (it must succeed).

    A command that ``reads`` (prints what it read) is run again, up to three times, when its output comes back
    empty: under the load of make test, docker was seen to return an exec's output empty (a ``cat`` of a file of
    several hundred bytes, exit status 0)."""
    for _attempt in range(3 if reads else 1):
        code, output = wsn_e2e.docker_exec(container, *command)
        assert code == 0, f"{' '.join(command)} on {container}: {output}"
        if output:
            break
    return output


def sha256_of(container, path):
    return hashlib.sha256(run(container, "cat", path).encode()).hexdigest()


def master_pid(container):
    return run(container, "cat", "/run/nginx.pid").strip()


def worker_pids(container):
    """nginx's current workers (not the old ones still shutting down after a reload)."""
    lines = run(container, "ps", "-C", "nginx", "-o", "pid=,args=").splitlines()
    return {line.split()[0] for line in lines if line.split(None, 1)[1].strip() == "nginx: worker process"}


def log_size(container, path=ERROR_LOG):
    return int(run(container, "stat", "-c", "%s", path).strip())


def log_since(container, offset, path=ERROR_LOG):
    return run(container, "tail", "-c", f"+{offset + 1}", path)


def vrrp_state(container):
    """keepalived's state on the proxy, as its notify script wrote it (None when it has written none)."""
    for _attempt in range(3):  # an empty output of docker's: read again (see run)
        try:
            code, output = wsn_e2e.docker_exec(container, "cat", STATE_FILE)
        except docker.errors.APIError:  # the container is not running
            return None
        if code != 0:
            return None
        if output:
            return json.loads(output)["state"]
    return None


def holds_floating_address(container):
    for _attempt in range(3):  # an empty output of docker's: read again (see run)
        try:
            code, output = wsn_e2e.docker_exec(container, "ip", "-4", "-o", "addr", "show")
        except docker.errors.APIError:  # the container is not running
            return False
        if code != 0 or output:
            break
    return code == 0 and f" {FLOATING}/" in output


def keepalived_log(proxies=tuple(PROXIES), lines=15):
    """The end of keepalived's journal on each proxy, for the message of a failed assertion."""
    logs = []
    for proxy in proxies:
        command = ["journalctl", "-u", "keepalived", "-n", str(lines), "--no-pager", "-o", "short-precise"]
        try:
            logs.append(f"--- {proxy}\n" + wsn_e2e.docker_exec(proxy, *command)[1])
        except docker.errors.APIError as error:
            logs.append(f"--- {proxy}: {error}")
    return "\n".join(logs)


def holder():
    """The proxy the floating address is on (exactly one)."""
    holders = [proxy for proxy in PROXIES if holds_floating_address(proxy)]
    assert len(holders) == 1, holders
    return holders[0]


def wait_until(condition, timeout, interval=0.2, what="condition"):
    """Poll `condition` until it is true (bounded); its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            assert value, f"{what} not met within {timeout} s"
            return value
        time.sleep(interval)


def site_playbook(*args, extra_vars=None, timeout=600):
    return wsn_e2e.run_playbook("websocket.nginx.site", *args, extra_vars=extra_vars, timeout=timeout)


def inventory_sites():
    """The proxies' sites as the inventory gives them (the tests change copies)."""
    import yaml

    molecule = yaml.safe_load((SCENARIO_DIR / "molecule.yml").read_text())
    return molecule["provisioner"]["inventory"]["group_vars"]["websocket_proxies"]["fleet_sites"]


@pytest.fixture(scope="session")
def fleet_sites():
    return inventory_sites()
