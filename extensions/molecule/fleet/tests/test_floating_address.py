"""The floating address (websocket.nginx.keepalived: unicast VRRP, a WebSocket check through the local nginx).

A proxy whose nginx stops, or which stops altogether, gives the address away; WebSockets on the other proxies
are untouched; when it comes back it takes the address back only with keepalived_preempt on.
The failover time printed is from the stop to the first WebSocket echoed through the floating address;
tests/benchmarks/bench_fleet.py takes the median and worst of several tries.
"""

import subprocess
import time

from conftest import (FLOATING, PROXIES, holder, holds_floating_address, keepalived_log, site_playbook, vrrp_state,
                      wait_until, ws_url)
from wsn_e2e import EchoingWebSockets, docker_exec, ws_connect

FAILOVER_BOUND = 20  # seconds: a bound for the test to end, not a target (the figure is printed)


def echoes_through_floating_address(timeout=1.0):
    try:
        with ws_connect(ws_url(FLOATING), open_timeout=timeout) as ws:
            ws.send("through the floating address")
            return ws.recv(timeout=timeout) == "through the floating address"
    except Exception:  # noqa: BLE001  (refused, reset, timed out: not yet)
        return False


def seconds_until_floating_address_serves(started):
    wait_until(echoes_through_floating_address, FAILOVER_BOUND, interval=0.05, what="an echo through the floating address")
    return time.monotonic() - started


def wait_for_backups(proxies, timeout=30):
    """Each proxy healthy again: keepalived's state BACKUP (or MASTER)."""
    for proxy in proxies:
        wait_until(lambda proxy=proxy: vrrp_state(proxy) in ("BACKUP", "MASTER"), timeout, what=f"{proxy} healthy")


def test_the_address_is_on_one_proxy_and_serves():
    wait_for_backups(PROXIES)
    assert sorted(vrrp_state(proxy) for proxy in PROXIES) == ["BACKUP", "BACKUP", "MASTER"]
    assert vrrp_state(holder()) == "MASTER"
    assert echoes_through_floating_address()


def fail_the_holder(stop, start, while_stopped=lambda proxy: None):
    """Stop the proxy holding the address with ``stop``; time the first echo through the address; call
    ``while_stopped`` with the proxy, then ``start`` it again. WebSockets on the other proxies echo meanwhile.
    ``(stopped proxy, new holder, seconds)``."""
    wait_for_backups(PROXIES)
    first = holder()
    others = [proxy for proxy in PROXIES if proxy != first]
    live = {proxy: EchoingWebSockets(ws_url(proxy), 5) for proxy in others}
    try:
        started = time.monotonic()
        stop(first)
        seconds = seconds_until_floating_address_serves(started)
        new = holder()
        assert new in others
        while_stopped(first)
    finally:
        start(first)
        dropped = {proxy: websockets.finish() for proxy, websockets in live.items()}
    assert dropped == dict.fromkeys(others, 0), dropped
    return first, new, seconds


def systemctl(action):
    def run(proxy):
        code, output = docker_exec(proxy, "systemctl", action, "nginx")
        assert code == 0, output
    return run


def docker(action):
    def run(proxy):
        subprocess.run(["docker", action, proxy], check=True, capture_output=True, timeout=60)
    return run


def test_nginx_stopped_gives_the_address_away_and_it_does_not_come_back_without_preempt():
    def in_fault(proxy):
        wait_until(lambda: vrrp_state(proxy) == "FAULT", 10, what=f"{proxy} in FAULT")

    first, new, seconds = fail_the_holder(systemctl("stop"), systemctl("start"), in_fault)
    # nginx back: the check passes again (rise 2), the proxy becomes a backup and leaves the address where it is.
    wait_for_backups([first])
    time.sleep(4)  # several advertisements: time enough for a preempting proxy to take the address back
    assert holder() == new and not holds_floating_address(first), keepalived_log()
    print(f"failover, nginx stopped on {first}: {seconds:.2f} s until an echo through {FLOATING} (now on {new})")


def test_a_proxy_that_stops_altogether_gives_the_address_away():
    # Killed, not stopped: keepalived has no time to say goodbye, the others notice the missing adverts.
    first, new, seconds = fail_the_holder(docker("kill"), docker("start"))
    wait_for_backups([first], timeout=60)  # systemd boots, nginx and keepalived start, the check passes
    time.sleep(4)
    assert holder() == new, keepalived_log()
    print(f"failover, {first} killed: {seconds:.2f} s until an echo through {FLOATING} (now on {new})")


def test_with_preempt_on_the_highest_priority_takes_the_address_back():
    wait_for_backups(PROXIES)
    highest = PROXIES[0]  # keepalived_priority auto: the group's first host has the highest
    if holder() == highest:  # make another proxy the holder first
        fail_the_holder(systemctl("stop"), systemctl("start"))
        wait_for_backups([highest])
    assert holder() != highest
    # keepalived is reloaded, not restarted, with the new setting: the holder keeps the address until then.
    result = site_playbook("--limit", "websocket_proxies", extra_vars={"keepalived_preempt": True})
    assert result.returncode == 0, result.stdout + result.stderr
    wait_until(lambda: holds_floating_address(highest), 15, what=f"{highest} taking the address back")
    assert holder() == highest and vrrp_state(highest) == "MASTER"
    assert echoes_through_floating_address()
