"""A virtual badge: the emulated parts wired as on the real board, plus its firmware run.

Wiring: the firmware's own pin map (``PINS`` in firmware/settings.py) at its defaults:
I2C0 with the SSD1306 (0x3C) and the SHT31-D (0x44); UART0 to the ExpressLink module
with its EVENT, WAKE and RST lines; buttons A, B, C to ground; the LED.
"""

import asyncio
import random
import runpy
from pathlib import Path

from sim.chips.sht31d import SHT31D
from sim.chips.ssd1306 import SSD1306
from sim.core.clock import RealClock, VirtualClock
from sim.engines.cpython.cp_version import NEWEST
from sim.core.i2c_bus import I2CBus
from sim.engines.cpython.runtime import FirmwareRuntime
from sim.core.serial_link import SerialLink
from sim.engines.cpython.world import World

REPO_ROOT = Path(__file__).resolve().parents[3]

DEFAULT_THING = "badge-1"


def default_pins(repo=REPO_ROOT):
    """``{attribute: pin name}`` of the firmware's pin map (``pin_sda``: "GP4"...), read
    from its source: the simulator does not import the badge's ``firmware`` package."""
    table = runpy.run_path(str(Path(repo) / "firmware" / "settings.py"))["PINS"]
    return {attr: name for _key, attr, name in table}


PINS = default_pins()
BUTTON_PINS = {"A": PINS["pin_button_a"], "B": PINS["pin_button_b"], "C": PINS["pin_button_c"]}
I2C_PINS = (PINS["pin_scl"], PINS["pin_sda"])  # the key of World.i2c_buses
UART_PINS = (PINS["pin_uart_tx"], PINS["pin_uart_rx"])  # as seen from the RP2040


class RoomClimate:
    """Readings that wander like a real room's, reproducibly for one seed.

    A slow random walk around the values set on the sensor when the run starts:
    about 0.05 deg C and 0.3 %RH, updated every 5 simulated seconds.
    """

    PERIOD_S = 5.0

    def __init__(self, sensor, seed):
        self._sensor = sensor
        self._random = random.Random(seed)
        self._base = None

    async def run(self):
        sensor = self._sensor
        self._base = (sensor.temperature_c, sensor.humidity_rh)
        dt = drh = 0.0
        while True:
            dt = max(-0.05, min(0.05, dt + self._random.uniform(-0.02, 0.02)))
            drh = max(-0.3, min(0.3, drh + self._random.uniform(-0.1, 0.1)))
            sensor.temperature_c = self._base[0] + dt
            sensor.humidity_rh = min(100.0, max(0.0, self._base[1] + drh))
            await asyncio.sleep(self.PERIOD_S)


class VirtualBadge:
    """The whole simulated board. Build it, adjust the parts, then ``run()``.

    ``code_root``: folder holding code.py, boot.py, firmware/ and lib/ (the repository
    by default, or a deployed CIRCUITPY folder); ``drive_dir``: the folder the firmware
    sees as its drive (settings.toml, stored content); ``virtual_time``: run on a
    virtual clock (fast, deterministic) or in real time; ``cp_version``: the
    CircuitPython version whose behaviour the shims follow ("10.2.1", "10.0.3",
    "9.2.1"; see :mod:`sim.engines.cpython.cp_version`); ``pace``: a
    :class:`sim.core.pace.Pace` that paces, pauses or steps the virtual clock (the
    badge page's time control).
    """

    def __init__(self, *, code_root=REPO_ROOT, drive_dir=None, virtual_time=True,
                 temperature_c=22.0, humidity_rh=45.0, strict_libs=False, echo=False,
                 seed=None, module=True, broker_url=None, broker_listen=("127.0.0.1", 0),
                 thing=DEFAULT_THING, cp_version=NEWEST, pace=None):
        self.clock = VirtualClock() if virtual_time else RealClock()
        if pace is not None:
            if not virtual_time:
                raise ValueError("pace controls a virtual clock: pass virtual_time=True")
            self.clock.pace = pace
        self.world = World(self.clock)
        self.code_root = Path(code_root)
        self.drive_dir = Path(drive_dir) if drive_dir is not None else self.code_root
        self.i2c = I2CBus(self.clock)
        self.display = self.i2c.attach(SSD1306(self.clock))
        self.sensor = self.i2c.attach(SHT31D(self.clock))
        self.sensor.temperature_c = temperature_c
        self.sensor.humidity_rh = humidity_rh
        self.room = RoomClimate(self.sensor, seed) if seed is not None else None
        self.world.i2c_buses[I2C_PINS] = self.i2c
        self.uart_link = SerialLink(self.clock)
        self.world.uarts[UART_PINS] = self.uart_link.host
        self.module = None
        self.module_wanted = module
        self.broker_url = broker_url
        self.broker_listen = broker_listen
        self.thing = thing
        self.cloud = None  # the embedded broker and shadow service, when used
        self.cloud_ready = None  # future: the broker URL once the module is wired
        self.startup_error = None  # why the simulator could not start a part
        self._loop_hooks = []
        self._timeline = []
        self.runtime = FirmwareRuntime(self.world, self.code_root, self.drive_dir,
                                       strict_libs=strict_libs, echo=echo,
                                       on_loop=self._on_loop, cp_version=cp_version)

    @property
    def cp_version(self):
        """The CircuitPython version the shims follow (``.text``: "10.2.1")."""
        return self.runtime.cp

    # -- scripting ------------------------------------------------------------------------
    def at(self, t_s, action):
        """Call ``action()`` at simulated time ``t_s`` (seconds since power-up)."""
        self._timeline.append((t_s, action))

    def on_loop(self, hook):
        """Call ``hook(loop)`` once the firmware's event loop exists."""
        self._loop_hooks.append(hook)

    def press(self, button, hold_s=0.1):
        """Press button "A", "B" or "C" now, releasing it ``hold_s`` later."""
        pin = BUTTON_PINS[button]
        self.world.set_button(pin, True)
        loop = self.runtime.loop
        if loop is not None:
            loop.call_at(self.clock.now() + hold_s, self.world.set_button, pin, False)
        else:
            self.world.set_button(pin, False)

    def soft_reload(self, reason="REPL_RELOAD"):
        """Reload the badge now, as Ctrl-D on its console (``REPL_RELOAD``) or a file
        saved to its drive (``AUTO_RELOAD``) does: code.py runs again, boot.py does
        not, and a display keeps its I2C pins until code.py releases it."""
        self.runtime.soft_reload(reason)

    def reload_at(self, t_s, reason="REPL_RELOAD"):
        """Soft-reload the badge at simulated time ``t_s``."""
        self.at(t_s, lambda: self.soft_reload(reason))

    def stop(self):
        """End the run now (as if its duration had passed)."""
        loop = self.runtime.loop
        if loop is not None:
            loop.call_soon(self.runtime._end, loop)

    async def _start_cloud(self):
        """Start the embedded broker (unless a URL was given), then power the module."""
        from sim.engines.cloud_parts import BrokerStartError, build_module, start_embedded_broker

        url = self.broker_url
        if url is None:
            try:
                self.cloud = await start_embedded_broker(self.broker_listen, self.clock)
            except BrokerStartError as error:
                self.startup_error = str(error)
                self.stop()
                return
            self.runtime.on_end.append(self.cloud.stop)
            url = self.cloud.url
        module = build_module(self.clock, self.uart_link.device, url, self.thing)
        self.module = module
        event_pin = self.world.pin(PINS["pin_event"])
        event_pin.source = lambda: module.event_pin
        module.event_pin_listeners.append(lambda _level: event_pin.changed())
        self.world.pin(PINS["pin_reset"]).on_write = module.set_reset
        self.world.pin(PINS["pin_wake"]).on_write = module.set_wake
        module.reset_level = self.world.pin(PINS["pin_reset"]).read()
        module.start()
        self.runtime.on_end.insert(0, module.close)
        self.cloud_ready.set_result(url)

    def _on_loop(self, loop):
        if self.module_wanted:
            self.cloud_ready = loop.create_future()
            loop.create_task(self._start_cloud(), name="start_cloud")
        if self.room is not None:
            loop.create_task(self.room.run(), name="room_climate")
        for t_s, action in self._timeline:
            loop.call_at(t_s, action)
        for hook in self._loop_hooks:
            hook(loop)

    # -- running ---------------------------------------------------------------------------
    def run(self, duration_s=None):
        """Boot the badge and run it for ``duration_s`` simulated seconds (None: forever)."""
        with self.runtime:
            return self.runtime.run(duration_s)

    @property
    def console(self):
        return self.world.console

    def screenshot(self, path, scale=1):
        """The panel as PNG, 1:1 (128x64) unless ``scale`` > 1."""
        self.display.save_png(path, scale=scale)
