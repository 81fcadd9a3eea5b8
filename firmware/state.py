"""What the badge knows right now, shared by its tasks.

Tasks write fields and call ``changed()``; the display task waits on ``dirty`` and
draws. Nothing here touches hardware.
"""

import asyncio

from adafruit_ticks import ticks_add, ticks_diff, ticks_ms

from firmware.log import uptime_s

# Screens the buttons cycle through, in order (B: next, A: previous).
SCREENS = ("name", "photo", "qr", "climate", "status")


class Reading:
    """One climate sample: ``t_c`` (deg C), ``rh`` (%), ``at_ms`` (ticks_ms when taken),
    ``up_s`` (seconds since boot when taken), ``seq`` (1, 2, 3 ... since boot),
    ``mem`` (bytes of heap free after a collection when taken, or None)."""

    def __init__(self, t_c, rh, at_ms, seq, up_s=0.0, mem=None):
        self.t_c = t_c
        self.rh = rh
        self.at_ms = at_ms
        self.seq = seq
        self.up_s = up_s
        self.mem = mem


class BadgeState:
    def __init__(self):
        self.reading = None
        self.sensor_status = "starting"  # "ok", "no sensor", "sensor error"
        self.sensor_errors = 0
        self.readings_taken = 0
        self.screen = "climate"  # until stored content says otherwise
        self.link_status = "offline"  # "no module", "connecting", "online", "offline"
        self.thing_name = ""
        self.on_screen = None  # called with the new screen's name after a switch
        self.notice = None  # a short message shown instead of the screen for a while
        self._notice_until_ms = 0
        self.dirty = asyncio.Event()

    def uptime_s(self):
        return uptime_s()

    def changed(self):
        """Ask the display task to redraw."""
        self.dirty.set()

    def show_screen(self, name):
        if name in SCREENS and name != self.screen:
            self.screen = name
            self.changed()
            if self.on_screen is not None:
                self.on_screen(name)

    def show_notice(self, text, seconds):
        """Show ``text`` full-screen for ``seconds``, then the current screen again."""
        self.notice = text
        self._notice_until_ms = ticks_add(ticks_ms(), int(seconds * 1000))
        self.changed()

    def notice_left_ms(self, now_ms):
        """Milliseconds the notice stays up (0 once it is over; it is then dropped)."""
        if self.notice is None:
            return 0
        left = ticks_diff(self._notice_until_ms, now_ms)
        if left <= 0:
            self.notice = None
            return 0
        return left

    def step_screen(self, step):
        index = SCREENS.index(self.screen) if self.screen in SCREENS else 0
        self.show_screen(SCREENS[(index + step) % len(SCREENS)])
