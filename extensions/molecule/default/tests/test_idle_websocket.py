"""An idle WebSocket outlives nginx's default 60 s proxy_read_timeout."""

import time

import pytest
from conftest import HOSTS
from websockets.exceptions import ConnectionClosed
from wsn_e2e import base_url, ws_connect

IDLE_SECONDS = 65


def test_idle_websocket_stays_open_past_60_seconds_and_a_short_read_timeout_closes_it():
    """One shared wait for every host. The control, idle as long on a location with a 3 s read timeout:
    nothing but nginx's timeout keeps an idle socket open (no pings from either side), so it closes."""
    sockets, short = {}, {}
    try:
        for host in HOSTS:
            sockets[host] = ws_connect(f"{base_url(host, scheme='ws')}/ws/")
            short[host] = ws_connect(f"{base_url(host, scheme='ws')}/ws-short-timeout/")
        for host in HOSTS:
            for ws in (sockets[host], short[host]):
                ws.send(f"before idle on {host}")
                assert ws.recv(timeout=10) == f"before idle on {host}"
        time.sleep(IDLE_SECONDS)
        for host, ws in sockets.items():
            ws.send(f"after {IDLE_SECONDS} s idle on {host}")
            assert ws.recv(timeout=10) == f"after {IDLE_SECONDS} s idle on {host}"
        for host, ws in short.items():
            with pytest.raises(ConnectionClosed):
                ws.send("too late")
                ws.recv(timeout=5)
    finally:
        for ws in (*sockets.values(), *short.values()):
            ws.close()
