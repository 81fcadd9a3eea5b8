"""Each fault from the page: it moves its part's knob, the page's ``faults`` message says
so, and the badge's reaction shows in what the page gets (console, screen, link log,
module state, readings). Switching it off brings the badge back."""

from sim.web.frames import Frame
from web_harness import PageClient, run


def faults_on(page):
    messages = page.of_type("faults")
    return messages[-1]["on"] if messages else None


async def switched(page, name, on):
    """Switch a fault: (index of the first message after the command, for waits on the
    reaction with ``since=``; simulated time at which it was switched)."""
    mark = page.mark()
    await page.send(op="fault", name=name, on=on)
    faults = await page.wait_type("faults", where=lambda m: m["on"][name] is on)
    return mark, faults["t"]


async def connected(page, until_t=30.0, since=None):
    return await page.wait_type("module", where=lambda m: m["state"] == "connected",
                                until_t=until_t, since=since)


def console_says(words):
    return lambda m: m["type"] == "console" and words in m["text"]


def test_sensor_absent_shows_no_sensor_then_readings_return(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            start = await page.wait_type("reading", until_t=20.0)
            mark, _at = await switched(page, "sensor_absent", True)
            assert badge.call(lambda: badge.badge.sensor.present) is False
            await page.wait(lambda m: isinstance(m, dict) and console_says("no sensor")(m),
                            until_t=start["t"] + 30, what="'no sensor'", since=mark)
            mark, at = await switched(page, "sensor_absent", False)
            await page.wait(lambda m: isinstance(m, dict) and console_says("sensor ready")(m),
                            until_t=at + 70, what="'sensor ready'", since=mark)
            back = await page.wait_type("reading", until_t=at + 90, since=mark)
            assert back["seq"] > start["seq"]

    run(scenario())


def test_bad_crc_fails_the_reads(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await page.wait_type("reading", until_t=20.0)
            mark, at = await switched(page, "sensor_bad_crc", True)
            assert badge.call(lambda: badge.badge.sensor.bad_crc) is True
            await page.wait(lambda m: isinstance(m, dict) and console_says("CRC mismatch")(m),
                            until_t=at + 15, what="a CRC failure", since=mark)
            mark, at = await switched(page, "sensor_bad_crc", False)
            assert await page.wait_type("reading", until_t=at + 60, since=mark)

    run(scenario())


def test_display_absent_freezes_the_screen_until_it_returns(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await page.wait(lambda m: isinstance(m, Frame) and any(m.bits),
                            until_t=10.0, what="a lit frame")
            _mark, at = await switched(page, "display_absent", True)
            await page.send(op="press", button="B")
            await page.wait_type("clock", where=lambda m: m["t"] > at + 5)
            assert badge.call(lambda: badge.badge.display.present) is False
            assert not [m for m in page.frames() if m.t > at]  # nothing reached the glass
            mark, at = await switched(page, "display_absent", False)
            await page.send(op="press", button="B")
            assert await page.wait_type("frame", until_t=at + 30, since=mark)

    run(scenario())


def test_module_reset_reboots_the_module_and_the_badge_reconnects(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await connected(page)
            boots = badge.call(lambda: badge.badge.module.boots)
            mark = page.mark()
            await page.send(op="fault", name="module_reset", on=True)
            off = await page.wait_type("module", where=lambda m: m["state"] == "off",
                                       since=mark)
            booting = await page.wait_type("module", where=lambda m: m["state"] == "booting",
                                           until_t=off["t"] + 5, since=mark)
            assert await connected(page, until_t=booting["t"] + 60, since=mark)
            assert badge.call(lambda: badge.badge.module.boots) == boots + 1
            assert faults_on(page)["module_reset"] is False  # momentary

    run(scenario())


def test_module_hang_is_cured_by_the_badge_pulsing_reset(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await connected(page)
            mark, at = await switched(page, "module_hang", True)
            hung = await page.wait_type("module", where=lambda m: m["state"] == "hung",
                                        since=mark, until_t=at)
            # the driver times out, resynchronises, then pulses RST: the hang is gone
            cured = await page.wait_type("faults", where=lambda m: not m["on"]["module_hang"],
                                         until_t=hung["t"] + 120, since=mark)
            assert await connected(page, until_t=cured["t"] + 60, since=mark)
            assert any("module not answering" in m["text"] for m in page.of_type("console"))

    run(scenario())


def test_broker_down_takes_the_badge_offline_and_back(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await page.wait_type("reading", until_t=30.0)
            mark, at = await switched(page, "broker_down", True)
            assert badge.call(lambda: badge.badge.module.unreachable) is True
            lost = await page.wait(lambda m: isinstance(m, dict) and m["type"] == "module"
                                   and m["state"] != "connected", until_t=at + 5,
                                   what="the connection lost", since=mark)
            await page.wait(lambda m: isinstance(m, dict) and console_says("unreachable")(m),
                            until_t=lost["t"] + 30, what="a failed reconnect", since=mark)
            down_seq = max(m["seq"] for m in page.of_type("reading"))
            mark, at = await switched(page, "broker_down", False)
            back = await connected(page, until_t=at + 130, since=mark)
            later = await page.wait_type("reading", where=lambda m: m["seq"] > down_seq + 1,
                                         until_t=back["t"] + 30, since=mark)
            seqs = [m["seq"] for m in page.of_type("reading")]
            assert sorted(set(seqs)) == list(range(1, later["seq"] + 1))  # the outbox caught up

    run(scenario())


def test_uart_noise_puts_garbage_on_the_line_while_on(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            await connected(page)
            mark, at = await switched(page, "uart_noise", True)
            await page.wait(lambda m: isinstance(m, dict) and m["type"] == "at"
                            and m["dir"] == "response" and "\\x" in m["line"],
                            until_t=at + 30, what="noise on the line", since=mark)
            mark, at = await switched(page, "uart_noise", False)
            assert badge.call(lambda: badge.hub.faults._noise_task) is None
            assert await page.wait_type("reading", until_t=at + 60, since=mark)

    run(scenario())


def test_module_faults_on_a_badge_without_a_module_get_a_notice(live):
    badge = live(module=False)

    async def scenario():
        async with PageClient(badge.url) as page:
            assert (await page.wait_type("module", until_t=5.0))["state"] == "absent"
            await page.send(op="fault", name="module_hang", on=True)
            notice = await page.wait_type("notice", where=lambda m: m["level"] == "error",
                                          until_t=30.0)
            assert notice["about"] == "fault" and "no ExpressLink module" in notice["text"]
            assert faults_on(page)["module_hang"] is False

    run(scenario())
