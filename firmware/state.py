"""What the badge knows right now, shared by its tasks.

Tasks write fields and call ``changed()``; the display task waits on ``dirty`` and
draws. Nothing here touches hardware.
"""

import asyncio

from firmware.log import uptime_s

# Screens the buttons cycle through, in order.
SCREENS = ("climate", "status")


class Reading:
    """One climate sample: ``t_c`` (deg C), ``rh`` (%), ``at_ms`` (ticks_ms when taken),
    ``up_s`` (seconds since boot when taken), ``seq`` (1, 2, 3 ... since boot)."""

    def __init__(self, t_c, rh, at_ms, seq, up_s=0.0):
        self.t_c = t_c
        self.rh = rh
        self.at_ms = at_ms
        self.seq = seq
        self.up_s = up_s


class BadgeState:
    def __init__(self):
        self.reading = None
        self.sensor_status = "starting"  # "ok", "no sensor", "sensor error"
        self.sensor_errors = 0
        self.readings_taken = 0
        self.screen = SCREENS[0]
        self.link_status = "offline"  # "no module", "connecting", "online", "offline"
        self.thing_name = ""
        self.display_ok = False
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

    def step_screen(self, step):
        index = SCREENS.index(self.screen) if self.screen in SCREENS else 0
        self.show_screen(SCREENS[(index + step) % len(SCREENS)])
