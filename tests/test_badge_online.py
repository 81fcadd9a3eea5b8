"""The badge online, end to end: firmware -> UART -> module emulator -> MQTT broker -> watcher.

Each scenario runs the unmodified firmware on a virtual badge. A ``watch`` client (the
same code as ``python -m sim watch``) subscribes to the badge's telemetry topic and
keeps what it would print; the assertions are about what arrives there.
"""

import asyncio
import json
import threading

from golden import assert_golden
from sim.cloud.testing import mosquitto_broker  # noqa: F401  (fixture)
from sim.cloud.watch import watch

TEMPERATURE_C = 23.5
HUMIDITY_RH = 41.0
PERIOD_S = 10  # the badge's default sample period
FIRST_READING_S = 0.2  # the first reading is taken right after boot (about 0.13 s)
STATUS_ROWS = 12  # the climate screen's top line: one row of 12 px text


class JsonLines(list):
    """A stream for ``watch(out=...)``: keeps each printed line as a dict."""

    def write(self, text):
        for line in text.splitlines():
            if line.strip():
                self.append(json.loads(line))
        return len(text)

    def flush(self):
        pass

    def seqs(self):
        return [line["seq"] for line in self]


def watch_in_badge_loop(badge, thing):
    """Run ``watch(thing)`` inside the badge's loop once its broker is up; returns the lines.

    Receipt times (``rx``) come from the badge's clock. The watcher stops before the
    broker does at the end of the run.
    """
    lines = JsonLines()

    def hook(loop):
        async def run():
            url = await badge.cloud_ready
            await watch(thing, url, out=lines, clock=badge.clock)

        task = loop.create_task(run(), name="watch")

        async def stop():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()

        badge.runtime.on_end.insert(0, stop)

    badge.on_loop(hook)
    return lines


def when_module_exists(badge, action):
    """Call ``action(module)`` as soon as the badge's module is wired (before it boots)."""

    def hook(loop):
        async def wait():
            await badge.cloud_ready
            action(badge.module)

        loop.create_task(wait(), name="module-knobs")

    badge.on_loop(hook)


def readings_within(duration_s):
    """How many readings a badge takes in ``duration_s`` with the default period."""
    return int((duration_s - FIRST_READING_S) // PERIOD_S) + 1


def status_line(pixels):
    """The panel with everything below the top line blanked (for status-line goldens)."""
    cut = 128 * STATUS_ROWS
    return list(pixels[:cut]) + [0] * (len(pixels) - cut)


def snapshot_at(badge, t_s, shots, name):
    badge.at(t_s, lambda: shots.__setitem__(name, badge.display.panel_pixels()))


def assert_no_crash(badge):
    crashed = [line for line in badge.console if "crashed" in line or "Traceback" in line]
    assert not crashed, "\n".join(badge.console)


def first_copies(seqs):
    """``seqs`` without repeats, first occurrence kept (QoS 1 may deliver twice)."""
    seen = set()
    out = []
    for seq in seqs:
        if seq not in seen:
            seen.add(seq)
            out.append(seq)
    return out


# -- (a) the embedded broker, virtual time --------------------------------------------------


def test_readings_reach_a_watcher_through_the_embedded_broker(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.run(45)
    assert_no_crash(badge)
    count = readings_within(45)
    assert lines.seqs() == list(range(1, count + 1))
    for line in lines:
        assert line["thing"] == "badge-7"
        assert line["t"] == TEMPERATURE_C and line["rh"] == HUMIDITY_RH
    # Each reading's uptime is its place in the 10 s rhythm.
    assert [line["up"] for line in lines] == [PERIOD_S * (n - 1) for n in range(1, count + 1)]
    # Once online, a reading is at the watcher within a few ms of being taken.
    steady = lines[1:]
    assert all(0 <= line["rx"] - line["up"] < 0.5 for line in steady), steady


def test_temperature_change_is_published_with_its_value(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.at(15, lambda: setattr(badge.sensor, "temperature_c", -7.25))
    badge.at(15, lambda: setattr(badge.sensor, "humidity_rh", 83.6))
    badge.run(25)
    assert [(line["t"], line["rh"]) for line in lines] == [
        (23.5, 41.0), (23.5, 41.0), (-7.25, 83.6)]


# -- (b) mosquitto ---------------------------------------------------------------------------


def watch_in_thread(url, thing, count, timeout_s=20.0):
    """``watch`` on its own real-time loop in a thread; returns (lines, join) once subscribed.

    The badge's virtual clock runs far ahead of real time between broker answers, so a
    watcher on that loop would read mosquitto's forwards late; a thread reads them as
    they come.
    """
    lines = JsonLines()
    subscribed = threading.Event()
    outcome = {}

    def main():
        async def run():
            ready = asyncio.Event()

            async def signal():
                await ready.wait()
                subscribed.set()

            asyncio.get_running_loop().create_task(signal())
            return await asyncio.wait_for(watch(thing, url, out=lines, count=count,
                                                ready=ready), timeout_s)

        try:
            outcome["printed"] = asyncio.run(run())
        except BaseException as error:  # reported by join()
            outcome["error"] = error
        finally:
            subscribed.set()

    thread = threading.Thread(target=main, name="watch-" + thing, daemon=True)
    thread.start()
    assert subscribed.wait(10), "the watcher did not subscribe"
    assert "error" not in outcome, outcome

    def join():
        thread.join(timeout_s + 5)
        assert not thread.is_alive(), "the watcher did not finish"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["printed"]

    return lines, join


def test_readings_reach_a_watcher_through_mosquitto(make_badge, mosquitto_broker):  # noqa: F811
    thing = "badge-mq-%d" % threading.get_ident()
    count = readings_within(35)
    lines, join = watch_in_thread(mosquitto_broker.url, thing, count)
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing=thing,
                       broker_url=mosquitto_broker.url)
    badge.run(35)  # virtual time: the module waits for mosquitto's answers in real time
    assert_no_crash(badge)
    assert join() == count
    assert lines.seqs() == list(range(1, count + 1))
    assert {(line["thing"], line["t"], line["rh"]) for line in lines} == {
        (thing, TEMPERATURE_C, HUMIDITY_RH)}
    assert badge.cloud is None  # no embedded broker was started


def test_a_reading_is_sent_the_moment_it_is_taken():
    from sim.bench.cloud import reading_to_broker

    figures = reading_to_broker(readings=3)
    assert figures["count"] == 3
    # Nothing waits between the reading and its SEND: only the line's wire time is left.
    assert figures["send_floor_s"] <= figures["median_s"] <= figures["send_floor_s"] + 0.002
    assert figures["max_s"] <= figures["send_floor_s"] + figures["reply_s"] + 0.002


# -- (c), (d) offline periods and the outbox ------------------------------------------------


def go_offline(badge, knob):
    def action():
        setattr(badge.module, knob, True)
        badge.module.drop_connection()
    return action


def test_offline_readings_are_kept_and_published_in_order(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.at(35, go_offline(badge, "refuse_connections"))
    badge.at(125, lambda: setattr(badge.module, "refuse_connections", False))
    badge.run(320)
    assert_no_crash(badge)
    assert any("connection lost" in line for line in badge.console)
    assert any("ERR14 5" in line for line in badge.console)  # the refusals were seen
    seqs = lines.seqs()
    assert seqs == list(range(1, len(seqs) + 1)), seqs  # in order, no gap, no repeat
    assert len(seqs) >= readings_within(320) - 1
    offline = [line for line in lines if 35 <= line["up"] < 125]
    assert len(offline) == 9  # the readings of the outage...
    assert all(line["rx"] > 125 for line in offline)  # ...arrived after it, not during
    assert not [line for line in lines if 35 < line["rx"] < 125]
    # The badge's backoff (at most 60 s) and the module's (at most 64 s, answered as
    # ERR14 hint 1) run side by side, not one after the other: back within about
    # the longer one plus a retry.
    back_s = min(line["rx"] for line in offline)
    assert back_s - 125 < 64 + 6, back_s


def test_unreachable_endpoint_then_back(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.at(12, go_offline(badge, "unreachable"))
    badge.at(50, lambda: setattr(badge.module, "unreachable", False))
    badge.run(200)
    seqs = lines.seqs()
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert len(seqs) >= readings_within(200) - 1


def test_outbox_overflow_logs_each_dropped_reading_and_keeps_the_newest(make_badge):
    badge = make_badge(settings="BADGE_OUTBOX_SIZE = 3\n", temperature_c=TEMPERATURE_C,
                       humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.at(15, go_offline(badge, "unreachable"))
    badge.at(95, lambda: setattr(badge.module, "unreachable", False))
    badge.run(260)
    assert_no_crash(badge)
    dropped = []
    for line in badge.console:
        if "outbox full: reading" in line:
            dropped.append(int(line.split("outbox full: reading ")[1].split()[0]))
    seqs = lines.seqs()
    assert dropped, badge.console
    # Nothing vanished silently: every reading was either published or logged as dropped.
    assert sorted(seqs + dropped) == list(range(1, max(seqs) + 1))
    assert not set(seqs) & set(dropped)
    assert seqs == sorted(seqs)  # in order
    # The outage kept the three newest readings; the older ones were logged.
    after_gap = seqs[seqs.index(max(dropped) + 1):][:3]
    assert after_gap == [max(dropped) + 1, max(dropped) + 2, max(dropped) + 3]
    assert dropped == list(range(min(dropped), max(dropped) + 1))
    assert len(dropped) >= 5


# -- (e), (f) what the display says ---------------------------------------------------------


def test_status_line_shows_thing_name_and_online(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    shots = {}
    snapshot_at(badge, 30, shots, "online")
    badge.at(30, lambda: shots.__setitem__("connected", badge.module.connection.connected))
    badge.run(31)
    assert any("connected as badge-7" in line for line in badge.console)
    assert shots["connected"]
    assert_golden("online_badge-7", status_line(shots["online"]))


def test_status_line_shows_offline_while_refused(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    when_module_exists(badge, lambda module: setattr(module, "refuse_connections", True))
    shots = {}
    snapshot_at(badge, 30, shots, "offline")
    badge.at(30, lambda: shots.__setitem__("connected", badge.module.connection.connected))
    badge.run(31)
    assert shots["connected"] is False
    assert any("ERR14 5" in line for line in badge.console)
    assert_golden("offline_badge-7", status_line(shots["offline"]))


def test_no_module_keeps_sampling_and_says_so(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, module=False)
    shots = {}
    snapshot_at(badge, 40, shots, "no_module")
    badge.run(120)
    assert_no_crash(badge)
    assert any("module not answering" in line for line in badge.console)
    assert badge.sensor.measurements >= readings_within(120)
    assert_golden("no_module", status_line(shots["no_module"]))


def test_module_that_goes_silent_for_good_is_shown_and_sampling_goes_on(make_badge):
    # No burn-in shift: the frame is compared at 100 s.
    badge = make_badge(settings="BADGE_SHIFT_EVERY_S = 0\n", temperature_c=TEMPERATURE_C,
                       humidity_rh=HUMIDITY_RH, thing="badge-7")
    badge.at(20, lambda: badge.module.stop())  # powered off: not even RST helps
    shots = {}
    snapshot_at(badge, 100, shots, "silent")
    badge.run(180)
    assert_no_crash(badge)
    assert any("module not answering" in line for line in badge.console)
    assert badge.sensor.measurements >= readings_within(180)
    assert_golden("no_module_badge-7", status_line(shots["silent"]))


def test_hung_module_is_reset_through_its_rst_pin(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    badge.at(25, lambda: setattr(badge.module, "hang", True))
    badge.run(240)
    assert_no_crash(badge)
    assert badge.module.boots >= 2  # RST brought it back
    seqs = lines.seqs()
    assert first_copies(seqs) == list(range(1, max(seqs) + 1))
    assert max(seqs) >= readings_within(240) - 1


def console_times(badge, text):
    """Uptimes (s) of the badge's log lines that contain ``text``."""
    return [float(line[1:line.index("]")]) for line in badge.console
            if line.startswith("[") and text in line]


def test_module_that_hangs_while_the_badge_has_nothing_to_send_is_found_and_reset(make_badge):
    # No sensor, so no telemetry: only the session's idle check talks to the module.
    badge = make_badge(thing="badge-7")
    badge.sensor.present = False
    hang_s = 21
    badge.at(hang_s, lambda: setattr(badge.module, "hang", True))
    badge.run(150)
    assert_no_crash(badge)
    connected = console_times(badge, "connected as badge-7")
    assert connected and connected[0] < hang_s, badge.console
    noticed = [t for t in console_times(badge, "module not answering") if t > hang_s]
    # found within one idle check (30 s) and the AT's answer timeout
    assert noticed and noticed[0] <= hang_s + 30 + 10, badge.console
    assert badge.module.boots >= 2  # RST cured it
    assert [t for t in connected if t > noticed[0]], badge.console  # and the session is back


# -- (g) a noisy line and a module that resets -----------------------------------------------


def test_garbage_partial_lines_and_resets_lose_no_reading(make_badge):
    badge = make_badge(temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH, thing="badge-7")
    lines = watch_in_badge_loop(badge, "badge-7")
    module = lambda: badge.module  # noqa: E731  (the module exists once the loop runs)
    badge.at(15, lambda: module().inject_garbage(b"\xff\x00\xfe line noise \r\n"))
    badge.at(25, lambda: module().inject_garbage(b"OK 1 CONNEC"))  # a partial line
    # Noise inside the exchange of the reading taken at 40 s: right after the host
    # writes its SEND, before the module answers.
    armed = {"at_s": 40.0}

    def noise_on_send(now_s, _direction, data):
        if armed and now_s >= armed["at_s"] and data.startswith(b"AT+SEND1"):
            armed.clear()
            module().inject_garbage(b"\x00\xffgarbage\r\n")

    badge.uart_link.host.taps.append(noise_on_send)
    badge.at(55, lambda: setattr(module(), "reset_mid_command", True))
    badge.at(130, lambda: setattr(module(), "reset_mid_command", b"OK 1 CONNEC"))
    badge.run(300)
    assert_no_crash(badge)
    assert not armed  # the noise did hit a SEND exchange
    assert module().boots >= 3  # two resets mid-command
    seqs = lines.seqs()
    assert first_copies(seqs) == list(range(1, max(seqs) + 1)), seqs
    assert max(seqs) >= readings_within(300) - 1
    assert seqs == sorted(seqs)  # a repeat (QoS 1: sent again after a broken exchange)
    #                              comes right after its first copy, never out of order
