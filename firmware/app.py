"""The badge's asyncio main: builds the tasks from ready-made hardware and runs them."""

import asyncio

from adafruit_ticks import ticks_ms

from firmware.buttons import handle_press
from firmware.burnin import BurnInCare
from firmware.climate import ClimateSampler
from firmware.content import ContentManager
from firmware.content_limits import MAX_LINE_BYTES
from firmware.inputs import watch_buttons, watch_event_line
from firmware.log import log
from firmware.outbox import Outbox
from firmware.state import BadgeState
from firmware.storage import DriveStore
from firmware.tasks import supervise


class Hardware:
    """What code.py hands over; any part may be None when it is missing.

    ``display``: displayio display (auto_refresh off); ``make_sensor``: callable
    returning the SHT31-D's ``I2CDevice``; ``keys``: ``keypad.Keys`` for A, B, C;
    ``led``: a ``digitalio.DigitalInOut`` output; ``uart`` and the ExpressLink pins:
    ``event_pin`` (an :class:`~firmware.event_line.EventLine`), ``wake_pin`` and
    ``reset_pin`` (outputs).
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
        self.twin = None
        self.store = DriveStore(log)
        self.content = ContentManager(self.state, self.store, log,
                                      on_change=self._content_changed)
        self.care = BurnInCare(settings.dim_after_s, settings.shift_every_s, ticks_ms())
        self.state.on_screen = self._screen_changed

    def _report(self):
        """The shadow should hear about what the badge shows now."""
        if self.twin is not None:
            self.twin.request_report()
            self.cloud_wake.set()

    def _content_changed(self):
        """New content (shown or refused): the display wakes and redraws."""
        self.care.activity(ticks_ms())
        self.state.changed()
        self._report()

    def _screen_changed(self, _name):
        self._report()

    def _on_press(self, key):
        """A press on a dimmed display only wakes it; otherwise it acts."""
        if self.care.activity(ticks_ms()):
            self.state.changed()
            return
        handle_press(self.state, key)

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
            from firmware.twin import ShadowTwin

            client = ExpressLinkClient(hw.uart, event_pin=hw.event_pin,
                                       reset_pin=hw.reset_pin, wake_pin=hw.wake_pin,
                                       line_capacity=MAX_LINE_BYTES)
            self.twin = ShadowTwin(self.content, log)
            self.cloud = CloudSession(client, self.state, self.outbox, log,
                                      self.cloud_wake, on_message=self.on_message,
                                      event_pin=hw.event_pin, shadow=self.twin)
        if hw.display is not None:
            self._build_display(hw.display)
        else:
            log("display", "no display; the badge keeps running without it")
        self.content.load()
        if self.display is not None:
            self._start("render_display", self.display.run)
        if self.cloud is not None:
            self._start("cloud_session", self.cloud.run)
        if hw.keys is not None:
            self._start("watch_buttons", lambda: watch_buttons(hw.keys, self._on_press))
        if self.cloud is not None and hw.event_pin is not None:
            self._start("watch_event_line",
                        lambda: watch_event_line(hw.event_pin, self.cloud_wake))
        self.state.changed()
        await asyncio.gather(*self.tasks.values())

    def _build_display(self, display):
        from firmware.display import DisplayController
        from firmware.screens.climate import ClimateScreen
        from firmware.screens.name import NameScreen
        from firmware.screens.notice import NoticeScreen
        from firmware.screens.photo import PhotoScreen
        from firmware.screens.qr import QRScreen
        from firmware.screens.status import StatusScreen

        photo = PhotoScreen(self.content)
        self.content.show_photo = photo.show_raster
        screens = {"name": NameScreen(self.content), "photo": photo,
                   "qr": QRScreen(self.content), "climate": ClimateScreen(),
                   "status": StatusScreen()}
        settings = self.settings
        self.display = DisplayController(display, screens, self.state, log,
                                         notice=NoticeScreen(), care=self.care,
                                         contrast=settings.contrast,
                                         dim_contrast=settings.dim_contrast)

    def on_message(self, suffix, payload):
        """Content from the cloud (``suffix`` of badge/<thing>/<suffix>)."""
        log("cloud", "%s message, %d bytes" % (suffix, len(payload)))
        self.content.receive(suffix, payload, "badge/%s/%s" % (self.state.thing_name, suffix))


def run(hardware, settings):
    """Entry point used by code.py."""
    badge = Badge(hardware, settings)
    asyncio.run(badge.main())
