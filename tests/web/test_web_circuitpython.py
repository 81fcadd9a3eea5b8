"""The page's server with the CircuitPython engine behind it (the official UF2 on an
emulated RP2040): the same messages, no time control, emulated time, free heap.
Skipped, with what is missing and how to get it, when Node, the npm package, the UF2 or
mpy-cross is missing."""

import pytest

from sim.engines.circuitpython import harness
from sim.web.frames import Frame
from web_harness import LiveBadge, PageClient, run

VERSION = "10.2.1"


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    missing = harness.why_missing(VERSION)
    if missing:
        pytest.skip(missing)
    from sim.engines.circuitpython.drive import deploy_checkout

    folder = tmp_path_factory.mktemp("circuitpy")
    deploy_checkout(folder)
    return folder


def test_the_page_shows_the_badge_on_circuitpython(drive):
    from sim.engines.circuitpython.badge import CircuitPythonBadge

    badge = CircuitPythonBadge(drive, version=VERSION, broker_listen=("127.0.0.1", 0), seed=1)
    live = LiveBadge(badge, real_time=False).start()
    try:
        async def scenario():
            async with PageClient(live.url) as page:
                hello = await page.wait_type("hello")
                assert hello["engine"] == "circuitpython" and hello["cp"] == VERSION
                assert hello["time_control"] is False
                await page.send(op="time", rate="paused")
                notice = await page.wait_type("notice", where=lambda m: m["level"] == "error")
                assert notice["about"] == "time" and "CPython engine" in notice["text"]
                first = await page.wait(lambda m: isinstance(m, Frame) and any(m.bits),
                                        until_t=30.0, what="a lit frame")
                await page.send(op="press", button="B")
                await page.wait(lambda m: isinstance(m, Frame) and not m.same_picture(first),
                                until_t=first.t + 10, what="the next screen")
                reading = await page.wait_type("reading", where=lambda m: "mem" in m,
                                               until_t=60.0)
                clock = await page.wait_type("clock", where=lambda m: m["heap_free"])
                assert clock["rate"] == "max" and clock["heap_free"] > 10_000
                assert abs(reading["temperature_c"] - 22.0) <= 0.02  # CircuitPython's 30-bit floats
                assert any(m["dir"] == "command" for m in page.of_type("at"))
                mark = page.mark()
                await page.send(op="console", text="\u0003")  # Ctrl-C: code.py stops
                stopped = await page.wait_type(
                    "console", where=lambda m: "KeyboardInterrupt" in m["text"], since=mark,
                    until_t=reading["t"] + 30)
                await page.send(op="reload")
                await page.wait_type("console", where=lambda m: "soft reboot" in m["text"],
                                     since=mark, until_t=stopped["t"] + 30)

        run(scenario())
    finally:
        live.stop()
