"""The session log: a WebSocket through the proxy is one JSON line in /var/log/nginx/websocket-sessions.log,
written when it closes, and Debian's logrotate for nginx covers the file."""

import datetime
import fnmatch
import json
import random
import time
import uuid

from wsn_e2e import ECHO_PORT, ws_connect

SESSION_LOG = "/var/log/nginx/websocket-sessions.log"  # the role's default
MESSAGES = 5
MESSAGE_SIZE = 100
# A frame of MESSAGE_SIZE bytes: 2 bytes of header, 4 of mask from the client; the handshake and the
# closing frame come on top.
CLIENT_FRAME = MESSAGE_SIZE + 6
SERVER_FRAME = MESSAGE_SIZE + 2
HANDSHAKE_AND_CLOSE = 1024
WAIT = 10


def session_lines(container, path):
    """The session log's lines for requests to ``path`` (each line parsed as JSON: one that is not fails)."""
    text = container.check_output(f"cat {SESSION_LOG}")
    return [line for line in map(json.loads, text.splitlines()) if line["path"] == path]


def test_a_websocket_is_one_json_line_when_it_closes(container, ws_base):
    path = f"/ws/session-log-{uuid.uuid4().hex}"
    # As from the trusted gateway in front of nginx (websocket_proxy_real_ip_from), for a client of its own.
    client = "10.%d.%d.%d" % tuple(random.getrandbits(24).to_bytes(3, "big"))
    with ws_connect(f"{ws_base}{path}", additional_headers={"X-Forwarded-For": client}) as ws:
        opened = time.monotonic()
        for number in range(MESSAGES):
            message = f"{number}".ljust(MESSAGE_SIZE, "x")
            ws.send(message)
            assert ws.recv(timeout=WAIT) == message
        assert session_lines(container, path) == []  # written when it ends, not before
        held = time.monotonic() - opened
    deadline = time.monotonic() + WAIT
    while not (lines := session_lines(container, path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    (line,) = lines
    assert (line["status"], line["client"], line["site"], line["location"]) == (101, client, "demo", "/ws/"), line
    assert (line["host"], line["upstream"]) == ("127.0.0.1", f"127.0.0.1:{ECHO_PORT}")  # ws_base's host, without port
    assert 0 <= float(line["upstream_connect_time"]) < WAIT
    assert held - 0.002 <= line["duration"] < held + WAIT
    ended = datetime.datetime.fromisoformat(line["time"])
    assert abs(datetime.datetime.now(datetime.timezone.utc) - ended) < datetime.timedelta(minutes=1)
    assert MESSAGES * SERVER_FRAME < line["bytes_to_client"] < MESSAGES * SERVER_FRAME + HANDSHAKE_AND_CLOSE
    assert MESSAGES * CLIENT_FRAME < int(line["bytes_to_upstream"]) < MESSAGES * CLIENT_FRAME + HANDSHAKE_AND_CLOSE


def test_debians_logrotate_for_nginx_rotates_the_session_log(container):
    rules = container.file("/etc/logrotate.d/nginx").content_string
    patterns = [line.split("{")[0].strip() for line in rules.splitlines() if line.startswith("/")]
    assert patterns and any(fnmatch.fnmatch(SESSION_LOG, pattern) for pattern in patterns), rules


def test_the_session_log_is_readable_only_as_debians_own_nginx_logs_are(container):
    """It holds client addresses: www-data:adm 0640 like access.log, not root's 0644 nginx would create."""
    log = container.file(SESSION_LOG)
    assert (log.user, log.group, log.mode) == ("www-data", "adm", 0o640)
