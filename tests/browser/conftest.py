"""Fixtures of the browser tests: one Chromium and one live simulator for the package.

The simulator is the real command, ``python -m sim --no-browser --port 0`` (with its
broker on a free port, a recording, and the clock at 10x so that readings arrive every
second of real time, while the badge dims its idle panel only after 30 s); its URL is
read from what it prints. Chromium is Debian's
(``/usr/bin/chromium``), driven by Playwright's sync API, headless. Both live for this
package only (``scope="package"``), so the rest of ``make test`` runs without them.

Nothing here waits for a time on the wall clock: every wait is for something to happen,
with a deadline that only bounds a failure.
"""

import os

import pytest

from browser.pagetools import SimProcess, free_port

CHROMIUM = "/usr/bin/chromium"


class Live:
    """The live simulator the tests share: its page URL, broker port and recording."""

    def __init__(self, process, broker_port, recording):
        self.process = process
        self.url = process.url
        self.broker_port = broker_port
        self.recording = recording


@pytest.fixture(scope="package")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Debian's Chromium is not installed at %s: `make test` installs it "
                    "(make chromium, apt-get install chromium)" % CHROMIUM, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    broker_port = free_port()
    recording = folder / "run.jsonl"
    process = SimProcess(["--no-browser", "--port", "0", "--listen",
                          "127.0.0.1:%d" % broker_port, "--record", str(recording),
                          "--rate", "10", "--temperature", "21.5", "--humidity", "40",
                          "--drive", str(folder / "drive")])
    try:
        yield Live(process, broker_port, recording)
    finally:
        process.stop()


@pytest.fixture
def open_page(chromium):
    """``open_page(url)``: a fresh page (own context) on ``url``, once its first frame is
    painted; JavaScript errors on any page fail the test."""
    contexts = []
    errors = []

    def open_(url, wait_for_frame=True, **options):
        options.setdefault("viewport", {"width": 1400, "height": 1000})
        context = chromium.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_function("() => window.badgePage && window.badgePage.hello")
        if wait_for_frame:
            page.wait_for_function("() => window.badgePage.framesPainted > 0")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, "JavaScript errors on the page: %s" % errors


@pytest.fixture
def page(live, open_page):
    return open_page(live.url)
