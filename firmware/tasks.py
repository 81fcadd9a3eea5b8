"""Keep a task alive: log its crash with the traceback and restart it with backoff."""

import asyncio
import sys

# traceback, never sys.print_exception: that warns on CircuitPython 9.2 and is gone in 10.
from traceback import print_exception as _print_exception

_MAX_BACKOFF_S = 30


async def sleep_ms(ms):
    """Let the loop run for ``ms`` whole milliseconds (0: one turn); the firmware's one
    sleep (``asyncio.sleep`` itself is never awaited there). The ExpressLink library has
    its own copy: importing it from there would load the whole library (about 0.9 s on a
    Pico) before the display and the sensor start.

    CircuitPython's asyncio turns ``sleep(seconds)`` into ``sleep_ms(int(seconds *
    1000))`` with single-precision floats that lose 2 bits on 9.x-10.1.x: 0.016 s
    sleeps 15 ms and 0.001 s 0 ms. Its ``sleep_ms`` takes the integer as it is.
    CPython's asyncio (the firmware's modules in a plain test) has no ``sleep_ms``.
    """
    sleep = getattr(asyncio, "sleep_ms", None)
    if sleep is None:  # CPython's asyncio, outside the simulator
        await asyncio.sleep(ms / 1000)
    else:
        await sleep(ms)


def _print_traceback(error):
    _print_exception(error, file=sys.stdout)  # the console (CPython: not stderr)


async def supervise(name, make_coroutine, log, crashes=None):
    """Run ``make_coroutine()`` forever; a crash is logged, counted, restarted.

    ``crashes`` (a dict) counts crashes per task name for the status screen.
    Cancellation is not a crash and passes through.
    """
    backoff_s = 1
    while True:
        try:
            await make_coroutine()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a fault in one task must not stop the badge
            log(name, "crashed: %s: %s; restarting in %d s"
                % (type(error).__name__, error, backoff_s))
            _print_traceback(error)
            if crashes is not None:
                crashes[name] = crashes.get(name, 0) + 1
        await sleep_ms(backoff_s * 1000)
        backoff_s = min(backoff_s * 2, _MAX_BACKOFF_S)
