"""The page's WebSocket against a live CPython-engine badge: hello, frames, buttons,
climate and readings, content, bad commands, several pages, time control."""

import socket

from sim.web.faults import NAMES as FAULT_NAMES
from sim.web.frames import Frame
from web_harness import PageClient, run

BOOT_S = 10.0  # simulated seconds by which the badge has drawn its first screen


def lit(frame):
    return isinstance(frame, Frame) and frame.flags & 1 and any(frame.bits)


async def booted(page):
    """The first lit frame (the badge's first screen)."""
    return await page.wait(lit, until_t=BOOT_S, what="a lit frame")


def test_hello_says_what_runs(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            hello = await page.wait_type("hello")
            assert hello["engine"] == "cpython" and hello["mode"] == "live"
            assert hello["cp"] == "10.2.1" and hello["thing"] == "badge-1"
            assert hello["time_control"] is True and hello["pages"] == 1
            assert [f["name"] for f in hello["faults"]] == list(FAULT_NAMES)
            assert [f["name"] for f in hello["faults"] if f["momentary"]] == ["module_reset"]
            assert (await page.wait_type("clock"))["rate"] == 100

    run(scenario())


def test_a_press_of_b_sends_the_next_screen_as_the_panel_shows_it(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            first = await booted(page)
            await page.send(op="press", button="B")
            changed = await page.wait(lambda m: isinstance(m, Frame)
                                      and not m.same_picture(first),
                                      until_t=first.t + 2.0, what="a new screen")
            assert changed.t > first.t
            await page.send(op="time", rate="paused")
            await page.wait_type("clock", where=lambda m: m["rate"] == "paused")
            last, pixels = badge.call(
                lambda: (badge.hub._last_frame, badge.badge.display.panel_pixels()))
            assert last.pixels() == pixels  # what the page was sent is what the glass shows
            await page.wait_type("clock")  # everything sent before it has arrived
            assert page.frames()[-1].bits == last.bits

    run(scenario())


def test_a_climate_change_reaches_the_sensor_the_broker_and_the_page(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            start = (await page.wait_type("reading", until_t=30.0))["t"]
            await page.send(op="climate", temperature_c=31.25, humidity_rh=62.5)
            climate = await page.wait_type(
                "climate", where=lambda m: m["temperature_c"] == 31.25, until_t=start + 5)
            assert climate["humidity_rh"] == 62.5
            reading = await page.wait_type(
                "reading", where=lambda m: m["temperature_c"] == 31.25,
                until_t=climate["t"] + 25.0)
            assert reading["humidity_rh"] == 62.5 and reading["seq"] >= 2
            sent = [m for m in page.of_type("mqtt")
                    if m["dir"] == "out" and m["topic"] == "badge/badge-1/telemetry"
                    and '"t":31.25' in m["payload"]]
            assert sent and sent[0]["t"] <= reading["t"]
            assert badge.call(lambda: badge.badge.sensor.temperature_c) == 31.25

    run(scenario())


def test_the_link_log_shows_commands_responses_and_events(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await page.wait_type("module", where=lambda m: m["state"] == "connected",
                                 until_t=20.0)
            at = page.of_type("at")
            assert any(m["dir"] == "command" and m["line"].startswith("AT+CONNECT")
                       for m in at), at[:20]
            assert any(m["dir"] == "response" and m["line"].startswith("OK") for m in at)
            assert any(m["dir"] == "event" and m["line"] == "EVENT high" for m in at)
            states = [m["state"] for m in page.of_type("module")]
            assert states[-3:] == ["booting", "idle", "connected"] or "connecting" in states
            await page.wait_type("shadow", where=lambda m: m["reported"], until_t=30.0)
            console = [m["text"] for m in page.of_type("console")]
            assert any("climate" in line for line in console), console

    run(scenario())


BAD_COMMANDS = [
    ("not json", None, "not JSON"),
    ('{"op": "fly"}', "fly", "unknown op"),
    ('{"op": "press", "button": "D"}', "press", "A, B or C"),
    ('{"op": "press", "button": "A", "hold_s": -1}', "press", "hold_s"),
    ('{"op": "climate", "temperature_c": 200}', "climate", "-40..125"),
    ('{"op": "climate"}', "climate", "needs"),
    ('{"op": "fault", "name": "gremlins", "on": true}', "fault", "one of"),
    ('{"op": "fault", "name": "sensor_absent", "on": "yes"}', "fault", "true or false"),
    ('{"op": "time", "rate": 5}', "time", "paused, 1, 10, 100, max"),
    ('{"op": "step"}', "step", "pause first"),
    ('{"op": "send", "kind": "qr", "text": "' + "x" * 400 + '"}', "send", "bytes"),
    ('{"op": "send", "kind": "screen", "text": "tetris"}', "send", "one of"),
    ('{"op": "send", "kind": "photo", "text": "x"}', "send", "api/photo/send"),
    ('{"op": "console", "text": "print(1)"}', "console", "no REPL"),
]


def test_bad_commands_get_a_notice_and_change_nothing(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await booted(page)
            before = badge.call(lambda: badge.hub.faults.state())
            for raw, op, words in BAD_COMMANDS:
                await page.ws.send_str(raw)
                notice = await page.wait_type("notice", where=lambda m: m["level"] == "error")
                assert notice["about"] == op and words in notice["text"], (raw, notice)
            await page.ws.send_bytes(b"\x00")
            assert "binary" in (await page.wait_type("notice"))["text"]
            assert badge.call(lambda: badge.hub.faults.state()) == before
            assert badge.call(lambda: badge.badge.sensor.temperature_c) == 22.0
            t0 = await page.now()
            assert await page.wait_type("clock", where=lambda m: m["t"] > t0 + 1.0)

    run(scenario())


def test_qr_check_answers_by_the_firmware_rules(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await page.send(op="qr_check", text="https://example.org/talks/42")
            fit = await page.wait_type("qr_fit")
            assert fit["fits"] is True and fit["scale"] >= 1 and fit["version"] >= 1
            assert fit["reason"] is None
            await page.send(op="qr_check", text="x" * 400)
            fit = await page.wait_type("qr_fit")
            assert fit["fits"] is False and "at most" in fit["reason"]

    run(scenario())


def test_content_sent_from_the_page_takes_the_cloud_path_to_the_badge(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            connected = await page.wait_type(
                "module", where=lambda m: m["state"] == "connected", until_t=20.0)
            await page.send(op="send", kind="name", text="Ada Lovelace")
            shown = await page.wait_type(
                "shadow", where=lambda m: (m["reported"] or {}).get("name") == "Ada Lovelace",
                until_t=connected["t"] + 30)
            assert {"type": "sent", "kind": "name", "bytes": 12} in page.of_type("sent")
            arrived = [m for m in page.of_type("mqtt")
                       if m["dir"] == "in" and m["topic"] == "badge/badge-1/name"]
            assert arrived and arrived[0]["payload"] == "Ada Lovelace"
            await page.send(op="send", kind="screen", text="qr")
            await page.wait_type(
                "shadow", where=lambda m: (m["reported"] or {}).get("screen") == "qr",
                until_t=shown["t"] + 30)
            assert page.of_type("sent")[-1] == {"type": "sent", "kind": "screen", "bytes": 2}

    run(scenario())


def test_two_pages_see_and_drive_the_same_badge(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as one:
            assert (await one.wait_type("hello"))["pages"] == 1
            first = await booted(one)
            async with PageClient(badge.url) as two:
                assert (await two.wait_type("hello"))["pages"] == 2
                told = await one.wait_type("notice", where=lambda m: m["about"] == "pages"
                                           and m["pages"] == 2)
                assert "2 pages" in told["text"]
                await two.wait_type("frame")
                assert isinstance(two.messages[1], Frame)  # the screen as it is now
                await two.send(op="press", button="B")
                for page in (one, two):
                    await page.wait(lambda m: isinstance(m, Frame)
                                    and not m.same_picture(first),
                                    until_t=first.t + 30.0, what="the next screen")
            assert (await one.wait_type("notice", where=lambda m: m.get("pages") == 1))

    run(scenario())


def test_a_page_closed_mid_run_leaves_the_badge_and_the_other_page_running(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as survivor:
            await booted(survivor)
            leaving = PageClient(badge.url)
            await leaving.__aenter__()
            await leaving.send(op="press", button="B")
            # gone without a closing handshake, as when a browser tab is killed
            leaving.ws.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            await leaving._session.close()
            await survivor.wait_type("notice", where=lambda m: m.get("pages") == 1)
            t0 = await survivor.now()
            reading = await survivor.wait_type("reading", where=lambda m: m["t"] > t0,
                                               until_t=t0 + 30)
            assert reading["t"] > t0
            assert badge.running

    run(scenario())


def test_pause_stops_the_clock_and_step_moves_it_to_the_next_event(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await booted(page)
            await page.send(op="time", rate="paused")
            paused = await page.wait_type("clock", where=lambda m: m["rate"] == "paused")
            later = [await page.wait_type("clock") for _ in range(3)]
            assert [m["t"] for m in later] == [paused["t"]] * 3
            assert [m["rate"] for m in later] == ["paused"] * 3
            await page.send(op="step")
            stepped = await page.wait_type("clock", where=lambda m: m["t"] != paused["t"])
            assert stepped["t"] > paused["t"] and stepped["rate"] == "paused"
            assert badge.call(lambda: badge.pace.steps_taken) >= 1
            await page.send(op="time", rate=10)
            assert (await page.wait_type("clock", where=lambda m: m["rate"] == 10))
            await page.send(op="time", rate="max")
            fast = await page.wait_type("clock", where=lambda m: m["rate"] == "max")
            assert (await page.wait_type("clock", where=lambda m: m["t"] > fast["t"] + 60))

    run(scenario())


def test_the_clock_reports_speed_and_no_heap_on_cpython(live):
    badge = live(rate=1)

    async def scenario():
        async with PageClient(badge.url) as page:
            clocks = [await page.wait_type("clock") for _ in range(6)]
            assert all(m["heap_free"] is None and m["rate"] == 1 for m in clocks)
            assert clocks[-1]["speed"] > 0

    run(scenario())


def test_reload_soft_reloads_the_badge(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            first = await booted(page)
            mark = page.mark()
            await page.send(op="reload")
            reloaded = await page.wait_type(
                "console", where=lambda m: "soft reboot (REPL_RELOAD)" in m["text"],
                since=mark, until_t=first.t + 60)
            await page.wait_type("console", where=lambda m: "sensor ready" in m["text"],
                                 until_t=reloaded["t"] + 10)
            assert badge.call(lambda: badge.badge.runtime.reloads) == 1

    run(scenario())
