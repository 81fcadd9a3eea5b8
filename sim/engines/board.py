"""What a badge is in either engine: the firmware's pin map, the chips on I2C0, the
module's serial line, the cloud it talks to, and the surface that scripts a run.

:class:`BadgeBoard` is the base of :class:`sim.engines.cpython.badge.VirtualBadge` and
:class:`sim.engines.circuitpython.badge.CircuitPythonBadge`: one model of each part,
built and wired the same way whichever engine runs the firmware.
"""

import asyncio
import random
import runpy
from pathlib import Path

from sim.chips.sht31d import SHT31D
from sim.chips.ssd1306 import SSD1306
from sim.core.serial_link import SerialLink
from sim.engines.cloud_parts import BrokerStartError, build_module, start_embedded_broker

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_THING = "badge-1"


def default_pins(repo=REPO_ROOT):
    """``{attribute: pin name}`` of the firmware's pin map (``pin_sda``: "GP4"...), read
    from its source: the simulator does not import the badge's ``firmware`` package."""
    table = runpy.run_path(str(Path(repo) / "firmware" / "settings.py"))["PINS"]
    return {attr: name for _key, attr, name in table}


PINS = default_pins()


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


class BadgeBoard:
    """The parts of one badge, on ``clock``: the SSD1306 (0x3C) and the SHT31-D (0x44)
    attached to ``i2c`` (anything with ``attach(target)``), the UART line to the
    ExpressLink module, and, once the run's loop starts, the module and its broker.

    ``temperature_c`` / ``humidity_rh``: the room as the sensor starts; ``seed``: a
    room that wanders (:class:`RoomClimate`) and a module whose boot garbage repeats;
    ``module``: wire the ExpressLink emulator at all; ``broker_url``: its broker (default:
    an embedded one listening on ``broker_listen``); ``thing``: its thing name.
    A subclass runs the firmware and provides :meth:`stop`.
    """

    def __init__(self, clock, i2c, *, temperature_c=22.0, humidity_rh=45.0, seed=None,
                 module=True, broker_url=None, broker_listen=("127.0.0.1", 0),
                 thing=DEFAULT_THING):
        self.clock = clock
        self.i2c = i2c
        self.display = i2c.attach(SSD1306(clock))
        self.sensor = i2c.attach(SHT31D(clock))
        self.sensor.temperature_c = temperature_c
        self.sensor.humidity_rh = humidity_rh
        self.seed = seed
        self.room = RoomClimate(self.sensor, seed) if seed is not None else None
        self.uart_link = SerialLink(clock)
        self.module_wanted = module
        self.module = None
        self.broker_url = broker_url
        self.broker_listen = broker_listen
        self.thing = thing
        self.cloud = None  # the embedded broker and shadow service, when used
        self.cloud_ready = None  # future: the broker URL once the module is wired
        self.startup_error = None  # why the simulator could not start a part
        self._loop_hooks = []
        self._timeline = []

    # -- scripting ------------------------------------------------------------------------
    def at(self, t_s, action):
        """Call ``action()`` at time ``t_s`` (seconds since power-up on the run's clock)."""
        self._timeline.append((t_s, action))

    def on_loop(self, hook):
        """Call ``hook(loop)`` once the run's event loop exists."""
        self._loop_hooks.append(hook)

    def screenshot(self, path, scale=1):
        """The panel as PNG, 1:1 (128x64) unless ``scale`` > 1."""
        self.display.save_png(path, scale=scale)

    def stop(self):
        raise NotImplementedError

    # -- starting the parts ---------------------------------------------------------------
    async def _start_module(self, seed=None):
        """The broker (``broker_url``, else a new embedded one) started and the module
        built on the UART line (``self.module``, not yet started): returns the broker's
        URL, or None when the embedded broker cannot listen (``startup_error`` says why,
        and the run is stopped)."""
        url = self.broker_url
        if url is None:
            try:
                self.cloud = await start_embedded_broker(self.broker_listen, self.clock)
            except BrokerStartError as error:
                self.startup_error = str(error)
                self.stop()
                return None
            url = self.cloud.url
        self.module = build_module(self.clock, self.uart_link.device, url, self.thing,
                                   seed=seed)
        return url

    def _start_scripted(self, loop):
        """The room's climate, the timeline and the loop hooks, on ``loop``."""
        if self.room is not None:
            loop.create_task(self.room.run(), name="room_climate")
        for t_s, action in self._timeline:
            loop.call_at(t_s, action)
        for hook in self._loop_hooks:
            hook(loop)
