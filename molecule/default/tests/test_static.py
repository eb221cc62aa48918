"""Static files: caching headers, gzip, and what must never be served."""

import email.utils
import gzip
import time
from pathlib import Path

from wsn_e2e import http_get

STATIC = Path(__file__).resolve().parents[2] / "shared" / "static"


def test_index_with_cache_headers(http_base):
    status, headers, body = http_get(f"{http_base}/")
    assert status == 200
    assert body == (STATIC / "index.html").read_bytes()
    cache_control = ", ".join(headers.get_all("Cache-Control"))
    assert "max-age=3600" in cache_control
    assert "public" in cache_control
    expires = email.utils.parsedate_to_datetime(headers["Expires"]).timestamp()
    assert 3500 < expires - time.time() < 3700


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
    assert http_get(f"{http_base}/no-such-file.html")[0] == 404
