"""A virtual badge: the emulated parts wired as on the real board, plus its firmware run.

Wiring: the firmware's own pin map (``PINS`` in firmware/settings.py) at its defaults:
I2C0 with the SSD1306 (0x3C) and the SHT31-D (0x44); UART0 to the ExpressLink module
with its EVENT, WAKE and RST lines; buttons A, B, C to ground; the LED.
"""

from pathlib import Path

from sim.core.clock import RealClock, VirtualClock
from sim.core.i2c_bus import I2CBus
from sim.engines.board import DEFAULT_THING, PINS, REPO_ROOT, BadgeBoard
from sim.engines.cpython.cp_version import NEWEST
from sim.engines.cpython.runtime import FirmwareRuntime
from sim.engines.cpython.world import World

BUTTON_PINS = {"A": PINS["pin_button_a"], "B": PINS["pin_button_b"], "C": PINS["pin_button_c"]}
I2C_PINS = (PINS["pin_scl"], PINS["pin_sda"])  # the key of World.i2c_buses
UART_PINS = (PINS["pin_uart_tx"], PINS["pin_uart_rx"])  # as seen from the RP2040


class VirtualBadge(BadgeBoard):
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

    engine = "cpython"

    def __init__(self, *, code_root=REPO_ROOT, drive_dir=None, virtual_time=True,
                 temperature_c=22.0, humidity_rh=45.0, strict_libs=False, echo=False,
                 seed=None, module=True, broker_url=None, broker_listen=("127.0.0.1", 0),
                 thing=DEFAULT_THING, cp_version=NEWEST, pace=None):
        clock = VirtualClock() if virtual_time else RealClock()
        if pace is not None:
            if not virtual_time:
                raise ValueError("pace controls a virtual clock: pass virtual_time=True")
            clock.pace = pace
        super().__init__(clock, I2CBus(clock), temperature_c=temperature_c,
                         humidity_rh=humidity_rh, seed=seed, module=module,
                         broker_url=broker_url, broker_listen=broker_listen, thing=thing)
        self.world = World(clock)
        self.world.i2c_buses[I2C_PINS] = self.i2c
        self.world.uarts[UART_PINS] = self.uart_link.host
        self.code_root = Path(code_root)
        self.drive_dir = Path(drive_dir) if drive_dir is not None else self.code_root
        self.runtime = FirmwareRuntime(self.world, self.code_root, self.drive_dir,
                                       strict_libs=strict_libs, echo=echo,
                                       on_loop=self._on_loop, cp_version=cp_version)

    @property
    def cp_version(self):
        """The CircuitPython version the shims follow (``.text``: "10.2.1")."""
        return self.runtime.cp

    # -- scripting (also at, on_loop, screenshot: BadgeBoard) ----------------------------
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
        """Start the broker and the module, wired to the badge's EVENT, RST and WAKE pins."""
        url = await self._start_module()
        if url is None:
            return
        if self.cloud is not None:
            self.runtime.on_end.append(self.cloud.stop)
        module = self.module
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
        self._start_scripted(loop)

    # -- running ---------------------------------------------------------------------------
    def run(self, duration_s=None):
        """Boot the badge and run it for ``duration_s`` simulated seconds (None: forever)."""
        with self.runtime:
            return self.runtime.run(duration_s)

    @property
    def console(self):
        return self.world.console
