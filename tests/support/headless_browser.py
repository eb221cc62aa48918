"""Debian's headless Chromium driven by selenium, for the tests of the demo page (tests/demo and the
cluster scenario's browser test)."""

import contextlib
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
# Given to selenium, so that selenium-manager never runs (it would look for a driver online).
CHROMEDRIVER = "/usr/bin/chromedriver"
# What works here: no sandbox (root in a container), no GPU, no /dev/shm of the host's size.
ARGUMENTS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
             "--window-size=1280,1000")
MISSING = "%s missing: make test-tools (scripts/setup-test-tools.sh) installs chromium and chromium-driver"


def missing_tools():
    """What of Chromium and its driver is not installed: a message, or None."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    return MISSING % " and ".join(missing) if missing else None


@contextlib.contextmanager
def chromium():
    """A headless Chromium (selenium's driver) that keeps the page's console for failure messages."""
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        # Loopback only, whatever *_PROXY says: selenium's requests to chromedriver read them.
        for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env.delenv(name, raising=False)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_page(driver, snapshot_script, what, condition, timeout, poll=0.2):
    """Poll the page (``snapshot_script``'s result) until ``condition(snapshot)``; the last snapshot. Fails with
    what the page shows and its console."""
    snapshot = None

    def check(_driver):
        nonlocal snapshot
        snapshot = driver.execute_script(snapshot_script)
        return condition(snapshot)

    try:
        WebDriverWait(driver, timeout, poll_frequency=poll).until(check)
    except TimeoutException:
        console = [entry["message"] for entry in driver.get_log("browser")]
        pytest.fail(f"the page did not show {what} within {timeout}s.\nIt shows: {snapshot}\nConsole: {console}")
    return snapshot
