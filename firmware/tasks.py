"""Keep a task alive: log its crash with the traceback and restart it with backoff."""

import asyncio
import sys
import traceback

_MAX_BACKOFF_S = 30


async def _sleep(seconds):
    await asyncio.sleep(seconds)


def _print_traceback(error):
    if hasattr(sys, "print_exception"):  # MicroPython / CircuitPython
        sys.print_exception(error)
    else:
        traceback.print_exception(error)


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
        await _sleep(backoff_s)
        backoff_s = min(backoff_s * 2, _MAX_BACKOFF_S)
