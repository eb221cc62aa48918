"""The demo page (extensions/molecule/shared/static) in Debian's headless Chromium, without containers.

One Python ``websockets`` server on 127.0.0.1 stands in for nginx and the echo backends: plain GET
requests get the static files, WebSockets on /ws/whoami get a scripted backend each (in the order
they connect). A backend says its name first and then echoes, as the echo_backend role's service
does; a held backend says its name only when the test releases it, after the page has stopped
waiting for it and shows the connection as "(unnamed)"; a silent backend never says it.
/demo/status.json answers what the test sets (the demo's status service on the proxy in the
scenarios; extensions/molecule/shared/demo_status): its JSON, an error, another body, or 404 when unset.
"""

import asyncio
import json
import mimetypes
import re
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from selenium.webdriver.common.by import By
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.protocol import State

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
from headless_browser import chromium, missing_tools, wait_for_page  # noqa: E402  pylint: disable=wrong-import-position
STATIC = REPO_ROOT / "extensions" / "molecule" / "shared" / "static"
WHOAMI = "/ws/whoami"
UNNAMED = "(unnamed)"
# How long the page waits for a backend's name, read from the page so the test follows it.
APP_JS = (STATIC / "app.js").read_text()
NAME_WAIT = int(re.search(r"NAME_TIMEOUT_MS = (\d+);", APP_JS)[1]) / 1000
# How often the page asks for nginx's counts, and again after a failed request.
STATUS_RETRY = int(re.search(r"STATUS_RETRY_MS = (\d+);", APP_JS)[1]) / 1000
STATUS_URL = re.search(r'STATUS_URL = "([^"]+)";', APP_JS)[1]
CHART_ZERO = int(re.search(r"const CHART = \{[^}]*bottom: (\d+)", APP_JS)[1])  # the y of 0 in the chart
WAIT = max(NAME_WAIT, STATUS_RETRY) + 10  # the longest any wait_for below polls the page
HOLD_LIMIT = 30  # a held backend never waits longer than this for its release
STARTUP = 10  # seconds for the server thread to listen, and to stop

# One consistent snapshot of what the page shows (innerText: the rendered text).
SNAPSHOT = """
const rows = (id) => [...document.querySelectorAll(`#${id} tr`)]
  .map((tr) => [...tr.cells].map((cell) => cell.innerText.trim()));
const texts = (selector) => [...document.querySelectorAll(selector)].map((node) => node.innerText);
return {
  summary: document.getElementById("summary").innerText,
  connections: rows("connections"),
  backends: rows("backends"),
  log: texts("#log li"),
  echoes: texts("#log li.echo"),
  mismatches: texts("#log .mismatch"),
  send: !document.getElementById("send").disabled,
  proxyStatus: document.getElementById("proxy-status").innerText,
  proxyShown: !document.getElementById("proxy-data").hidden,
  stale: document.getElementById("proxy-data").classList.contains("stale"),
  proxy: Object.fromEntries([...document.querySelectorAll("#proxy-counts tr")]
    .map((tr) => [tr.dataset.field, tr.cells[1].innerText.trim()])),
  servers: rows("proxy-servers"),
  serverMarkup: document.querySelectorAll("#proxy-servers *:not(tr):not(td)").length,
  chartShown: !document.getElementById("proxy-chart").hidden,
  chartPoints: (document.getElementById("chart-line")?.getAttribute("points") || "").split(" ").filter(Boolean),
  chartLast: document.getElementById("chart-last").innerText,
};
"""
ECHO_LINE = re.compile(r"#(\d+) echo from (\S+): (.*)$")


@dataclass
class Backend:
    """What one WebSocket on /ws/whoami gets: its name first (None: never), then echoes."""

    name: str | None
    held: bool = False  # the name only once release() is called
    _released: threading.Event = field(default_factory=threading.Event)

    def release(self):
        self._released.set()


class DemoServer:
    """The static files and /ws/whoami on one origin, served from a thread of its own."""

    def __init__(self, static):
        self.static = static.resolve()
        self.backends = deque()  # scripted, taken in the order the WebSockets connect
        # /demo/status.json: a dict (its JSON), bytes (the body as is), (HTTP status, dict) or None (404).
        self.status = None
        self.port = None
        self._loop = None
        self._stop = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    def start(self):
        self._thread.start()
        assert self._ready.wait(STARTUP), "the demo server did not start"
        assert self.port, "the demo server did not listen"
        return self

    def stop(self):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STARTUP)
        assert not self._thread.is_alive(), "the demo server did not stop"

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with serve(self._echo, "127.0.0.1", 0, process_request=self._static) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._ready.set()
                await self._stop.wait()
        finally:
            self._ready.set()

    def _static(self, connection, request):
        """Plain GET requests: the page's files. None lets WebSocket handshakes through."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None if request.path == WHOAMI else connection.respond(404, "no WebSocket here\n")
        if request.path.split("?", 1)[0] == STATUS_URL:
            return self._status()
        path = request.path.split("?", 1)[0].lstrip("/") or "index.html"
        file = (self.static / path).resolve()
        if not file.is_relative_to(self.static) or not file.is_file():
            return connection.respond(404, "not found\n")
        body = file.read_bytes()
        kind = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0] or "text/plain"
        return Response(200, "OK", self._headers(kind, len(body)), body)

    def _status(self):
        status = self.status
        if status is None:
            return Response(404, "Not Found", self._headers("text/plain", 10), b"not found\n")
        code, status = status if isinstance(status, tuple) else (200, status)
        body = status if isinstance(status, bytes) else json.dumps(status).encode()
        return Response(code, "OK" if code == 200 else "Error", self._headers("application/json", len(body)), body)

    @staticmethod
    def _headers(kind, length):
        return Headers([("Content-Type", f"{kind}; charset=utf-8"), ("Content-Length", str(length)),
                        ("Cache-Control", "no-store"), ("Connection", "close")])

    async def _echo(self, websocket):
        try:
            backend = self.backends.popleft()
        except IndexError:
            await websocket.close(1013, "no backend scripted for this connection")
            return
        if backend.name is not None:
            deadline = asyncio.get_running_loop().time() + HOLD_LIMIT
            while backend.held and not backend._released.is_set():
                if websocket.state is not State.OPEN or asyncio.get_running_loop().time() > deadline:
                    await websocket.close(1011, "never released")
                    return
                await asyncio.sleep(0.02)
            await websocket.send(backend.name)
        async for message in websocket:
            await websocket.send(message)


@pytest.fixture(scope="module")
def server():
    demo = DemoServer(STATIC).start()
    yield demo
    demo.stop()


@pytest.fixture(scope="module")
def browser():
    missing = missing_tools()
    if missing:
        pytest.skip(missing)
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(server, browser):
    """open(*backends): the page with one connection per scripted backend."""
    opened = []

    def open_page(*backends, status=None):
        server.backends = deque(backends)
        server.status = status
        opened.extend(backends)
        browser.get(f"http://127.0.0.1:{server.port}/?connections={len(backends)}")
        assert browser.title == "websocket.nginx demo"
        return browser

    yield open_page
    for backend in opened:
        backend.release()  # no held backend outlives its test
    browser.get("about:blank")  # closes the page's WebSockets


def wait_for(driver, what, condition, timeout=WAIT):
    """Poll the page until condition(snapshot); fail with what it shows and its console."""
    return wait_for_page(driver, SNAPSHOT, what, condition, timeout, poll=0.1)


def send(driver, message):
    box = driver.find_element(By.ID, "message")
    box.clear()
    box.send_keys(message)
    driver.find_element(By.ID, "send").click()


def echo_lines(snapshot):
    """(connection number, backend, text) of every echo line in the page's log."""
    lines = []
    for line in snapshot["echoes"]:
        match = ECHO_LINE.search(line)
        assert match, f"echo line not understood: {line!r}"
        lines.append((int(match[1]), match[2], match[3]))
    return lines


def connection_rows(snapshot):
    """(number, backend, state, echoes) of each row of the Connections table."""
    return [tuple(row) for row in snapshot["connections"]]


def backend_rows(snapshot):
    """{backend: (open connections, echoes)} from the Backends table."""
    return {row[0]: (row[1], row[2]) for row in snapshot["backends"]}


def unnamed(driver, count=1):
    """Wait until the page has given up waiting for the names: every connection "(unnamed)"."""
    return wait_for(driver, f"{count} open connection(s) the page gave up naming",
                    lambda page: [row[1:3] for row in page["connections"]] == [[UNNAMED, "open"]] * count)


def assert_no_mismatch(snapshot):
    assert not snapshot["mismatches"], f"the page shows echoes that differ from what was sent: {snapshot['log']}"
    assert not any("(sent " in line for line in snapshot["log"]), snapshot["log"]


def test_prompt_names_and_matching_echoes(page):
    browser = page(Backend("alpha"), Backend("beta"))
    shown = wait_for(browser, "2 connections, each with the name of its backend",
                     lambda page: sorted(row[1:3] for row in page["connections"])
                     == [["alpha", "open"], ["beta", "open"]])
    assert backend_rows(shown) == {"alpha": ("1", "0"), "beta": ("1", "0")}, shown["backends"]
    assert "2 of 2 connections open" in shown["summary"] and "answered by 2 backends" in shown["summary"], shown
    assert not any("late" in line or "did not say its name" in line for line in shown["log"]), shown["log"]
    backend_of = {int(row[0]): row[1] for row in shown["connections"]}

    send(browser, "hello prompt")
    shown = wait_for(browser, "an echo on each connection", lambda page: len(page["echoes"]) >= 2)
    assert sorted(echo_lines(shown)) == [(number, backend_of[number], "hello prompt") for number in (1, 2)], shown
    assert_no_mismatch(shown)
    assert backend_rows(shown) == {"alpha": ("1", "1"), "beta": ("1", "1")}, shown["backends"]


def test_late_name_is_the_name_not_an_echo(page):
    late = Backend("late-backend", held=True)
    browser = page(late)
    shown = unnamed(browser)
    assert backend_rows(shown) == {UNNAMED: ("1", "0")}, shown["backends"]

    late.release()
    shown = wait_for(browser, "the connection named after its late backend",
                     lambda page: connection_rows(page) == [("1", "late-backend", "open", "0")])
    assert_no_mismatch(shown)
    assert not shown["echoes"], f"the late name was shown as an echo: {shown['log']}"
    assert backend_rows(shown) == {"late-backend": ("1", "0")}, shown["backends"]
    assert "answered by 1 backend" in shown["summary"], shown["summary"]
    assert any("#1 connected to late-backend" in line and "late" in line.split("late-backend", 1)[1]
               for line in shown["log"]), f"the log does not say the name came late: {shown['log']}"

    send(browser, "hello after the late name")
    shown = wait_for(browser, "the echo", lambda page: len(page["echoes"]) >= 1)
    assert echo_lines(shown) == [(1, "late-backend", "hello after the late name")], shown["log"]
    assert_no_mismatch(shown)
    assert connection_rows(shown) == [("1", "late-backend", "open", "1")], shown["connections"]
    assert backend_rows(shown) == {"late-backend": ("1", "1")}, shown["backends"]


def test_late_name_after_a_send_on_the_unnamed_connection(page):
    # Sent while unnamed: the name then comes before the echo, and neither is mistaken for the other.
    late = Backend("late-backend", held=True)
    browser = page(late)
    shown = unnamed(browser)
    assert shown["send"], "the page does not let a message go on an unnamed connection"
    send(browser, "hello before the name")
    late.release()

    shown = wait_for(browser, "the late name, then the echo",
                     lambda page: connection_rows(page) == [("1", "late-backend", "open", "1")])
    assert echo_lines(shown) == [(1, "late-backend", "hello before the name")], shown["log"]
    assert_no_mismatch(shown)
    assert backend_rows(shown) == {"late-backend": ("1", "1")}, shown["backends"]


def test_a_backend_that_never_names_itself_still_echoes(page):
    browser = page(Backend(None))
    shown = unnamed(browser)
    assert any("did not say its name" in line for line in shown["log"]), shown["log"]

    send(browser, "hello nameless")
    shown = wait_for(browser, "the echo", lambda page: len(page["echoes"]) >= 1)
    assert echo_lines(shown) == [(1, UNNAMED, "hello nameless")], shown["log"]
    assert_no_mismatch(shown)
    assert connection_rows(shown) == [("1", UNNAMED, "open", "1")], shown["connections"]
    assert backend_rows(shown) == {UNNAMED: ("1", "1")}, shown["backends"]
    assert "answered by 0 backends" in shown["summary"], shown["summary"]


# nginx's own counts -------------------------------------------------------------------------------

QUIET = {"websockets": 2, "client_connections": 3, "capacity": 10000, "capacity_percent": 0.0,
         "accepts": 41, "handled": 41, "dropped": 0,
         "servers": [{"address": "wsn-demo-backend-1:8765", "connections": 1}, {"address": "wsn-demo-backend-2:8765", "connections": 1}],
         "draining_workers": {"workers": 0, "memory_bytes": 0, "websockets": 0}}
# Busier, after a reload: one old worker still holds two of the WebSockets.
BUSY = {"websockets": 7, "client_connections": 9, "capacity": 40, "capacity_percent": 17.5,
        "accepts": 1200, "handled": 1195, "dropped": 5,
        "servers": [{"address": "wsn-demo-backend-1:8765", "connections": 4}, {"address": "wsn-demo-backend-2:8765", "connections": 3}],
        "draining_workers": {"workers": 1, "memory_bytes": 3 * 1024 * 1024, "websockets": 2}}
SHOWN_QUIET = {"clients": "3", "websockets": "2", "capacity": "0% of 10000", "accepts": "41", "handled": "41",
               "dropped": "0", "draining": "none"}
SHOWN_BUSY = {"clients": "9", "websockets": "7", "capacity": "17.5% of 40", "accepts": "1200", "handled": "1195",
              "dropped": "5", "draining": "1 (3.0 MiB, 2 WebSockets)"}


def chart_values(snapshot):
    """The chart's points as (x, y) in the SVG's coordinates (y grows downwards)."""
    return [tuple(float(number) for number in point.split(",")) for point in snapshot["chartPoints"]]


def test_the_proxys_counts_and_their_chart_follow_its_status(page, server):
    browser = page(Backend("alpha"), status=QUIET)
    shown = wait_for(browser, "nginx's counts of the quiet status", lambda page: page["proxy"] == SHOWN_QUIET)
    assert shown["proxyShown"] and shown["chartShown"] and not shown["stale"], shown
    assert shown["servers"] == [["wsn-demo-backend-1:8765", "1"], ["wsn-demo-backend-2:8765", "1"]], shown["servers"]
    assert shown["proxyStatus"].startswith("Updated "), shown["proxyStatus"]
    shown = wait_for(browser, "a chart of at least two readings", lambda page: len(page["chartPoints"]) >= 2)
    quiet_points = chart_values(shown)
    assert len({y for _x, y in quiet_points}) == 1, f"2 WebSockets at every reading, yet the line moves: {quiet_points}"
    assert shown["chartLast"].startswith("2 now, at most 2 in "), shown["chartLast"]

    server.status = BUSY
    shown = wait_for(browser, "nginx's counts of the busy status", lambda page: page["proxy"] == SHOWN_BUSY)
    assert shown["servers"] == [["wsn-demo-backend-1:8765", "4"], ["wsn-demo-backend-2:8765", "3"]], shown["servers"]
    shown = wait_for(browser, "the chart's last reading at 7", lambda page: page["chartLast"].startswith("7 now, at most 7 in "))
    points = chart_values(shown)
    assert len(points) > len(quiet_points), (quiet_points, points)
    assert [x for x, _y in points] == sorted(x for x, _y in points), f"readings out of time order: {points}"
    # Heights above the chart's zero line in proportion to the counts: 7 against the quiet readings' 2.
    heights = [CHART_ZERO - y for _x, y in points]
    assert heights[0] > 0 and abs(heights[-1] / heights[0] - 7 / 2) < 0.02, points
    # The page's own view is untouched.
    assert connection_rows(shown) == [("1", "alpha", "open", "0")], shown["connections"]


def test_without_the_status_endpoint_the_page_works_and_says_so(page):
    browser = page(Backend("alpha"))  # no status: 404, as from a copy of the static files alone
    shown = wait_for(browser, "the connection, and nginx's counts unavailable",
                     lambda page: connection_rows(page) == [("1", "alpha", "open", "0")]
                     and "unavailable" in page["proxyStatus"])
    assert f"{STATUS_URL} answered HTTP 404" in shown["proxyStatus"], shown["proxyStatus"]
    assert not shown["proxyShown"] and not shown["chartShown"], "tables or chart shown without any counts"
    assert not shown["proxy"] and not shown["servers"], shown

    send(browser, "hello without counts")
    shown = wait_for(browser, "the echo", lambda page: len(page["echoes"]) >= 1)
    assert echo_lines(shown) == [(1, "alpha", "hello without counts")], shown["log"]
    assert_no_mismatch(shown)


def test_the_services_reason_is_shown_when_it_cannot_read_nginx(page):
    # What the service answers while nginx does not run (its message comes from nginx_status).
    reason = "cannot read nginx's status at http://127.0.0.1:8079/stub_status: [Errno 111] Connection refused"
    browser = page(Backend("alpha"), status=(503, {"error": reason}))
    shown = wait_for(browser, "nginx's counts unavailable", lambda page: "unavailable" in page["proxyStatus"])
    assert f"{STATUS_URL} answered HTTP 503: {reason}." in shown["proxyStatus"], shown["proxyStatus"]
    assert not shown["proxyShown"], shown


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html>Welcome to nginx!</html>", "did not answer JSON"),
    (b'{"active": 3}', "did not answer the demo's status"),
    (b'[1, 2]', "did not answer the demo's status"),
    (b'{"websockets": -1}', "did not answer the demo's status"),
], ids=["html", "other-json", "a-list", "negative"])
def test_an_answer_that_is_not_the_status_is_not_shown(page, body, reason):
    browser = page(Backend("alpha"), status=body)
    shown = wait_for(browser, "nginx's counts unavailable", lambda page: "unavailable" in page["proxyStatus"])
    assert f"{STATUS_URL} {reason}" in shown["proxyStatus"], shown["proxyStatus"]
    assert not shown["proxyShown"] and not shown["proxy"], shown


def test_the_last_counts_stay_marked_stale_while_the_status_is_gone(page, server):
    browser = page(Backend("alpha"), status=QUIET)
    wait_for(browser, "nginx's counts", lambda page: page["proxy"] == SHOWN_QUIET)

    server.status = None
    shown = wait_for(browser, "the counts marked as the last ones", lambda page: "unavailable" in page["proxyStatus"])
    assert shown["stale"] and shown["proxyShown"] and shown["proxy"] == SHOWN_QUIET, shown
    assert "the last ones" in shown["proxyStatus"], shown["proxyStatus"]

    server.status = BUSY  # back: the page asks again within STATUS_RETRY
    shown = wait_for(browser, "the new counts", lambda page: page["proxy"] == SHOWN_BUSY)
    assert not shown["stale"] and shown["proxyStatus"].startswith("Updated "), shown


def test_the_status_is_shown_as_text(page):
    address = '<img src=x onerror="document.title=1">:8765'
    browser = page(Backend("alpha"), status={**QUIET, "servers": [{"address": address, "connections": 2}],
                                             "client_connections": "3", "accepts": 4.5})
    shown = wait_for(browser, "the server's address", lambda page: page["servers"] == [[address, "2"]])
    assert shown["serverMarkup"] == 0, "markup in the status became elements"
    assert browser.title == "websocket.nginx demo"
    # Counts that are not counts are not shown as numbers.
    assert (shown["proxy"]["clients"], shown["proxy"]["accepts"]) == ("?", "?"), shown["proxy"]
