"""The badge's asyncio main: builds the tasks from ready-made hardware and runs them."""

import asyncio

from firmware.buttons import poll_buttons
from firmware.climate import ClimateSampler
from firmware.log import log
from firmware.state import BadgeState
from firmware.tasks import supervise


class Hardware:
    """What code.py hands over; any part may be None when it is missing.

    ``display``: displayio display (auto_refresh off); ``make_sensor``: callable
    returning an ``adafruit_sht31d.SHT31D``; ``keys``: ``keypad.Keys`` for A, B, C;
    ``led``: a ``digitalio.DigitalInOut`` output; ``uart`` and the ExpressLink pins
    ``event_pin``, ``wake_pin``, ``reset_pin``.
    """

    def __init__(self, display=None, make_sensor=None, keys=None, led=None, uart=None,
                 event_pin=None, wake_pin=None, reset_pin=None):
        self.display = display
        self.make_sensor = make_sensor
        self.keys = keys
        self.led = led
        self.uart = uart
        self.event_pin = event_pin
        self.wake_pin = wake_pin
        self.reset_pin = reset_pin


class Badge:
    """The running application: its state and the handles of its tasks."""

    def __init__(self, hardware, settings):
        self.hardware = hardware
        self.settings = settings
        self.state = BadgeState()
        self.crashes = {}
        self.tasks = {}
        self.display = None

    def _blink(self, reading):
        led = self.hardware.led
        if led is not None:
            led.value = not led.value

    def _start(self, name, make_coroutine):
        self.tasks[name] = asyncio.create_task(
            supervise(name, make_coroutine, log, self.crashes))

    async def main(self):
        hw = self.hardware
        sampler = ClimateSampler(hw.make_sensor, self.state,
                                 self.settings.sample_period_s, log, self._blink)
        self._start("sample_climate", sampler.run)
        if hw.display is not None:
            from firmware.display import DisplayController
            from firmware.screens.climate import ClimateScreen
            from firmware.screens.status import StatusScreen

            screens = {"climate": ClimateScreen(), "status": StatusScreen()}
            self.display = DisplayController(hw.display, screens, self.state, log)
            self._start("render_display", self.display.run)
        else:
            log("display", "no display; the badge keeps running without it")
        if hw.keys is not None:
            self._start("poll_buttons", lambda: poll_buttons(hw.keys, self.state))
        self.state.changed()
        await asyncio.gather(*self.tasks.values())


def run(hardware, settings):
    """Entry point used by code.py."""
    badge = Badge(hardware, settings)
    asyncio.run(badge.main())
