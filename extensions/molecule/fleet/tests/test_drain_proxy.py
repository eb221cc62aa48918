"""playbooks/drain_proxy.yml: a proxy leaves service while its WebSockets end, then comes back.

The proxy drained holds the floating address: keepalived hands it to another proxy, so new connections through
it go elsewhere, and the health endpoint a load balancer asks answers 503. The WebSockets that came to the
proxy's own address (as a load balancer sends them) stay open: none is cut before the deadline, and the ones
still open then are counted and reported.
"""

import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from conftest import (ADDRESSES, FLOATING, PROXIES, holder, holds_floating_address, keepalived_log, run, vrrp_state,
                      wait_until, ws_url)
from wsn_e2e import BackgroundPlaybook, EchoingWebSockets, docker_exec, ws_connect

DRAIN_PROXY = Path(__file__).resolve().parents[4] / "playbooks" / "drain_proxy.yml"
ACCESS_LOG = "/var/log/nginx/access.log"
DEADLINE = 20  # drain_proxy_timeout, seconds


def health(proxy):
    try:
        with urllib.request.urlopen(f"http://{ADDRESSES[proxy]}:8078/health", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def echo_once(url):
    with ws_connect(url, open_timeout=5) as ws:
        ws.send("probe")
        return ws.recv(timeout=5) == "probe"


def healthy(proxies, timeout=30):
    for proxy in proxies:
        wait_until(lambda proxy=proxy: vrrp_state(proxy) in ("BACKUP", "MASTER"), timeout, what=f"{proxy} healthy")


def test_drain_refuses_to_take_out_the_last_proxy_that_can_hold_the_address():
    healthy(PROXIES)
    drained = holder()
    others = [proxy for proxy in PROXIES if proxy != drained]
    try:
        for proxy in others:  # their check through nginx fails: keepalived puts them in FAULT
            run(proxy, "systemctl", "stop", "nginx", reads=False)
        for proxy in others:
            wait_until(lambda proxy=proxy: vrrp_state(proxy) == "FAULT", 15, what=f"{proxy} in FAULT")
        playbook = BackgroundPlaybook(DRAIN_PROXY, "-e", f"drain_proxy={drained}")
        returncode = playbook.wait(timeout=300)
        output = " ".join(playbook.output.split())
    finally:
        for proxy in others:
            run(proxy, "systemctl", "start", "nginx", reads=False)
    assert returncode != 0, output
    assert (f"{drained} holds the floating address (keepalived MASTER) and no other proxy of websocket_proxies "
            "could take it over") in output, output
    assert "Nothing was changed." in output
    assert "Create the drain flag" not in output
    assert docker_exec(drained, "test", "-e", "/var/lib/websocket-nginx/draining")[0] != 0
    assert holds_floating_address(drained) and health(drained) == (200, "ok\n")
    healthy(others)


def test_drain_moves_the_address_keeps_the_proxys_websockets_and_puts_it_back():
    healthy(PROXIES)
    drained = holder()
    staying = EchoingWebSockets(ws_url(drained), 3)  # through its own address, as a load balancer sends them
    leaving = [ws_connect(ws_url(drained)) for _index in range(3)]
    probe = uuid.uuid4().hex
    started = time.monotonic()
    playbook = BackgroundPlaybook(DRAIN_PROXY, "-e", f"drain_proxy={drained}", "-e", f"drain_proxy_timeout={DEADLINE}",
                                  "-e", "drain_proxy_poll_interval=2")
    probes, draining_health, new_holder = [], None, None
    try:
        deadline = time.monotonic() + 240
        while playbook.process.poll() is None and time.monotonic() < deadline:
            if playbook.time_of(r"holds the floating address now") and draining_health is None:
                new_holder = holder()
                draining_health = health(drained)
            if draining_health and len(probes) < 10:
                # New connections through the floating address: served, by another proxy.
                probes.append(echo_once(ws_url(FLOATING, f"/ws/?drain-probe={probe}")))
            if playbook.time_of(r"6 WebSockets open") and leaving:
                for ws in leaving:  # three of its clients leave: the count falls
                    ws.close()
                leaving = []
            time.sleep(0.2)
        returncode = playbook.wait(timeout=max(1, deadline - time.monotonic()))
        seconds = time.monotonic() - started
    finally:
        for ws in leaving:
            ws.close()
        dropped = staying.finish()
    output = playbook.output
    flat = " ".join(output.split())
    assert returncode == 0, output

    # Out of service: the address moved, new connections went elsewhere, the health endpoint said 503.
    assert new_holder in PROXIES and new_holder != drained, new_holder
    assert draining_health == (503, "draining\n"), draining_health
    assert probes == [True] * 10, probes
    assert probe not in run(drained, "cat", ACCESS_LOG)
    # Its own WebSockets: counted as they fell, none cut before the deadline, the rest reported at it.
    assert f"{drained}: 6 WebSockets open" in flat, flat
    assert f"{drained}: 3 WebSockets open" in flat, flat
    assert f"{drained}: 3 WebSockets still open at the deadline (drain_proxy_timeout {DEADLINE} s)" in flat, flat
    assert dropped == 0
    # Back in service: the health endpoint answers 200, it is a backup (no preemption), it serves.
    assert f"{drained} is back in service" in flat, flat
    assert health(drained) == (200, "ok\n")
    assert vrrp_state(drained) == "BACKUP" and not holds_floating_address(drained), keepalived_log()
    assert echo_once(ws_url(drained))
    print(f"drain of {drained} (deadline {DEADLINE} s): playbook {seconds:.1f} s; address moved to {new_holder}")
