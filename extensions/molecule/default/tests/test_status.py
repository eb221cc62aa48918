"""nginx's stub_status answers on the loopback address the nginx role gives it, and on nothing a client reaches."""

import re
import socket

from wsn_e2e import container_address, get_inside, http_get

STATUS = "http://127.0.0.1:8079/stub_status"  # the role's defaults
STUB_STATUS = re.compile(r"Active connections: \d+\s+server accepts handled requests\s+\d+ \d+ \d+\s+"
                         r"Reading: \d+ Writing: \d+ Waiting: \d+\s*")


def test_the_status_answers_on_the_hosts_loopback(container):
    status, body = get_inside(container, STATUS)
    assert status == "200" and STUB_STATUS.fullmatch(body), body
    assert get_inside(container, "http://127.0.0.1:8079/")[0] == "404"  # only its own path


def test_the_status_is_not_reachable_from_outside(proxy, http_base):
    status, _headers, body = http_get(f"{http_base}/stub_status")
    assert status == 404 and b"Active connections" not in body
    with socket.socket() as sock:
        sock.settimeout(5)
        assert sock.connect_ex((container_address(proxy), 8079)) != 0  # nothing listens there but loopback
