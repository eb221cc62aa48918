"""websocket_proxy checks each upstream with its own health_check settings (real servers on
loopback, the role in check mode against localhost, so nothing on this machine changes).

The model's handling of every setting is unit-tested (tests/unit/plugins/plugin_utils); this
proves the role hands them to upstream_health: TLS with a private CA, certificate verification
on and off, the path with its query, and an upstream whose check is turned off.
"""

import json
import re
import sys

import pytest

from test_bad_variables import REPO, run_role

sys.path.insert(0, str(REPO / ".venv" / "collections"))

from ansible_collections.websocket.nginx.tests.unit.helpers import TestPKI, WebSocketServers  # noqa: E402


def transaction_result(output):
    """The result of the role's nginx_transaction task (``changed: [localhost] => {...}`` with -v)."""
    decoder = json.JSONDecoder()
    task = output.index("write the sites, test them, reload nginx and check through it")
    match = re.compile(r"^(?:ok|changed): \[localhost\] => \{", re.MULTILINE).search(output, task)
    return decoder.raw_decode(output, match.end() - 1)[0]


@pytest.fixture
def tls_server(tmp_path):
    """A TLS WebSocket echo server on loopback whose certificate a test CA signed; (port, CA file)."""
    pki = TestPKI(tmp_path)
    servers = WebSocketServers()
    try:
        yield servers.start(ssl=pki.server_context()), pki.ca_path
    finally:
        servers.stop()


def test_each_upstream_is_checked_as_its_health_check_says(tls_server, tmp_path):
    port, ca_path = tls_server
    server = [{"address": f"127.0.0.1:{port}"}]
    upstreams = [
        {"name": "verified", "servers": server,
         "health_check": {"tls": True, "ca_path": ca_path, "path": "/ws?probe=1"}},
        {"name": "system_cas", "servers": server, "health_check": {"tls": True}},
        {"name": "unverified", "servers": server, "health_check": {"tls": True, "validate_certs": False}},
        {"name": "plain", "servers": server},
        {"name": "off", "servers": [{"address": "127.0.0.1:9"}], "health_check": {"enabled": False}},
    ]
    variables = {"websocket_proxy_sites": [{
        "name": "checks", "upstreams": upstreams,
        "websocket_locations": [{"path": "/" + item["name"] + "/", "upstream": item["name"]} for item in upstreams],
    }]}
    _returncode, output = run_role("websocket_proxy", tmp_path, "-v", "-e", json.dumps(variables))
    checked = {check["name"]: check["servers"][0] for check in transaction_result(output)["upstream_checks"]}
    assert set(checked) == {"verified", "system_cas", "unverified", "plain"}, output  # "off" is not checked
    assert (checked["verified"]["healthy"], checked["verified"]["tls"], checked["verified"]["path"]) == (
        True, True, "/ws?probe=1"), checked["verified"]
    # The test CA is not among the system's: verification fails at the TLS stage...
    assert (checked["system_cas"]["healthy"], checked["system_cas"]["stage"]) == (False, "tls"), checked["system_cas"]
    # ...and passes without it.
    assert checked["unverified"]["healthy"] is True, checked["unverified"]
    # No TLS to a TLS server: no WebSocket handshake.
    assert checked["plain"]["healthy"] is False and checked["plain"]["tls"] is False, checked["plain"]
