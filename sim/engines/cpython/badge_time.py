"""Time as the badge sees it on CircuitPython: the simulator's clock, and the asyncio
port's whole-millisecond sleeps.

- ``time.sleep`` / ``time.monotonic`` / ``time.monotonic_ns`` read the simulator's clock
  in the thread that runs the badge (a blocking sleep in a driver advances virtual time
  and is recorded as a loop stall); other threads keep the real ones.
- In the badge's tasks, ``asyncio.sleep`` / ``sleep_ms`` / ``wait_for`` wait as the port
  does: the seconds are converted to whole ms with the version's float precision
  (``sleep(0.016)`` is 15 ms on 9.x-10.1.x), and a sleeper wakes at the first
  ``ticks_ms`` tick at or past its deadline. ``asyncio.run`` runs ``code.py`` on the
  engine's loop.
"""

import asyncio
import threading
import time

from sim.core.loop import is_badge_task

# One turn of the asyncio port's loop on an RP2040 (resume a task, poll, schedule):
# a sleep that comes to 0 ms still costs this much, so a task that busy-yields
# does not freeze virtual time.
YIELD_S = 100e-6
ZERO_MS_SLEEPS_KEPT = 1000


def until_tick_s(clock, ms):
    """Seconds from now until ``ticks_ms`` has moved on by ``ms`` (the port wakes a
    sleeper at the first tick at or past its deadline, so the wait is up to 1 ms
    shorter than asked); a 0 ms sleep costs one turn of the port's loop."""
    if ms <= 0:
        return YIELD_S
    now_ns = clock.now_ns()
    return ((now_ns // 1_000_000 + ms) * 1_000_000 - now_ns) / 1e9


def patch_time(patches, clock, thread):
    """``time``'s clocks and sleep on ``clock`` in thread ``thread`` (an ident)."""
    real_sleep, real_monotonic, real_ns = time.sleep, time.monotonic, time.monotonic_ns

    def sleep(seconds):
        if threading.get_ident() == thread:
            clock.block(seconds, "sleep")
        else:
            real_sleep(seconds)

    def monotonic():
        return clock.now() if threading.get_ident() == thread else real_monotonic()

    def monotonic_ns():
        return clock.now_ns() if threading.get_ident() == thread else real_ns()

    patches.set(time, "sleep", sleep)
    patches.set(time, "monotonic", monotonic)
    patches.set(time, "monotonic_ns", monotonic_ns)


def patch_asyncio(patches, clock, version, run_badge, zero_ms_sleeps):
    """The port's sleeps for the badge's tasks (``version``: a CPVersion); ``asyncio.run``
    becomes ``run_badge(main)``. Sleeps that came to 0 ms are noted in ``zero_ms_sleeps``
    as (time_s, seconds asked), the first ``ZERO_MS_SLEEPS_KEPT`` of them."""
    base_sleep = asyncio.sleep
    base_wait_for = asyncio.wait_for

    def in_badge_task():
        try:
            return is_badge_task(asyncio.current_task())
        except RuntimeError:
            return False

    def sleep(delay, result=None):
        if not in_badge_task():
            return base_sleep(delay, result)
        ms = version.sleep_ms(delay)
        if ms == 0 and delay > 0 and len(zero_ms_sleeps) < ZERO_MS_SLEEPS_KEPT:
            zero_ms_sleeps.append((clock.now(), delay))
        return base_sleep(until_tick_s(clock, ms), result)

    def sleep_ms(ms):
        if not in_badge_task():
            return base_sleep(max(0, ms) / 1000)
        return base_sleep(until_tick_s(clock, max(0, ms)))

    def wait_for(awaitable, timeout):
        if timeout is not None and in_badge_task():
            timeout = until_tick_s(clock, version.sleep_ms(timeout))
        return base_wait_for(awaitable, timeout)

    def run(main, *, debug=None):
        return run_badge(main)

    patches.set(asyncio, "sleep", sleep)
    patches.set(asyncio, "sleep_ms", sleep_ms)
    patches.set(asyncio, "wait_for", wait_for)
    patches.set(asyncio, "run", run)
