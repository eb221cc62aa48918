"""Static files: caching headers, gzip, and what must never be served."""

import gzip
from pathlib import Path

from wsn_e2e import http_get

STATIC = Path(__file__).resolve().parents[2] / "shared" / "static"


def header_fields(headers, name):
    """Every field ``name`` as sent, one item per header line: http.client keeps repeated fields apart."""
    return headers.get_all(name) or []


def test_index_with_cache_headers(http_base):
    """The demo site's "/" has cache_control public and the default expires 1h: one Cache-Control field with
    both (not expires' own besides), and no Expires (max-age says it all, RFC 9111 section 5.3)."""
    status, headers, body = http_get(f"{http_base}/")
    assert status == 200
    assert body == (STATIC / "index.html").read_bytes()
    assert header_fields(headers, "Cache-Control") == ["public, max-age=3600"]
    assert header_fields(headers, "Expires") == []
    assert header_fields(headers, "X-Content-Type-Options") == ["nosniff"]
    # On a conditional request too.
    status, headers, _body = http_get(f"{http_base}/", {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    assert header_fields(headers, "Cache-Control") == ["public, max-age=3600"]


def test_gzip_when_asked(http_base):
    status, headers, body = http_get(f"{http_base}/app.js", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == (STATIC / "app.js").read_bytes()


def test_no_gzip_when_not_asked(http_base):
    status, headers, body = http_get(f"{http_base}/app.js")
    assert status == 200
    assert headers["Content-Encoding"] is None
    assert body == (STATIC / "app.js").read_bytes()


def test_dotfile_is_refused(http_base):
    status, _headers, body = http_get(f"{http_base}/.env")
    assert status == 403
    assert b"must-never-be-served" not in body


def test_directory_is_not_listed(http_base):
    status, _headers, body = http_get(f"{http_base}/files/")
    assert status == 403
    assert b"report.txt" not in body
    assert http_get(f"{http_base}/files/report.txt")[0] == 200


def test_missing_file_is_404(http_base):
    status, headers, _body = http_get(f"{http_base}/no-such-file.html")
    assert status == 404
    # The file's caching headers are not for a 404; nosniff is.
    assert header_fields(headers, "Cache-Control") == []
    assert header_fields(headers, "X-Content-Type-Options") == ["nosniff"]
