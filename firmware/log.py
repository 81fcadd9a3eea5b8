"""Console log lines stamped with seconds since boot (wrap-safe ticks)."""

from adafruit_ticks import ticks_diff, ticks_ms

_BOOT_MS = ticks_ms()


def uptime_s():
    """Seconds since the firmware started (float; ms resolution, wrap-safe)."""
    return ticks_diff(ticks_ms(), _BOOT_MS) / 1000


def log(topic, message):
    """Print one line: ``[   12.345] topic: message``."""
    print("[%9.3f] %s: %s" % (uptime_s(), topic, message))
