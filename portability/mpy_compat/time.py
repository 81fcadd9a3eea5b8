"""CircuitPython's ``time`` for the MicroPython VM: monotonic and monotonic_ns, no ticks_*.

The VM's own ``time`` has MicroPython's ticks_ms / sleep_ms and lacks ``monotonic``;
the badge is the other way round. This module, first on the VM's path, gives the
badge's names only, so code that works here also finds its names on the badge.
"""

from utime import localtime, mktime, sleep, time
from utime import time_ns as _time_ns


def monotonic_ns():
    """Nanoseconds since an arbitrary start."""
    return _time_ns()


def monotonic():
    """Seconds since an arbitrary start (a float)."""
    return _time_ns() / 1000000000


__all__ = ("localtime", "mktime", "monotonic", "monotonic_ns", "sleep", "time")
