"""Time control of the virtual clock (sim/core/pace.py): paused, stepped, 1x to 100x, max.

The unit tests give the pace a hand-driven real clock, so they are exact and never wait.
The loop tests run a real SimEventLoop; their only real waits end as soon as the loop
answers, under pytest-timeout's deadline.
"""

import asyncio
import threading

import pytest

from sim.core.clock import VirtualClock
from sim.core.loop import SimEventLoop
from sim.core.pace import MAX_LAG_S, Pace, parse_rate


class HandClock:
    """A real clock that moves only when the fake selector waits on it."""

    def __init__(self):
        self.now = 100.0
        self.polls = []

    def monotonic(self):
        return self.now

    def poll(self, timeout):
        self.polls.append(timeout)
        self.now += timeout
        return []


def test_rates_are_the_five_the_page_offers():
    assert [parse_rate(r) for r in ("paused", "1", 10, 100.0, "max")] == \
        ["paused", 1, 10, 100, "max"]
    for bad in (2, "fast", True, None, -1):
        with pytest.raises(ValueError, match="paused, 1, 10, 100, max"):
            parse_rate(bad)


@pytest.mark.parametrize("rate", [1, 10, 100])
def test_a_timer_lands_after_its_share_of_real_time(rate):
    real, clock = HandClock(), VirtualClock()
    pace = Pace(rate, monotonic=real.monotonic)
    start = real.now
    while clock.now() < 3.0:
        pace.wait(real.poll, clock, 3.0 - clock.now())
    assert clock.now_ns() == 3_000_000_000
    assert real.now - start == pytest.approx(3.0 / rate)
    assert max(real.polls) <= 0.5  # never deaf to the page for long


def test_simulated_time_flows_between_timers():
    real, clock = HandClock(), VirtualClock()
    pace = Pace(10, monotonic=real.monotonic)
    pace.wait(real.poll, clock, None)  # nothing scheduled
    assert clock.now() == pytest.approx(10 * real.polls[0])
    assert clock.now() > 0


def test_paused_stands_still_and_a_step_jumps_to_the_next_timer_once():
    real, clock = HandClock(), VirtualClock()
    pace = Pace("paused", monotonic=real.monotonic)
    for _ in range(3):
        pace.wait(real.poll, clock, 7.0)
    assert clock.now() == 0.0 and real.now > 100.0
    pace.step()
    pace.wait(real.poll, clock, 7.0)
    assert clock.now() == 7.0
    pace.wait(real.poll, clock, 2.0)
    assert clock.now() == 7.0 and pace.steps_taken == 1


def test_a_step_asked_while_running_is_not_kept_for_later():
    real, clock = HandClock(), VirtualClock()
    pace = Pace(1, monotonic=real.monotonic)
    pace.step()
    pace.set_rate("paused")
    pace.wait(real.poll, clock, 1.0)
    assert clock.now() == 0.0


def test_max_jumps_at_once():
    real, clock = HandClock(), VirtualClock()
    pace = Pace("max", monotonic=real.monotonic)
    pace.wait(real.poll, clock, 42.0)
    assert clock.now() == 42.0 and real.polls == []


def test_a_blocking_wait_is_paid_back_by_the_next_real_wait():
    real, clock = HandClock(), VirtualClock()
    pace = Pace(1, monotonic=real.monotonic)
    pace.wait(real.poll, clock, 0.1)  # anchors at (100.0, 0.0)
    clock.block(0.3)  # a driver's time.sleep(0.3): simulated time leaps ahead
    start = real.now
    while clock.now() < 1.0:
        pace.wait(real.poll, clock, 1.0 - clock.now())
    assert real.now == pytest.approx(101.0)  # 1 simulated s in 1 real s, all told
    assert real.now - start == pytest.approx(0.9)


def test_a_slow_simulation_is_not_raced_to_catch_up():
    real, clock = HandClock(), VirtualClock()
    pace = Pace(1, monotonic=real.monotonic)
    pace.wait(real.poll, clock, 0.1)
    real.now += 5.0  # a step took 5 real seconds
    polls = len(real.polls)
    pace.wait(real.poll, clock, 0.2)
    # Re-anchored at the late instant: the next timer still waits its 0.2 s.
    assert sum(real.polls[polls:]) == pytest.approx(0.2)
    assert 5.0 > MAX_LAG_S


def _run_paused_loop(actions_from_thread):
    """A loop paused at t=0 with a task asleep until t=5; ``actions_from_thread(loop,
    pace, seen)`` runs on another thread, as the page's server does."""
    clock = VirtualClock()
    pace = Pace("paused")
    clock.pace = pace
    loop = SimEventLoop(clock)
    seen = []

    async def sleeper():
        await asyncio.sleep(5)
        seen.append(("woke", clock.now()))

    thread = threading.Thread(target=actions_from_thread, args=(loop, pace, seen))
    try:
        asyncio.set_event_loop(loop)
        task = loop.create_task(sleeper())
        loop.call_soon(thread.start)
        loop.run_until_complete(task)
    finally:
        thread.join(10)
        asyncio.set_event_loop(None)
        loop.close()
    return seen


def test_a_step_from_another_thread_wakes_a_paused_loop():
    def page(loop, pace, seen):
        def step():
            seen.append(("stepped at", loop.clock.now()))
            pace.step()
        loop.call_soon_threadsafe(step)

    seen = _run_paused_loop(page)
    assert seen == [("stepped at", 0.0), ("woke", 5.0)]


def test_max_from_another_thread_releases_a_paused_loop():
    def page(loop, pace, seen):
        loop.call_soon_threadsafe(pace.set_rate, "max")

    assert _run_paused_loop(page) == [("woke", 5.0)]
