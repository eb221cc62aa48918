"""An idle WebSocket outlives nginx's default 60 s proxy_read_timeout, and the reloads and rollbacks of the
other tests (the sockets are opened before the first test and checked after every test
that does not end them: conftest.idle_websockets)."""

import time

import pytest
from websockets.exceptions import ConnectionClosed

IDLE_SECONDS = 65


def test_idle_websocket_stays_open_past_60_seconds_and_a_short_read_timeout_closes_it(idle_websockets):
    """One shared wait for every host. The control, idle as long on a location with a 3 s read timeout:
    nothing but nginx's timeout keeps an idle socket open (no pings from either side), so it closes."""
    time.sleep(max(0.0, IDLE_SECONDS - (time.monotonic() - idle_websockets["since"])))
    for host, ws in idle_websockets["ws"].items():
        ws.send(f"after {IDLE_SECONDS} s idle on {host}")
        assert ws.recv(timeout=10) == f"after {IDLE_SECONDS} s idle on {host}"
    for ws in idle_websockets["short"].values():
        with pytest.raises(ConnectionClosed):
            ws.send("too late")
            ws.recv(timeout=5)
