"""The site "secure": wss:// and https through nginx with the test CA, Mozilla intermediate protocols,
the plain-HTTP redirect and HSTS, a wss:// upstream, the Origin allowlist, per-client limits keyed
on the real client address (X-Forwarded-For from a trusted proxy), max_conns, and a key that does
not match its certificate never going live."""

import contextlib
import hashlib
import http.client
import os
import random
import ssl
import subprocess
from pathlib import Path

import pytest
import websocket
from websockets.exceptions import InvalidStatus

from conftest import HOSTS
from wsn_e2e import http_get, published_address, ws_connect

PKI = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki"
CA = str(PKI / "ca.pem")
SERVER_NAME = "proxy.test"
KEY_ON_HOST = "/etc/nginx/websocket-proxy-tls/secure.key"
CERT_ON_HOST = "/etc/nginx/websocket-proxy-tls/secure.crt"


@pytest.fixture
def tls_port(proxy):
    return published_address(proxy, 443)[1]


@pytest.fixture
def wss_base(tls_port):
    return f"wss://127.0.0.1:{tls_port}"


def verified_context():
    return ssl.create_default_context(cafile=CA)


class wss(object):
    """A WebSocket over TLS, verified against the test CA as proxy.test.

    websocket-client, single-threaded: under CPU load the websockets sync client now and then sent
    its request only after nginx gave up on it (60 s), with TLS only (its reader thread and the
    handshake share the SSL socket).
    """

    def __init__(self, url, origin=None, additional_headers=None):
        self.ws = websocket.create_connection(
            url, timeout=10, origin=origin, suppress_origin=origin is None,
            header=["%s: %s" % item for item in (additional_headers or {}).items()],
            sslopt={"ca_certs": CA, "server_hostname": SERVER_NAME})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, text):
        self.ws.send(text)

    def recv(self, timeout=10):
        self.ws.settimeout(timeout)
        return self.ws.recv()

    def close(self):
        self.ws.close()


def echoes(ws, text="hello"):
    ws.send(text)
    return ws.recv(timeout=10) == text


def refused_status(url, **kwargs):
    """The HTTP status nginx answers a handshake it refuses with (fails when it is accepted)."""
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        with wss(url, **kwargs):
            pass
    return refused.value.status_code


def client(address):
    """Headers of a request that a trusted load balancer forwards for ``address``."""
    return {"X-Forwarded-For": address}


def some_client():
    """A client address of its own for each test run (one of 16 million), so that runs never share a limit."""
    return "10.%d.%d.%d" % tuple(random.getrandbits(24).to_bytes(3, "big"))


def s_client(port, version):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", f"-{version}", "-servername", SERVER_NAME,
         "-CAfile", CA, "-verify_return_error",
         # Lets the client offer TLS 1.0 and 1.1 at all (OpenSSL 3 refuses them at its default level),
         # so that what is tested is nginx refusing them.
         "-cipher", "DEFAULT@SECLEVEL=0"],
        input="", capture_output=True, text=True, timeout=30, check=False)


def test_wss_echo_through_nginx_verified_with_the_test_ca(wss_base):
    with wss(f"{wss_base}/ws/") as ws:
        assert echoes(ws, "over wss")
    # Without the test CA the certificate is not trusted: it is the site's own, not a default one.
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(f"{wss_base}/ws/", timeout=10, sslopt={"server_hostname": SERVER_NAME})


@pytest.mark.parametrize("version, accepted", [("tls1", False), ("tls1_1", False), ("tls1_2", True), ("tls1_3", True)])
def test_only_tls_1_2_and_1_3_are_accepted(tls_port, version, accepted):
    result = s_client(tls_port, version)
    output = result.stdout + result.stderr
    if accepted:
        assert result.returncode == 0, output
        assert "Verify return code: 0 (ok)" in output
        assert {"tls1_2": "Protocol  : TLSv1.2", "tls1_3": "TLSv1.3"}[version] in output
    else:
        assert result.returncode != 0, output
        # nginx answered with a protocol_version alert: the client did offer the old version.
        assert "alert protocol version" in output, output


def test_plain_http_redirects_to_https_and_https_sends_hsts(proxy, tls_port):
    connection = http.client.HTTPConnection("127.0.0.1", published_address(proxy, 8080)[1], timeout=10)
    try:
        connection.request("GET", "/files/report.txt?x=1", headers={"Host": SERVER_NAME})
        response = connection.getresponse()
        assert response.status == 301
        assert response.headers["Location"] == f"https://{SERVER_NAME}/files/report.txt?x=1"
    finally:
        connection.close()
    for path, expected in (("/", 200), ("/no-such-file", 404)):
        status, headers, _body = http_get(f"https://127.0.0.1:{tls_port}{path}", context=verified_context())
        assert status == expected
        # The static location sets its own Cache-Control header; HSTS is there too, not only server-wide.
        assert headers["Strict-Transport-Security"] == "max-age=63072000"


def test_wss_upstream_through_the_tls_site(ws_base):
    """/via-tls/ on the plain site goes to nginx's own TLS site as a wss:// upstream, verified as proxy.test."""
    with ws_connect(f"{ws_base}/via-tls/") as ws:
        assert echoes(ws, "plain to nginx, wss to the upstream")


def test_origin_allowlist(wss_base):
    with wss(f"{wss_base}/origin/", origin="https://app.test") as ws:
        assert echoes(ws)
    assert refused_status(f"{wss_base}/origin/", origin="https://evil.test") == 403
    # Same host, other scheme: another origin.
    assert refused_status(f"{wss_base}/origin/", origin="http://app.test") == 403
    # allow_missing_origin is false there: a client without Origin is refused too.
    assert refused_status(f"{wss_base}/origin/") == 403
    # A location without an allowlist takes any origin.
    with wss(f"{wss_base}/ws/", origin="https://evil.test") as ws:
        assert echoes(ws)


def test_connections_per_client_trip_at_the_limit_and_not_before(wss_base):
    first, second = some_client(), "198.51.100.7"
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(wss(f"{wss_base}/limited/", additional_headers=client(first)))
                   for _connection in range(3)]
        assert all(echoes(ws) for ws in sockets)
        assert refused_status(f"{wss_base}/limited/", additional_headers=client(first)) == 429
        # The limit is per client address, as the trusted proxy reports it.
        with wss(f"{wss_base}/limited/", additional_headers=client(second)) as ws:
            assert echoes(ws)
        sockets[0].close()
        with wss(f"{wss_base}/limited/", additional_headers=client(first)) as ws:
            assert echoes(ws)


def test_handshake_rate_trips_after_the_burst_and_not_before(wss_base):
    """6r/m with burst 2: three handshakes at once pass, the fourth gets the configured 503."""
    address = some_client()
    for _handshake in range(3):
        with wss(f"{wss_base}/rate/", additional_headers=client(address)) as ws:
            assert echoes(ws)
    assert refused_status(f"{wss_base}/rate/", additional_headers=client(address)) == 503


def test_max_conns_caps_websockets_per_upstream_server(ws_base):
    with ws_connect(f"{ws_base}/capped/") as one, ws_connect(f"{ws_base}/capped/") as two:
        assert echoes(one) and echoes(two)
        with pytest.raises(InvalidStatus) as refused:
            with ws_connect(f"{ws_base}/capped/"):
                pass
        assert refused.value.response.status_code == 502
    with ws_connect(f"{ws_base}/capped/") as ws:
        assert echoes(ws)


def test_upstream_health_speaks_wss_through_the_proxy_with_the_test_ca():
    """On both proxies at once (one ansible run per case): healthy with the test CA, refused at tls without it."""
    def check(*args):
        result = subprocess.run(
            ["ansible", "websocket_proxies", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-o",
             "-m", "websocket.nginx.upstream_health",
             "-a", " ".join(("servers=127.0.0.1:443", "tls=true", "host_header=proxy.test", "path=/ws/", "echo=true",
                             "min_healthy=0") + args)],
            capture_output=True, text=True, timeout=120, check=False)
        lines = [line for line in result.stdout.splitlines() if "=>" in line]
        assert len(lines) == len(HOSTS), result.stdout + result.stderr
        return lines
    assert all('"healthy": 1' in line for line in check("ca_path=/etc/ssl/wsn-test-ca.pem"))
    assert all('"healthy": 0' in line and '"stage": "tls"' in line for line in check())


def test_key_file_is_private(container):
    key = container.file(KEY_ON_HOST)
    assert key.mode == 0o600 and key.user == "root"
    assert container.file(CERT_ON_HOST).mode == 0o644


def served_certificate(tls_port):
    return ssl.get_server_certificate(("127.0.0.1", tls_port), ca_certs=CA)


def same_certificate(pem, path):
    return ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(Path(path).read_text())


def test_a_renewed_certificate_goes_live_and_a_mismatched_key_never_does(
        proxy, container, wss_base, tls_port, apply_site_change):
    if proxy != HOSTS[0]:
        pytest.skip("the rollback after nginx -t is the same on both releases (unit-tested against a real nginx in "
                    "tests/unit/plugins/modules/test_nginx_transaction.py); the certificate's own handling runs once, to "
                    "keep the suite short")
    assert same_certificate(served_certificate(tls_port), PKI / "server.pem")
    with wss(f"{wss_base}/ws/") as open_ws:
        # A renewed certificate and key: copied, nginx reloads, new handshakes get the new certificate.
        renewed = apply_site_change({"tls": {"certificate_src": str(PKI / "renewed.pem"),
                                             "certificate_key_src": str(PKI / "renewed.key")}}, molecule_site_index=1)
        assert renewed.returncode == 0, renewed.stdout + renewed.stderr
        assert same_certificate(served_certificate(tls_port), PKI / "renewed.pem")
        key_before = container.file(KEY_ON_HOST).sha256sum
        assert key_before == hashlib.sha256((PKI / "renewed.key").read_bytes()).hexdigest()

        # A key that does not match the certificate: nginx -t refuses it, nothing reloads.
        result = apply_site_change({"tls": {"certificate_key_src": str(PKI / "other.key")}}, molecule_site_index=1)
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "nginx rejected the new configuration" in output
        assert "key values mismatch" in output
        # The key's content is never printed, even in the failure report.
        assert "PRIVATE KEY" not in output
        for key in ("other.key", "server.key", "renewed.key"):
            body = "".join((PKI / key).read_text().splitlines()[1:-1])
            assert body[:40] not in output
        # The previous certificate and key are back, and nginx still serves them.
        assert container.file(KEY_ON_HOST).sha256sum == key_before
        assert container.file(KEY_ON_HOST).mode == 0o600
        assert same_certificate(served_certificate(tls_port), PKI / "renewed.pem")
        assert echoes(open_ws)
    with wss(f"{wss_base}/ws/") as ws:
        assert echoes(ws)
