"""WebSocket traffic through nginx to the echo backend comes back unchanged."""

import os

import pytest
from wsn_e2e import ws_connect

ONE_MIB = 1024 * 1024
MULTIBYTE = "é€😀"  # 2 + 3 + 4 bytes of UTF-8


def text_of_one_mib():
    text = MULTIBYTE * (ONE_MIB // 9)
    return text + "x" * (ONE_MIB - len(text.encode()))


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("hello through nginx", id="small-text"),
        pytest.param(os.urandom(64), id="small-binary"),
        pytest.param(text_of_one_mib(), id="1MiB-text"),
        pytest.param(os.urandom(ONE_MIB), id="1MiB-binary"),
    ],
)
def test_message_comes_back_unchanged(ws_base, message):
    with ws_connect(f"{ws_base}/ws/") as ws:
        ws.send(message)
        echoed = ws.recv(timeout=30)
    assert type(echoed) is type(message)  # text stays text, binary stays binary
    assert echoed == message


def test_large_text_is_exactly_one_mib():
    assert len(text_of_one_mib().encode()) == ONE_MIB


def test_many_messages_on_one_connection(ws_base):
    with ws_connect(f"{ws_base}/ws/") as ws:
        for number in range(200):
            ws.send(f"message {number}")
            assert ws.recv(timeout=10) == f"message {number}"


def test_backend_tells_who_answered(proxy, ws_base):
    with ws_connect(f"{ws_base}/ws/") as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["X-Echo-Backend"] == proxy


def test_plain_http_location_reaches_backend_health(proxy, http_base):
    from wsn_e2e import http_get

    status, _headers, body = http_get(f"{http_base}/healthz")
    assert status == 200
    assert body.decode().strip() == f"ok {proxy}"
