"""tls.acme: the proxy's "acme" site got its certificate from Debian's pebble (an RFC 8555 server in the
container wsn-cluster-acme) through HTTP-01 answered by nginx itself; renewals run on the proxy, go live
through a reload under open wss:// WebSockets, and one the CA refuses leaves the previous certificate serving.

Every other failure of a deploy (nginx refuses it, the check through nginx fails) is a unit test against a
real pebble and nginx: tests/unit/plugins/modules/test_acme_certificate.py."""

import os
import ssl
import time
from pathlib import Path

import pytest
import testinfra

from conftest import INVENTORY, PROXY
from wsn_e2e import EchoingWebSockets, published_address, ws_open

NAME = "proxy.wsn-cluster.test"
PEBBLE = "wsn-cluster-acme"
ROOT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pebble-pki" / "issuing-root.pem"
SCRIPT = "/usr/local/lib/websocket-nginx/acme/acme_certbot.py"
SETTINGS = "/usr/local/lib/websocket-nginx/acme/settings.json"
WEBSOCKETS = 20
FORCE_DROP_IN = "/run/systemd/system/websocket-nginx-acme-renew.service.d/force.conf"
# websocket_proxy_tls_dir, where the role puts each site's certificate and key.
TLS_DIR = "/etc/nginx/websocket-proxy-tls"


@pytest.fixture(scope="module")
def proxy():
    return testinfra.get_host(f"ansible://{PROXY}?ansible_inventory={INVENTORY}")


@pytest.fixture(scope="module")
def pebble():
    return testinfra.get_host(f"ansible://{PEBBLE}?ansible_inventory={INVENTORY}")


def tls_context():
    """Verifies the proxy's certificate against the root pebble issues under (with the ACME site's name)."""
    return ssl.create_default_context(cafile=str(ROOT))


def wss_url():
    host, port = published_address(PROXY, 8443)
    return f"wss://{host}:{port}/ws/"


def served_serial():
    """The serial of the certificate a new TLS handshake for NAME gets, verified against pebble's root."""
    import socket

    host, port = published_address(PROXY, 8443)
    with socket.create_connection((host, port), timeout=10) as raw:
        with tls_context().wrap_socket(raw, server_hostname=NAME) as tls:
            return tls.getpeercert()["serialNumber"]


def renew(proxy, force=True):
    """The renewal the timer runs (acme_certbot.py renew), forced; its exit status and output."""
    result = proxy.run(f"python3 {SCRIPT} renew --settings {SETTINGS}" + (" --force" if force else ""))
    return result.rc, result.stdout + result.stderr


def test_the_site_serves_wss_with_its_certificate_from_the_acme_server(proxy):
    with ws_open(wss_url(), ssl=tls_context(), server_hostname=NAME) as ws:
        ws.send("over wss with an ACME certificate")
        assert ws.recv(timeout=10) == "over wss with an ACME certificate"
    assert served_serial()
    # The key is root's alone; certbot's account key stays in its own directory, which only root enters.
    key = proxy.file(f"{TLS_DIR}/acme.key")
    assert (key.user, key.mode) == ("root", 0o600)
    assert proxy.file("/etc/websocket-nginx/acme").mode == 0o700
    accounts = proxy.check_output("find /etc/websocket-nginx/acme/accounts -name private_key.json").split()
    assert len(accounts) == 1 and proxy.file(accounts[0]).mode in (0o400, 0o600), accounts
    # Renewal runs on the host by itself.
    assert proxy.service("websocket-nginx-acme-renew.timer").is_enabled
    assert proxy.check_output("systemctl is-active websocket-nginx-acme-renew.timer") == "active"
    # The plain-HTTP server answers the challenge path itself (404 for a token it does not have) and
    # redirects everything else to https.
    status = proxy.check_output(
        f"python3 -c \"import http.client as h; c = h.HTTPConnection('127.0.0.1', 80); "
        f"c.request('GET', '/.well-known/acme-challenge/none', headers={{'Host': '{NAME}'}}); "
        f"print(c.getresponse().status)\"")
    assert status == "404"


def test_the_timer_s_service_runs_and_renews_nothing_that_is_not_due(proxy):
    before = served_serial()
    proxy.run_expect([0], "systemctl start websocket-nginx-acme-renew.service")
    assert served_serial() == before


def test_a_forced_renewal_under_live_wss_websockets_drops_none(proxy):
    before = served_serial()
    master = proxy.file("/run/nginx.pid").content_string.strip()
    live = EchoingWebSockets(wss_url(), WEBSOCKETS, ssl=tls_context(), server_hostname=NAME)
    started = time.monotonic()
    status, output = renew(proxy)
    took = time.monotonic() - started
    assert status == 0, output
    # A new handshake gets the new certificate at once (the deploy waited for the new workers).
    after = served_serial()
    assert after != before, output
    dropped = live.finish()
    assert dropped == 0, f"{dropped} of {WEBSOCKETS} wss:// WebSockets dropped"
    # A reload, not a restart.
    assert proxy.file("/run/nginx.pid").content_string.strip() == master
    # Opens that failed before the renewal were tried again (seen under heavy load: a TLS handshake that never
    # reached nginx, which timed the connection out after 60 s); they are not dropped WebSockets.
    print(f"forced renewal: serial {before} -> {after} in {took:.1f} s, 0 of {WEBSOCKETS} wss:// WebSockets dropped "
          f"in {live.rounds} rounds; opens tried again: {live.failed_opens}")


def test_a_renewal_the_acme_server_refuses_leaves_the_certificate_serving(proxy, pebble):
    before = served_serial()
    key = proxy.file(f"{TLS_DIR}/acme.key").content_string
    # pebble now resolves the name to itself, where nothing answers on port 80: the HTTP-01 validation fails.
    pebble.run_expect([0], f"echo '127.0.0.1 {NAME}' >> /etc/hosts")
    try:
        time.sleep(6)  # Go caches /etc/hosts for 5 s
        # The timer's own service, forced for once by a runtime drop-in (pebble's certificates are never due).
        proxy.run_expect([0], f"mkdir -p {FORCE_DROP_IN.rsplit('/', 1)[0]} && printf '[Service]\\nExecStart=\\n"
                              f"ExecStart=/usr/bin/python3 {SCRIPT} renew --settings {SETTINGS} --force\\n' > {FORCE_DROP_IN} "
                              "&& systemctl daemon-reload")
        # pebble reuses a valid authorization without validating about once in a hundred (PEBBLE_AUTHZREUSE=0 is
        # not 0%): a second try makes that one in ten thousand.
        for _attempt in range(2):
            since = proxy.check_output("date '+%Y-%m-%d %H:%M:%S'")
            result = proxy.run("systemctl start websocket-nginx-acme-renew.service")
            if result.rc != 0:
                break
        assert result.rc != 0, "pebble did not refuse the renewal"
        assert proxy.check_output("systemctl is-failed websocket-nginx-acme-renew.service") == "failed"
        # What the service wrote reaches the journal a moment after it ended.
        deadline, journal = time.monotonic() + 10, ""
        while NAME not in journal and time.monotonic() < deadline:
            time.sleep(0.3)
            journal = proxy.check_output(f"journalctl --no-pager -o cat -u websocket-nginx-acme-renew --since '{since}'")
        assert NAME in journal and "failed" in journal.lower(), journal
        print("refused renewal, in the journal: " + " | ".join(journal.splitlines()[:8]))
    finally:
        pebble.run_expect([0], f"grep -v ' {NAME}$' /etc/hosts > /etc/hosts.wsn && cat /etc/hosts.wsn > /etc/hosts")
        proxy.run_expect([0], f"rm -f {FORCE_DROP_IN} && systemctl daemon-reload && "
                              "{ systemctl reset-failed websocket-nginx-acme-renew.service || true; }")
    assert served_serial() == before
    assert proxy.file(f"{TLS_DIR}/acme.key").content_string == key
    with ws_open(wss_url(), ssl=tls_context(), server_hostname=NAME) as ws:
        ws.send("still served")
        assert ws.recv(timeout=10) == "still served"
