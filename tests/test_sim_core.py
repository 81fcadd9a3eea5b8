"""The simulator's own machinery: loop on virtual time, serial wire time, shims."""

import asyncio
import weakref

import pytest

from sim.core.clock import VirtualClock, uart_wire_time_s
from sim.core.loop import SimEventLoop
from sim.core.serial_link import SerialLink


def run(clock, coro):
    loop = SimEventLoop(clock)
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def test_virtual_loop_jumps_to_timers_without_waiting():
    clock = VirtualClock()
    seen = []

    async def scenario():
        await asyncio.sleep(3600)
        seen.append(clock.now())
        await asyncio.sleep(0.25)
        seen.append(clock.now())

    run(clock, scenario())
    assert seen == [pytest.approx(3600), pytest.approx(3600.25)]


def test_loop_charges_blocking_waits_to_the_step_that_made_them():
    clock = VirtualClock()

    async def careless():
        clock.block(0.03, "sleep")
        await asyncio.sleep(0)
        clock.block(0.01, "sleep")

    run(clock, careless())
    assert clock.stalls.longest_step_s["sleep"] == pytest.approx(0.03)
    assert clock.stalls.total_s["sleep"] == pytest.approx(0.04)
    assert "careless" in clock.stalls.longest_step_where["sleep"]


def test_serial_bytes_arrive_at_wire_time():
    clock = VirtualClock()
    link = SerialLink(clock)
    byte_s = uart_wire_time_s(1)

    async def scenario():
        link.host.write(b"AT\n")
        assert link.device.in_waiting == 0
        await link.device.wait_readable()
        assert clock.now() == pytest.approx(byte_s, abs=1e-6)
        await asyncio.sleep(2.5 * byte_s)
        return link.device.read()

    assert run(clock, scenario()) == b"AT\n"
    assert clock.now() == pytest.approx(3.5 * byte_s, abs=1e-6)


def test_serial_burst_is_serialised_after_earlier_bytes():
    clock = VirtualClock()
    link = SerialLink(clock)
    link.device.write(b"x" * 100)
    link.device.write(b"y")
    clock.advance(uart_wire_time_s(100) - 5e-6)
    assert link.host.in_waiting == 99
    clock.advance(uart_wire_time_s(1))
    assert link.host.read() == b"x" * 100
    assert link.host.next_arrival_s() == pytest.approx(uart_wire_time_s(101), abs=1e-6)


def test_shims_follow_circuitpython(make_badge):
    """ticks_ms wraps at 2**29 about 65 s after boot; UART write blocks for the bytes
    beyond its 32-byte FIFO; keypad queues presses; pins read their pulls."""
    badge = make_badge()
    seen = {}

    def probe():
        import board
        import busio
        import digitalio
        import supervisor

        seen["ticks_0"] = supervisor.ticks_ms()
        pin = digitalio.DigitalInOut(board.GP20)
        pin.switch_to_input(pull=digitalio.Pull.UP)
        seen["pull_up"] = pin.value
        pin.deinit()
        with pytest.raises(ValueError, match="in use"):
            busio.I2C(board.GP5, board.GP4)  # code.py holds the bus already
        with pytest.raises(ValueError, match="no I2C bus"):
            busio.I2C(board.GP3, board.GP2)

    def later():
        import supervisor

        seen["ticks_70"] = supervisor.ticks_ms()

    badge.at(0.5, probe)
    badge.at(70.5, later)
    badge.run(71)
    assert seen["ticks_0"] > (1 << 29) - 66_000
    assert seen["ticks_70"] < 6_000  # wrapped
    assert seen["pull_up"] is True


def test_uart_shim_write_blocks_beyond_fifo_and_read_times_out(make_badge):
    badge = make_badge()
    result = {}

    def probe():
        import busio
        import board

        # The firmware's UART owns GP0/GP1; wire a second one for the test.
        badge.world.uarts[("GP8", "GP9")] = badge.uart_link.host
        uart = busio.UART(board.GP8, board.GP9, baudrate=115200, timeout=0.5)
        t0 = badge.clock.now()
        uart.write(b"z" * 132)
        result["write_s"] = badge.clock.now() - t0
        t0 = badge.clock.now()
        result["read"] = uart.read(4)
        result["read_s"] = badge.clock.now() - t0

    badge.at(1.0, probe)
    badge.run(2)
    assert result["write_s"] == pytest.approx(uart_wire_time_s(100), rel=1e-3)
    assert result["read"] is None
    # The timeout counts whole ticks_ms from the tick the read started in.
    assert 0.499 < result["read_s"] <= 0.5


def test_one_turn_sleep_keeps_asyncio_semantics():
    """The simulator's sleep resumes a task in the timer's turn; results, cancellation,
    wait_for timeouts and the order of simultaneous sleepers are as with asyncio's."""
    from sim.core.loop import sleep

    clock = VirtualClock()
    order = []

    async def sleeper(name, delay):
        value = await sleep(delay, name)
        order.append((value, clock.now()))

    async def scenario():
        await asyncio.gather(sleeper("b", 2.0), sleeper("a", 1.0), sleeper("c", 2.0))
        victim = asyncio.ensure_future(sleep(10))
        await sleep(0.5)
        victim.cancel()
        with pytest.raises(asyncio.CancelledError):
            await victim
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sleep(5), 1)
        return clock.now()

    assert run(clock, scenario()) == pytest.approx(3.5)
    assert order == [("a", pytest.approx(1.0)), ("b", pytest.approx(2.0)),
                     ("c", pytest.approx(2.0))]
    assert clock.stalls.steps > 0


def test_one_turn_sleep_takes_one_loop_step_per_wake():
    """asyncio's sleep wakes a task in two callbacks (its timer sets a future, whose
    callback schedules the task's step); the simulator's sleep in one."""
    from sim.core.loop import sleep

    async def poller(sleep_fn):
        for _ in range(100):
            await sleep_fn(0.025)

    def steps(sleep_fn):
        clock = VirtualClock()
        run(clock, poller(sleep_fn))
        assert clock.now() == pytest.approx(2.5)
        return clock.stalls.steps

    assert steps(sleep) <= 105 < 195 <= steps(asyncio.sleep)


def test_timers_due_together_run_in_the_order_they_were_made():
    clock = VirtualClock()
    loop = SimEventLoop(clock)
    order = []
    for name in "abcdefgh":
        loop.call_at(1.0, order.append, name)
    loop.call_at(0.5, order.append, "first")
    early = loop.call_at(0.75, order.append, "cancelled")
    early.cancel()
    assert loop.next_timer_s() == pytest.approx(0.5)
    try:
        loop.run_until_complete(asyncio.sleep(2))
    finally:
        loop.close()
    assert order == ["first"] + list("abcdefgh")


def test_one_turn_sleep_in_a_task_made_without_the_loop_is_still_cancellable():
    """A plain asyncio.Task (not the loop's SimTask) sleeps with asyncio's own sleep, so
    cancelling it takes effect at once, not when its sleep would have ended."""
    from sim.core.loop import sleep

    clock = VirtualClock()

    async def scenario():
        loop = asyncio.get_running_loop()
        plain = asyncio.Task(sleep(3600), loop=loop)
        assert type(plain) is asyncio.Task
        await sleep(1.0)
        plain.cancel()
        with pytest.raises(asyncio.CancelledError):
            await plain
        return clock.now()

    assert run(clock, scenario()) == pytest.approx(1.0)


@pytest.mark.parametrize("virtual", [True, False])
def test_cancelled_timers_do_not_pile_up(virtual):
    """Timeouts that are cancelled long before they are due (wait_for around a quick
    answer) are swept from the loop's timers, on the virtual and the real clock: their
    callbacks do not stay alive."""
    from sim.core.clock import RealClock

    clock = VirtualClock() if virtual else RealClock()
    loop = SimEventLoop(clock)

    class Callback:
        def __call__(self):
            raise AssertionError("a cancelled timer ran")

    async def quick():
        return 1

    async def scenario():
        loop.call_later(1800, lambda: None)  # a live timer ahead of them all
        alive = []
        for _ in range(1000):
            callback = Callback()
            alive.append(weakref.ref(callback))
            loop.call_later(3600, callback).cancel()
            await asyncio.wait_for(quick(), 3600)
        del callback
        return sum(ref() is not None for ref in alive)

    try:
        assert loop.run_until_complete(scenario()) < 200
    finally:
        loop.close()


def test_both_engines_wire_the_firmware_pin_map():
    """The firmware's pin map (firmware/settings.py) is the one definition: the CPython
    engine wires from it, and the CircuitPython engine's GPIO numbers agree with it."""
    from firmware.settings import PINS
    from sim.engines.cpython import badge
    from sim.engines.circuitpython import badge as cp_badge

    defaults = {attr: name for _key, attr, name in PINS}
    assert badge.PINS == defaults
    assert badge.I2C_PINS == (defaults["pin_scl"], defaults["pin_sda"])
    assert badge.UART_PINS == (defaults["pin_uart_tx"], defaults["pin_uart_rx"])
    gpio = {"pin_sda": cp_badge.GPIO_SDA, "pin_scl": cp_badge.GPIO_SCL,
            "pin_event": cp_badge.GPIO_EVENT, "pin_wake": cp_badge.GPIO_WAKE,
            "pin_reset": cp_badge.GPIO_RESET, "pin_led": cp_badge.GPIO_LED}
    for button, number in cp_badge.BUTTON_GPIOS.items():
        gpio["pin_button_" + button.lower()] = number
    assert {attr: "GP%d" % number for attr, number in gpio.items()} == {
        attr: name for attr, name in defaults.items() if attr in gpio}
