"""The badge's inputs without polling: keypad scanners on the simulated pins, tasks
parked on their event queues, and the EVENT line carrying messages to the badge."""

import asyncio
import sys

import pytest

from sim.engines.cpython import cp_asyncio_core
from sim.engines.cpython import world as world_module
from sim.core.clock import VirtualClock
from sim.content.deliver import BadgeScript, deliver, sleep_until
from sim.core.loop import SimEventLoop
from sim.engines.cpython.world import World

THING = "badge-1"
TICK_S = 1 / 1024  # CircuitPython's keypad counts its interval in these


class Pin:
    def __init__(self, name):
        self.name = name


@pytest.fixture
def world():
    """A World with a virtual clock and a loop, installed for the shims."""
    clock = VirtualClock()
    world = World(clock)
    loop = SimEventLoop(clock)
    world.loop = loop
    world_module.install(world)
    yield world
    world_module.uninstall()
    loop.close()


def keypad_shim():
    import importlib

    return importlib.import_module("sim.shims.keypad")


def test_a_scanner_sees_a_change_at_its_next_scan_and_costs_nothing_meanwhile(world):
    """interval 5 ms = 5 ticks of 1/1024 s: scans at 0, 4.88, 9.77, 14.65 ms... A task
    parked on the queue wakes at the first scan after the change and not before."""
    keypad = keypad_shim()
    level = {"high": False}
    model = world.pin("GP10")
    model.source = lambda: level["high"]
    keys = keypad.Keys((Pin("GP10"),), value_when_pressed=True, interval=0.005)
    period_s = 5 * TICK_S
    woke = []

    def raise_line():
        level["high"] = True
        model.changed()

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_at(100.0123, raise_line)
        steps_before = world.clock.stalls.steps
        await cp_asyncio_core._io_queue.queue_read(keys.events)
        woke.append((world.clock.now(), world.clock.stalls.steps - steps_before))
        return keys.events.get()

    event = world.loop.run_until_complete(scenario())
    at_s, steps = woke[0]
    first_scan_after = period_s * (int(100.0123 / period_s) + 1)
    assert at_s == pytest.approx(first_scan_after, abs=1e-9)
    assert 100.0123 < at_s <= 100.0123 + period_s
    assert steps <= 3  # the change, the scan, the wake-up: 100 s cost no polling
    assert event.pressed and event.key_number == 0
    assert len(keys.events) == 0


def test_a_change_undone_before_the_next_scan_is_not_seen(world):
    """A pulse shorter than the scan interval falls between two scans (as on the
    badge); a level that lasts is seen once, however often it is touched."""
    keypad = keypad_shim()
    level = {"high": False}
    model = world.pin("GP10")
    model.source = lambda: level["high"]
    keys = keypad.Keys((Pin("GP10"),), value_when_pressed=True, interval=0.01)

    def set_level(high):
        level["high"] = high
        model.changed()

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_at(1.0001, set_level, True)
        loop.call_at(1.0002, set_level, False)  # gone before the scan at ~1.0059
        await asyncio.sleep(1.5)
        assert len(keys.events) == 0
        for offset in (0.0, 0.001, 0.002):
            loop.call_at(2.0 + offset, set_level, True)
        await asyncio.sleep(1.0)
        return [keys.events.get() for _ in range(len(keys.events))]

    events = world.loop.run_until_complete(scenario())
    assert [(e.key_number, e.pressed) for e in events] == [(0, True)]


def test_queue_read_refuses_what_cannot_be_polled():
    with pytest.raises(TypeError, match="stream.ioctl"):
        asyncio.run(cp_asyncio_core._io_queue.queue_read(object()))


def test_a_deinited_scanner_stops_watching_its_pin(world):
    keypad = keypad_shim()
    model = world.pin("GP13")
    keys = keypad.Keys((Pin("GP13"),), value_when_pressed=False)
    assert len(model.watchers) == 1
    keys.deinit()
    assert model.watchers == [] and not model.claimed


def test_the_runtime_provides_asyncio_core_only_during_a_run(make_badge):
    badge = make_badge(module=False)
    seen = {}

    def probe():
        from asyncio import core

        seen["core"] = core

    badge.at(1.0, probe)
    badge.run(2)
    assert seen["core"] is cp_asyncio_core
    assert not hasattr(asyncio, "core")
    assert "asyncio.core" not in sys.modules


# -- the EVENT line on a whole badge ---------------------------------------------------------------


def get_commands_after_rises(badge):
    """Record, for each rise of the module's EVENT pin, when the badge next wrote a
    GET or EVENT? command: [(rise_s, command_s)]."""
    rises, commands = [], []

    def on_level(level):
        if level:
            rises.append(badge.clock.now())

    def on_write(now_s, _name, data):
        if data.startswith((b"AT+GET", b"AT+EVENT?")):
            commands.append(now_s)

    badge.module.event_pin_listeners.append(on_level)
    badge.uart_link.host.taps.append(on_write)
    return rises, commands


def test_the_badge_asks_the_module_within_one_scan_of_a_message(make_badge):
    """With BADGE_EVENT_SCAN_MS = 5, every message is asked for at most one scan
    period (5/1024 s) after the module raised EVENT, whatever the phase."""
    trace = {}

    async def steps(url, badge):
        await sleep_until(badge.clock, 8)
        trace["rises"], trace["commands"] = get_commands_after_rises(badge)
        for index in range(12):
            await asyncio.sleep(0.5 + 0.0007 * index)  # walks through the scan phase
            await deliver(url, THING, "name", "Name %d" % index)

    badge = make_badge(settings="BADGE_EVENT_SCAN_MS = 5\nBADGE_SHIFT_EVERY_S = 0\n")
    script = BadgeScript(badge, lambda url: steps(url, badge))
    badge.run(20)
    script.result()
    period_s = 5 * TICK_S
    rises, commands = trace["rises"], trace["commands"]
    message_rises = [t for t in rises if t > 8]
    assert len(message_rises) >= 12
    delays = []
    for rise in message_rises:
        after = [t for t in commands if t >= rise]
        assert after, "no command after the EVENT rise at %.4f s" % rise
        delays.append(after[0] - rise)
    assert max(delays) <= period_s + 1e-6
    assert len({round(d, 5) for d in delays}) > 3  # the phases really differ
    assert "\n".join(badge.console).count("cloud: name message") == 12


@pytest.mark.parametrize("scan_ms", [2, 50])
def test_messages_in_quick_succession_are_all_fetched(make_badge, scan_ms):
    """The second message of each pair lands while the badge fetches the first, while
    it empties the module's queue, or just after, before the scanner has seen the
    EVENT line fall (a slow scan makes that window wide): none is left waiting in the
    module. The telemetry every 10 s would pick a forgotten one up, so the check is
    made 0.2 s after each pair."""
    gaps_s = [0.003 * k for k in range(1, 41)]
    left = []  # what the module still holds 0.2 s after each pair

    async def steps(url, badge):
        await sleep_until(badge.clock, 8)
        for index, gap in enumerate(gaps_s):
            await deliver(url, THING, "name", "First %d" % index)
            await asyncio.sleep(gap)
            await deliver(url, THING, "qr", "https://example.org/%d" % index)
            await asyncio.sleep(0.2)
            left.append(len(badge.module.messages) + len(badge.module.events))

    badge = make_badge(settings="BADGE_EVENT_SCAN_MS = %d\nBADGE_SHIFT_EVERY_S = 0\n"
                       % scan_ms)
    script = BadgeScript(badge, lambda url: steps(url, badge))
    badge.run(30)
    script.result()
    console = "\n".join(badge.console)
    assert console.count("cloud: qr message") == len(gaps_s)
    assert console.count("cloud: name message") == len(gaps_s)
    assert left == [0] * len(gaps_s)


def test_an_event_right_after_the_queue_emptied_is_not_left_behind(make_badge):
    """The race a scanner leaves open: the badge empties the module's queue (EVENT
    falls), and a new event raises EVENT again before the next scan, so the scanner
    never sees an edge. The session must not go to sleep on the stale high line.

    On an idle badge, an event (a SUBACK, which needs no further work) starts an
    exchange; a second one is slipped in 1.5 ms after the module's "no event" answer,
    well within the 50 ms scan interval. The next telemetry, which would wake the
    session anyway, is due only at 10 s."""
    from sim.expresslink.codes import EVENT_SUBACK

    injected = []
    left = {}

    async def steps(url, badge):
        module = badge.module
        loop = asyncio.get_running_loop()
        last_command = [b""]

        def on_badge_write(_now, _name, data):
            last_command[0] = data

        def inject():
            injected.append(badge.clock.now())
            module.queue_event(EVENT_SUBACK, 2)

        def on_module_write(_now, _name, data):
            if (data == b"OK\r\n" and last_command[0] == b"AT+EVENT?\n"
                    and len(module.events) == 0 and len(injected) == 1):
                loop.call_later(0.0015, inject)

        await sleep_until(badge.clock, 8)
        badge.uart_link.host.taps.append(on_badge_write)
        badge.uart_link.device.taps.append(on_module_write)
        inject()
        await sleep_until(badge.clock, 9.5)
        left["events"] = len(module.events)

    badge = make_badge(settings="BADGE_EVENT_SCAN_MS = 50\nBADGE_SHIFT_EVERY_S = 0\n")
    script = BadgeScript(badge, lambda url: steps(url, badge))
    badge.run(9.6)
    script.result()
    assert len(injected) == 2
    assert left == {"events": 0}


def test_an_event_line_stuck_high_is_asked_about_ever_less_often(make_badge):
    """A faulty EVENT line that stays high with the module's queue empty: the session
    keeps working (telemetry goes out) and asks EVENT? at most about once a second,
    not every 10 ms."""
    asked = []

    async def steps(url, badge):
        await sleep_until(badge.clock, 8)
        line = badge.world.pin("GP10")
        line.source = lambda: True  # shorted to 3V3
        line.changed()
        badge.uart_link.host.taps.append(
            lambda now, _name, data: asked.append(now) if data == b"AT+EVENT?\n" else None)
        await sleep_until(badge.clock, 40)

    badge = make_badge(settings="BADGE_SHIFT_EVERY_S = 0\n")
    script = BadgeScript(badge, lambda url: steps(url, badge))
    badge.run(40.5)
    script.result()
    late = [t for t in asked if t > 20]
    assert 0 < len(late) <= 2 * 20  # about one a second (and after each reading)
    assert len(asked) < 100
    assert badge.module.history[-1][2].startswith(b"OK")
    published = [body for _t, body, _r in badge.module.history if body.startswith(b"+SEND")]
    assert len(published) >= 3  # readings at 10, 20, 30 s still go out


def test_a_retired_setting_is_reported_with_its_replacement(make_badge):
    badge = make_badge(settings="BADGE_POLL_MS = 10\n", module=False)
    badge.run(1)
    console = "\n".join(badge.console)
    assert "BADGE_POLL_MS is no longer used" in console
    assert "BADGE_EVENT_SCAN_MS" in console
