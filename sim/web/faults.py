"""The faults the page can switch, each on a knob of a part both engines share.

| name | knob |
|---|---|
| ``sensor_absent`` | ``SHT31D.present`` (gone from the I2C bus: every transfer NACKs) |
| ``sensor_bad_crc`` | ``SHT31D.bad_crc`` (measurement CRCs corrupted) |
| ``display_absent`` | ``SSD1306.present`` |
| ``module_reset`` | momentary: RST held low for ``RESET_PULSE_S`` then released, as a glitch on the line would (the module reboots: garbage, STARTUP) |
| ``module_hang`` | ``module.hang`` (no answers until RST; a reset clears it, and the page sees that) |
| ``broker_down`` | the broker, as this module sees it: the connection drops (CONLOST) and every CONNECT fails with "endpoint unreachable" (``module.unreachable``) until switched off. The embedded broker itself keeps running, with its retained content, for the page's own client and the shadow service |
| ``uart_noise`` | while on, a burst of 1-8 random bytes on the module's TX line every 0.5-4 simulated s (``module.inject_garbage``; seeded, so a run repeats) |

Everything here runs on the simulation's loop. The state the page sees is read back
from the knobs, so a fault a part clears by itself (a reset ends a hang) shows as off.
"""

import asyncio
import random

RESET_PULSE_S = 0.01
NOISE_GAP_S = (0.5, 4.0)
NOISE_BYTES = (1, 8)

FAULTS = (
    ("sensor_absent", "Sensor absent", False),
    ("sensor_bad_crc", "Sensor bad CRC", False),
    ("display_absent", "Display absent", False),
    ("module_reset", "Module reset", True),
    ("module_hang", "Module hang", False),
    ("broker_down", "Broker down", False),
    ("uart_noise", "UART line noise", False),
)
NAMES = tuple(name for name, _label, _momentary in FAULTS)
NEEDS_MODULE = ("module_reset", "module_hang", "broker_down", "uart_noise")


class FaultError(ValueError):
    """A fault that cannot be switched now (no module); the message says why."""


class Faults:
    """The fault knobs of one badge."""

    def __init__(self, badge, seed=0):
        self.badge = badge
        self._noise_task = None
        self._random = random.Random(seed)

    @staticmethod
    def table():
        """[{name, label, momentary}] for ``hello``."""
        return [{"name": name, "label": label, "momentary": momentary}
                for name, label, momentary in FAULTS]

    def state(self):
        """{name: bool} as the knobs stand (momentary faults are always False)."""
        badge = self.badge
        module = badge.module
        return {
            "sensor_absent": not badge.sensor.present,
            "sensor_bad_crc": bool(badge.sensor.bad_crc),
            "display_absent": not badge.display.present,
            "module_reset": False,
            "module_hang": bool(module is not None and module.hang),
            "broker_down": bool(module is not None and module.unreachable),
            "uart_noise": self._noise_task is not None,
        }

    def switch(self, name, on):
        """Switch fault ``name``; FaultError when it needs a module and there is none."""
        badge = self.badge
        module = badge.module
        if name in NEEDS_MODULE and module is None:
            raise FaultError("%s: this badge has no ExpressLink module (yet)" % name)
        if name == "sensor_absent":
            badge.sensor.present = not on
        elif name == "sensor_bad_crc":
            badge.sensor.bad_crc = bool(on)
        elif name == "display_absent":
            badge.display.present = not on
        elif name == "module_reset":
            if on:
                self._reset_pulse(module)
        elif name == "module_hang":
            module.hang = bool(on)
        elif name == "broker_down":
            module.unreachable = bool(on)
            if on:
                module.drop_connection("broker down")
        elif name == "uart_noise":
            self._noise(on)
        else:
            raise ValueError("unknown fault %r" % name)

    def _reset_pulse(self, module):
        if not module.reset_level:
            return  # the badge holds the module in reset already
        module.set_reset(False)
        asyncio.get_running_loop().call_later(RESET_PULSE_S, module.set_reset, True)

    def _noise(self, on):
        if on and self._noise_task is None:
            self._noise_task = asyncio.get_running_loop().create_task(
                self._make_noise(), name="page_uart_noise")
        elif not on and self._noise_task is not None:
            self._noise_task.cancel()
            self._noise_task = None

    async def _make_noise(self):
        rng = self._random
        while True:
            await asyncio.sleep(rng.uniform(*NOISE_GAP_S))
            module = self.badge.module
            if module is not None:
                size = rng.randint(*NOISE_BYTES)
                module.inject_garbage(bytes(rng.randrange(256) for _ in range(size)))
