"""Console log lines stamped with seconds since boot (wrap-safe ticks); free heap."""

import gc

from adafruit_ticks import ticks_diff, ticks_ms

# ticks_diff() is only right for two ticks less than 2**28 ms (74.6 hours) apart, so
# uptime is summed from the differences between calls, which come far more often.
_last_ms = ticks_ms()
_up_ms = 0


def uptime_s():
    """Seconds since the firmware started (float; ms resolution, wrap-safe for as long
    as it is called at least every 74 hours: every reading and log line calls it)."""
    global _last_ms, _up_ms
    now = ticks_ms()
    _up_ms += ticks_diff(now, _last_ms)
    _last_ms = now
    return _up_ms / 1000


def heap_free():
    """Bytes of heap free after a collection (``gc.mem_free()``, as the badge counts
    them), or None where the runtime has no such figure (CPython)."""
    mem_free = getattr(gc, "mem_free", None)
    if mem_free is None:
        return None     # and no collection: on CPython it would cost milliseconds for nothing
    gc.collect()
    return mem_free()


def log(topic, message):
    """Print one line: ``[   12.345] topic: message``."""
    print("[%9.3f] %s: %s" % (uptime_s(), topic, message))
