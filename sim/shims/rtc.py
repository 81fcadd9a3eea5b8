"""CircuitPython ``rtc``: a wall clock that starts at a fixed date on the simulator."""

import time as _time

from sim.engines.cpython import world as _world

_EPOCH_2026 = 1767225600  # 2026-01-01T00:00:00Z


class RTC:
    def __init__(self):
        self._base = _EPOCH_2026
        self.calibration = 0

    @property
    def datetime(self):
        return _time.gmtime(self._base + int(_world.current().clock.now()))

    @datetime.setter
    def datetime(self, value):
        self._base = int(_time.mktime(value)) - int(_world.current().clock.now())


_source = None


def set_time_source(source):
    global _source
    _source = source
