"""An idle WebSocket outlives nginx's default 60 s proxy_read_timeout."""

import time

import pytest
from conftest import HOSTS
from websockets.exceptions import ConnectionClosed
from wsn_e2e import base_url, ws_connect

IDLE_SECONDS = 65


def test_idle_websocket_stays_open_past_60_seconds():
    # One shared wait for every host instead of one per host.
    sockets = {host: ws_connect(f"{base_url(host, scheme='ws')}/ws/") for host in HOSTS}
    try:
        for host, ws in sockets.items():
            ws.send(f"before idle on {host}")
            assert ws.recv(timeout=10) == f"before idle on {host}"
        time.sleep(IDLE_SECONDS)
        for host, ws in sockets.items():
            ws.send(f"after {IDLE_SECONDS} s idle on {host}")
            assert ws.recv(timeout=10) == f"after {IDLE_SECONDS} s idle on {host}"
    finally:
        for ws in sockets.values():
            ws.close()


def test_short_read_timeout_closes_idle_websocket(ws_base):
    """Control for the test above: nothing but nginx's timeout keeps an idle socket open
    (no pings from either side), so a 3 s read timeout really closes it."""
    with ws_connect(f"{ws_base}/ws-short-timeout/") as ws:
        ws.send("ping?")
        assert ws.recv(timeout=5) == "ping?"
        time.sleep(5)
        with pytest.raises(ConnectionClosed):
            ws.send("too late")
            ws.recv(timeout=5)
