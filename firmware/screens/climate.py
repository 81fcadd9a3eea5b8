"""Climate screen: status line, temperature (deg C, 1 decimal), humidity (%)."""

import displayio

from firmware.screens.widgets import CHAR_W, WIDTH, degree_sign, set_text, text

_BIG = 2  # text scale for the two values: 12x24 px per character
_T_Y = 14
_RH_Y = 40


def format_temperature(t_c):
    """'21.5' (rounded, not truncated); '--.-' when unknown."""
    return "--.-" if t_c is None else "%.1f" % t_c


def format_humidity(rh):
    return "--" if rh is None else "%d" % round(rh)


def status_text(state, room):
    """Left part of the top line: the sensor's trouble if any, else the thing name
    (the module's ThingName, once known), cut to ``room`` characters."""
    if state.sensor_status != "ok":
        text = state.sensor_status
    else:
        text = state.thing_name or "Climate"
    return text[:room]


class ClimateScreen:
    name = "climate"
    ticking = False  # nothing changes on its own between state changes

    def __init__(self):
        self.group = displayio.Group()
        self._status = text(0, 0)
        self._link = text(WIDTH, 0)
        self._link.anchor_point = (1.0, 0)
        self._temperature = text(0, _T_Y, scale=_BIG)
        self._humidity = text(0, _RH_Y, scale=_BIG)
        self._degree = degree_sign(0, _T_Y + 2, scale=_BIG)
        self._unit_c = text(0, _T_Y, "C", scale=_BIG)
        for item in (self._status, self._link, self._temperature, self._degree,
                     self._unit_c, self._humidity):
            self.group.append(item)

    def update(self, state, now_ms):
        set_text(self._link, state.link_status)
        room = WIDTH // CHAR_W - len(state.link_status) - 1
        set_text(self._status, status_text(state, room))
        reading = state.reading
        t_text = format_temperature(reading.t_c if reading else None)
        rh_text = format_humidity(reading.rh if reading else None) + " %RH"
        set_text(self._temperature, t_text)
        set_text(self._humidity, rh_text)
        # Centre "21.5" + degree ring + "C" as one line.
        cell = CHAR_W * _BIG
        width = len(t_text) * cell + 4 * _BIG + cell
        left = (WIDTH - width) // 2
        self._temperature.anchored_position = (left, _T_Y)
        self._degree.x = left + len(t_text) * cell
        self._unit_c.anchored_position = (left + len(t_text) * cell + 4 * _BIG, _T_Y)
        self._humidity.anchored_position = ((WIDTH - len(rh_text) * cell) // 2, _RH_Y)

    def margins(self):
        """Blank px (left, top, right, bottom) for the burn-in shift. The top line
        spans the width; the humidity line's glyphs (digits, "%RH") leave the last
        rows of their cells blank, so the screen may move down by one pixel."""
        return (0, 0, 0, 1)
