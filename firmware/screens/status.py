"""Status screen: firmware version, uptime, sensor health, free heap, thing name, link."""

import displayio

from firmware import VERSION
from firmware.screens.widgets import CHAR_H, set_text, text

_LINES = 5


def _uptime_text(seconds):
    seconds = int(seconds)
    if seconds < 3600:
        return "%dm%02ds" % (seconds // 60, seconds % 60)
    return "%dh%02dm" % (seconds // 3600, (seconds // 60) % 60)


def _counts(state):
    """Readings and errors, after the heap free at the last reading (KB) if known."""
    counts = "readings %d err %d" % (state.readings_taken, state.sensor_errors)
    reading = state.reading
    if reading is None or reading.mem is None:
        return counts
    return "mem %dK %s" % (reading.mem // 1024, counts.replace("readings", "rd"))


class StatusScreen:
    """Its text lines exist only while it is shown (``leave`` lets them go)."""

    name = "status"
    ticking = True  # uptime changes every second

    def __init__(self):
        self.group = displayio.Group()
        self._lines = None

    def leave(self):
        if self._lines is not None:
            for line in self._lines:
                self.group.remove(line)
            self._lines = None

    def update(self, state, now_ms):
        if self._lines is None:
            self._lines = [text(0, i * CHAR_H + 2) for i in range(_LINES)]
            for line in self._lines:
                self.group.append(line)
        values = (
            "v%s  up %s" % (VERSION, _uptime_text(state.uptime_s())),
            "sensor: " + state.sensor_status,
            _counts(state),
            "thing: " + (state.thing_name or "?"),
            "link: " + state.link_status,
        )
        for line, value in zip(self._lines, values):
            set_text(line, value)

    def margins(self):
        """Blank px (left, top, right, bottom): lines may span the width; 2 px above
        the first cell and below the last."""
        return (0, 2, 0, 2)
