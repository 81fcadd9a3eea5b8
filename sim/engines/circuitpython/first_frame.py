"""When the badge's display first shows something: the report's boot-to-first-frame figure.

Watches the emulated SSD1306's writes until the panel is on and at least one pixel is
lit, then records the emulated time (s) and stops watching (it costs nothing after).
"""


class FirstFrameWatch:
    """``time_s``: emulated seconds at the first lit frame, or None so far."""

    def __init__(self, display, clock):
        self.time_s = None
        self._display = display
        self._clock = clock
        self._write = display.write
        display.write = self._watched_write

    def _watched_write(self, data):
        result = self._write(data)
        display = self._display
        if display.panel_lit and any(display.panel_pixels()):
            self.time_s = self._clock.now()
            display.write = self._write
        return result
