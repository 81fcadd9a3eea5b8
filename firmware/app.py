"""The badge's asyncio main: builds the tasks from ready-made hardware and runs them."""

import asyncio

from firmware.buttons import handle_press
from firmware.climate import ClimateSampler
from firmware.inputs import InputPoller
from firmware.log import log
from firmware.outbox import Outbox
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
        self.outbox = Outbox(settings.outbox_size)
        self.cloud_wake = asyncio.Event()
        self.cloud = None

    def _on_reading(self, reading):
        led = self.hardware.led
        if led is not None:
            led.value = not led.value
        pushed_out = self.outbox.put(reading)
        self.cloud_wake.set()
        if pushed_out is not None:
            log("cloud", "outbox full: reading %d dropped unpublished (%d so far)"
                % (pushed_out.seq, self.outbox.dropped))

    def _start(self, name, make_coroutine):
        self.tasks[name] = asyncio.create_task(
            supervise(name, make_coroutine, log, self.crashes))

    async def main(self):
        hw = self.hardware
        sampler = ClimateSampler(hw.make_sensor, self.state,
                                 self.settings.sample_period_s, log, self._on_reading)
        self._start("sample_climate", sampler.run)
        if hw.uart is not None:
            from expresslink.client import ExpressLinkClient

            from firmware.cloud import CloudSession

            client = ExpressLinkClient(hw.uart, event_pin=hw.event_pin,
                                       reset_pin=hw.reset_pin, wake_pin=hw.wake_pin)
            self.cloud = CloudSession(client, self.state, self.outbox, log,
                                      self.cloud_wake, on_message=self.on_message,
                                      event_pin=hw.event_pin is not None)
            self._start("cloud_session", self.cloud.run)
        if hw.display is not None:
            from firmware.display import DisplayController
            from firmware.screens.climate import ClimateScreen
            from firmware.screens.status import StatusScreen

            screens = {"climate": ClimateScreen(), "status": StatusScreen()}
            self.display = DisplayController(hw.display, screens, self.state, log)
            self._start("render_display", self.display.run)
        else:
            log("display", "no display; the badge keeps running without it")
        poller = InputPoller(hw.keys, hw.event_pin,
                             lambda key: handle_press(self.state, key), self.cloud_wake)
        self._start("poll_inputs", poller.run)
        self.state.changed()
        await asyncio.gather(*self.tasks.values())


    def on_message(self, suffix, payload):
        """Content from the cloud (``suffix`` of badge/<thing>/<suffix>)."""
        log("cloud", "%s message, %d bytes" % (suffix, len(payload)))


def run(hardware, settings):
    """Entry point used by code.py."""
    badge = Badge(hardware, settings)
    asyncio.run(badge.main())
