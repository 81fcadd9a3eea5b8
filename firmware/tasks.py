"""Keep a task alive: log its crash with the traceback and restart it with backoff."""

import asyncio
import sys

# traceback, never sys.print_exception: that warns on CircuitPython 9.2 and is gone in 10.
from traceback import print_exception as _print_exception

# The firmware's one sleep, whole milliseconds (asyncio.sleep itself is never awaited
# in firmware/): the ExpressLink library's, whose docstring says why.
from expresslink.channel import sleep_ms  # noqa: F401 (firmware modules import it here)

_MAX_BACKOFF_S = 30


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
