"""The demo page in a real browser: Debian's headless Chromium, driven by selenium.

The page (extensions/molecule/shared/static) is served by the proxy's static location; it opens several
WebSockets through the /ws/ location (round robin over the three echo backends) and shows which
backend answered each connection and each echo. The test uses it as a person would (types a
message, clicks Send), reads what the page shows, and checks that against the backends' own logs.
Beside it the page shows nginx's own counts, from the demo's status service on the proxy
(/demo/status.json, extensions/molecule/shared/demo_status), and a chart of its open WebSockets.
"""

import re
import struct
import time
from collections import Counter

import pytest
from selenium.webdriver.common.by import By

from conftest import BACKENDS, PROXY, SERVICE
from headless_browser import chromium, missing_tools, wait_for_page
from wsn_e2e import ECHO_PORT, REPO_ROOT, base_url, docker_exec

CONNECTIONS = 8  # not the page's default (6): the query parameter is used
WHOAMI = "/ws/whoami"  # what the page opens; the backends' echo_backend_whoami_path
SCREENSHOT = REPO_ROOT / "tests" / "output" / "browser" / "demo-page.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# One consistent snapshot of what the page shows (innerText: the rendered text).
SNAPSHOT = """
const rows = (id) => [...document.querySelectorAll(`#${id} tr`)]
  .map((tr) => [...tr.cells].map((cell) => cell.innerText.trim()));
return {
  summary: document.getElementById("summary").innerText,
  connections: rows("connections"),
  backends: rows("backends"),
  echoes: [...document.querySelectorAll("#log li.echo")].map((item) => item.innerText),
  proxyStatus: document.getElementById("proxy-status").innerText,
  proxy: Object.fromEntries([...document.querySelectorAll("#proxy-counts tr")]
    .map((tr) => [tr.dataset.field, tr.cells[1].innerText.trim()])),
  servers: rows("proxy-servers"),
  chartShown: !document.getElementById("proxy-chart").hidden,
  chartPoints: (document.getElementById("chart-line")?.getAttribute("points") || "").split(" ").filter(Boolean),
  chartLast: document.getElementById("chart-last").innerText,
};
"""
ECHO_LINE = re.compile(r"#(\d+) echo from (\S+): (.*)$")
CAPACITY_USED = re.compile(r"([0-9.]+)% of (\d+)")


@pytest.fixture(scope="module")
def browser():
    missing = missing_tools()
    assert not missing, missing
    # Closed after the module: the page's WebSockets end before the drain tests count connections.
    with chromium() as driver:
        yield driver


def wait_for(driver, what, condition, timeout=15):
    """Poll the page until condition(snapshot); fail with what it shows and its console."""
    return wait_for_page(driver, SNAPSHOT, what, condition, timeout, poll=0.2)


def echo_lines(snapshot):
    """(connection number, backend, text) of every echo line in the page's log."""
    lines = []
    for line in snapshot["echoes"]:
        match = ECHO_LINE.search(line)
        assert match, f"echo line not understood: {line!r}"
        lines.append((int(match[1]), match[2], match[3]))
    return lines


def whoami_opens(since):
    """Per backend, the WebSockets on the whoami path its echo service logged since `since`."""
    counts = Counter()
    for backend in BACKENDS:
        code, output = docker_exec(backend, "journalctl", "--unit", SERVICE, "--since", f"@{int(since)}",
                                   "--output", "cat", "--no-pager")
        assert code == 0, output
        counts[backend] = sum(1 for line in output.splitlines()
                              if line.startswith("open ") and f" path={WHOAMI}" in line)
    return +counts


def check_proxy_counts(shown, spread):
    """nginx's counts as the page shows them, against the page's own WebSockets (``spread``: per backend).
    Other tests' WebSockets may still be open: nginx counts at least the page's."""
    proxy = shown["proxy"]
    assert shown["proxyStatus"].startswith("Updated "), shown["proxyStatus"]
    websockets = int(proxy["websockets"])
    assert websockets >= CONNECTIONS, f"nginx counts {websockets} open WebSockets, the page has {CONNECTIONS}: {proxy}"
    assert int(proxy["clients"]) >= CONNECTIONS, proxy
    assert int(proxy["accepts"]) - int(proxy["handled"]) == int(proxy["dropped"]), proxy
    used = CAPACITY_USED.fullmatch(proxy["capacity"])
    assert used, proxy["capacity"]
    assert float(used[1]) == round(100 * websockets / int(used[2]), 1), proxy
    # Per backend server (by the address the upstreams give, container name and echo port): at least the
    # connections the page has on it.
    servers = {address: int(count) for address, count in shown["servers"]}
    for backend, count in spread.items():
        assert servers.get(f"{backend}:{ECHO_PORT}", 0) >= count, (backend, count, shown["servers"])
    assert shown["chartShown"] and shown["chartPoints"], f"no chart: {shown}"
    assert shown["chartLast"].startswith(f"{websockets} now, "), (shown["chartLast"], websockets)


def check_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    # The first chunk is IHDR: length, type, then width and height.
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR"), f"{path}: no IHDR chunk"
    assert width >= 800 and height >= 600, f"{path}: {width}x{height}"
    assert len(data) > 10_000, f"{path}: only {len(data)} bytes, a blank page?"


def test_demo_page_shows_which_backend_answered(browser):
    started = time.time()
    try:
        browser.get(f"{base_url(PROXY)}/?connections={CONNECTIONS}")
        assert browser.title == "websocket.nginx demo"

        shown = wait_for(browser, f"{CONNECTIONS} open connections, each with the name of its backend",
                         lambda page: len(page["connections"]) == CONNECTIONS
                         and all(row[1] in BACKENDS and row[2] == "open" for row in page["connections"]))
        backend_of = {int(row[0]): row[1] for row in shown["connections"]}
        spread = Counter(backend_of.values())
        # Round robin over three backends: eight connections on one backend is not balancing.
        assert len(spread) > 1, spread
        assert {row[0]: (row[1], row[2]) for row in shown["backends"]} == \
            {name: (str(count), "0") for name, count in spread.items()}, shown["backends"]
        assert f"{CONNECTIONS} of {CONNECTIONS} connections open" in shown["summary"], shown["summary"]
        assert f"answered by {len(spread)} backends" in shown["summary"], shown["summary"]

        # What the page shows is what happened: each backend logged as many whoami WebSockets.
        deadline = time.monotonic() + 10
        while (logged := whoami_opens(started)) != spread and time.monotonic() < deadline:
            time.sleep(0.5)  # journald may not have the last lines yet
        assert logged == spread, f"backends logged {logged}, the page shows {spread}"

        # nginx's side: its counts include the page's WebSockets, and the chart follows them (one reading a second).
        # A reading taken once they were all open: idle keep-alive connections to the same servers count as
        # WebSockets too, so only the client connections tell that the page polled after they opened.
        shown = wait_for(browser, f"nginx's counts with at least the page's {CONNECTIONS} WebSockets",
                         lambda page: all((page["proxy"].get(key) or "").isdigit() and int(page["proxy"][key]) >= CONNECTIONS
                                          for key in ("websockets", "clients")))
        check_proxy_counts(shown, spread)
        readings = len(shown["chartPoints"])
        shown = wait_for(browser, "more readings on the chart", lambda page: len(page["chartPoints"]) >= readings + 2)
        check_proxy_counts(shown, spread)

        message = f"hello from the browser {time.time_ns()}"
        box = browser.find_element(By.ID, "message")
        box.clear()
        box.send_keys(message)
        browser.find_element(By.ID, "send").click()
        shown = wait_for(browser, f"an echo on each of the {CONNECTIONS} connections",
                         lambda page: len(page["echoes"]) >= CONNECTIONS)
        echoes = echo_lines(shown)
        assert sorted(number for number, _backend, _text in echoes) == list(range(1, CONNECTIONS + 1)), echoes
        for number, backend, text in echoes:
            assert text == message, f"connection #{number}: sent {message!r}, the page shows {text!r}"
            assert backend == backend_of[number], f"connection #{number} is on {backend_of[number]}, its echo names {backend}"
        # One echo per connection, counted per backend.
        assert {row[0]: (row[1], row[2]) for row in shown["backends"]} == \
            {name: (str(count), str(count)) for name, count in spread.items()}, shown["backends"]
    finally:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.unlink(missing_ok=True)  # never check a PNG left by an earlier run
        browser.save_screenshot(str(SCREENSHOT))
    check_png(SCREENSHOT)
