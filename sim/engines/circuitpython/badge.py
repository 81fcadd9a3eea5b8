"""The badge on the real CircuitPython: the official UF2 on an emulated RP2040 (rp2040js),
wired to the simulator's own chips, ExpressLink emulator and broker.

:class:`CircuitPythonBadge` is a :class:`sim.engines.board.BadgeBoard`, as the CPython
engine's :class:`~sim.engines.cpython.badge.VirtualBadge` is: the same parts and the same
surface for the command line, the views and the start-up content (``on_loop``, ``at``,
``press``, ``stop``, ``run``, ``screenshot``, ``display``, ``sensor``, ``clock``,
``console``, ``module``, ``cloud``, ``cloud_ready``, ``thing``), plus the console keys
(:meth:`send_keys`, :meth:`soft_reload`) and the figures its report needs. Time is always
the emulated RP2040's: a run of ``duration_s`` is that many emulated seconds.

Pins: the firmware's pin map (``PINS`` in firmware/settings.py) at its defaults: I2C0
SDA=GP4 SCL=GP5 (SSD1306 0x3C, SHT31-D 0x44); UART0 TX=GP0 RX=GP1 to the module,
EVENT=GP10 (in), WAKE=GP11 and RST=GP12 (out, active low); buttons GP13-15 to ground;
LED GP25.
"""

import asyncio
import time
from pathlib import Path

from sim.core.clock import VirtualClock
from sim.engines.board import DEFAULT_THING, PINS, BadgeBoard
from sim.engines.circuitpython import fat12
from sim.engines.circuitpython.bridge import CoSimBridge
from sim.engines.circuitpython.console import ConsoleCapture
from sim.engines.circuitpython.first_frame import FirstFrameWatch
from sim.engines.circuitpython.i2c_router import I2CRouter
from sim.engines.circuitpython.parts import DEFAULT_VERSION, IDLE_LOOPS, find_parts
from sim.engines.circuitpython.process import NodeProcess
from sim.core.loop import SimEventLoop

def _gpio(attribute):
    """The RP2040 GPIO number of a pin of the firmware's pin map (``"GP13"`` -> 13)."""
    return int(PINS[attribute][2:])


GPIO_SDA, GPIO_SCL = _gpio("pin_sda"), _gpio("pin_scl")
GPIO_EVENT, GPIO_WAKE = _gpio("pin_event"), _gpio("pin_wake")
GPIO_RESET, GPIO_LED = _gpio("pin_reset"), _gpio("pin_led")
BUTTON_GPIOS = {button: _gpio("pin_button_" + button.lower()) for button in "ABC"}
ATTACH_KEY_GAP_S = 0.05  # emulated seconds between the keys that attach the console


class CircuitPythonBadge(BadgeBoard):
    """One badge. ``drive_dir``: the CIRCUITPY folder to put on the emulated flash (a
    deployed drive); ``version``: the CircuitPython release ("9.2.1", "10.0.3",
    "10.2.1"); ``module``: wire the ExpressLink emulator (with the embedded broker unless
    ``broker_url``). ``answer_timeout_s``: wall-clock limit for any one answer of the
    emulator (a hung emulator ends the run with an error instead of hanging).
    ``local_chips``: for the bench's baseline only, addresses that Node ACKs by itself
    (no Python chip, no UART peer): what the run costs without the bridge."""

    engine = "circuitpython"

    def __init__(self, drive_dir, *, version=DEFAULT_VERSION, temperature_c=22.0,
                 humidity_rh=45.0, seed=None, module=True, broker_url=None,
                 broker_listen=("127.0.0.1", 0), thing=DEFAULT_THING, echo=None,
                 answer_timeout_s=60.0, local_chips=None, idle_skip=True):
        self.parts = find_parts(version)
        self.version = version
        self.trace = None  # {"at": emulated ns, "count": n, "path": file}: idle_probe.py
        # Skip the idle turns of CircuitPython's poll wait (node/idle.mjs): same run, faster.
        self.idle_skip = idle_skip
        self.drive_dir = Path(drive_dir)
        clock = VirtualClock()
        super().__init__(clock, I2CRouter(clock), temperature_c=temperature_c,
                         humidity_rh=humidity_rh, seed=seed, module=module,
                         broker_url=broker_url, broker_listen=broker_listen, thing=thing)
        self.console = ConsoleCapture(echo=echo)
        self.first_frame = FirstFrameWatch(self.display, self.clock)
        self.answer_timeout_s = answer_timeout_s
        self.local_chips = local_chips
        self.buttons_down = set()
        self.led_level = False
        self.bridge = None
        self.drive_files = None  # {path: bytes} read back from flash after the run
        self.wall_s = 0.0
        self._on_end = []
        self._loop = None
        self._wall_started = None
        self.real_time = False

    # -- scripting (also at, on_loop, screenshot: BadgeBoard) ----------------------------
    def press(self, button, hold_s=0.1):
        """Hold button "A", "B" or "C" down for ``hold_s`` emulated seconds from now."""
        gpio = BUTTON_GPIOS[button]
        self.buttons_down.add(gpio)
        if self._loop is not None:
            self._loop.call_at(self.clock.now() + hold_s, self.buttons_down.discard, gpio)

    def send_keys(self, data):
        """Type ``data`` (bytes) on the USB console at the next sync."""
        if self.bridge is not None:
            self.bridge.send_keys(bytes(data))

    def soft_reload(self):
        """Ctrl-C (stop code.py) then, 50 ms later, Ctrl-D (soft reload)."""
        self.send_keys(b"\x03")
        self._loop.call_at(self.clock.now() + 0.05, self.send_keys, b"\x04")

    def stop(self):
        if self.bridge is not None:
            self.bridge.stop()

    def speed(self):
        """Emulated seconds per wall second since the run started (0.0 before it)."""
        if self._wall_started is None:
            return 0.0
        return self.clock.now() / max(time.monotonic() - self._wall_started, 1e-9)

    # -- the run ---------------------------------------------------------------------------
    def run(self, duration_s=None, real_time=False):
        """Boot and run for ``duration_s`` emulated seconds (None: until stopped).
        ``real_time``: never let emulated time run ahead of the wall clock (live view);
        otherwise as fast as the emulator goes."""
        self.real_time = real_time
        loop = SimEventLoop(self.clock)
        asyncio.set_event_loop(loop)
        started = self._wall_started = time.monotonic()
        try:
            loop.run_until_complete(self._main(duration_s))
        finally:
            self.wall_s = time.monotonic() - started
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def _config(self, image_path, image_out):
        return {
            "bootrom": str(self.parts.bootrom), "uf2": str(self.parts.uf2),
            "image": str(image_path), "imageOut": str(image_out),
            "sda": GPIO_SDA, "scl": GPIO_SCL,
            "idle": {str(g): 1 for g in (GPIO_SDA, GPIO_SCL, *BUTTON_GPIOS.values())},
            "outputs": [GPIO_WAKE, GPIO_RESET, GPIO_LED],
            "localChips": self.local_chips,
            "idleLoop": IDLE_LOOPS.get(self.version) if self.idle_skip and not self.trace else None,
            "trace": self.trace,
        }

    async def _main(self, duration_s):
        loop = self._loop = asyncio.get_running_loop()
        image = fat12.build_image(self.drive_dir)
        scratch = _Scratch()
        image_path = scratch.path / "circuitpy.img"
        image_out = scratch.path / "circuitpy-after.img"
        image_path.write_bytes(image)
        process = NodeProcess(self.parts, self._config(image_path, image_out),
                              answer_timeout_s=self.answer_timeout_s)
        inputs = {gpio: (lambda g=gpio: g not in self.buttons_down)
                  for gpio in BUTTON_GPIOS.values()}
        inputs[GPIO_EVENT] = lambda: self.module is not None and self.module.event_pin
        outputs = {GPIO_LED: self._set_led}
        self.bridge = CoSimBridge(self.clock, process, self.i2c, self.uart_link.host,
                                  inputs, outputs, self.console)
        self.bridge.on_usb.append(self._attach_console)
        self.bridge.real_time = self.real_time
        if duration_s is not None:
            self.bridge.stop_at_ns = int(round(duration_s * 1e9))
        try:
            if self.module_wanted:
                self.cloud_ready = loop.create_future()
                await self._start_cloud(outputs)
            self._start_scripted(loop)
            await self.bridge.serve()
        finally:
            process.close()
            if image_out.exists():
                self.drive_files = fat12.read_files(image_out.read_bytes())
            scratch.cleanup()
            if self.module is not None:
                await self.module.close()
            if self.cloud is not None:
                await self.cloud.stop()
            for cleanup in self._on_end:
                await cleanup()

    def _attach_console(self):
        """The host opened the port: what code.py printed so far was dropped (as on a
        board), so interrupt it and reload it with the console attached: Ctrl-C, Enter
        (into the REPL, wherever code.py was), Ctrl-D (soft reload)."""
        now = self.clock.now()
        self.console.attach_reloads += 1
        for delay_s, key in ((0.0, b"\x03"), (ATTACH_KEY_GAP_S, b"\r"),
                             (2 * ATTACH_KEY_GAP_S, b"\x04")):
            self._loop.call_at(now + delay_s, self.send_keys, key)

    def _set_led(self, level):
        self.led_level = level

    async def _start_cloud(self, outputs):
        """The broker and the module, wired to the RST and WAKE outputs, as on the board."""
        url = await self._start_module(seed=self.seed or 0)
        if url is None:
            return
        module = self.module
        outputs[GPIO_RESET] = module.set_reset
        outputs[GPIO_WAKE] = module.set_wake
        module.reset_level = True  # RST is an input at power-up; the module pulls it up
        module.start()
        self.cloud_ready.set_result(url)


class _Scratch:
    def __init__(self):
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="badge-cp-")
        self.path = Path(self._dir.name)

    def cleanup(self):
        self._dir.cleanup()

