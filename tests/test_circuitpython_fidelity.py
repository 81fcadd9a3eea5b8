"""The CPython engine's shims behave as CircuitPython does, never kinder.

Each test closes one difference between the simulator's stand-ins and the real modules
(read off the CircuitPython source for the versions the badge supports, see
sim/engines/cpython/cp_version.py). Where the behaviour depends on the version, the test
runs on each version it differs for. Small planted code.py files exercise one module at a
time; the badge's own firmware is tested against these rules in
test_firmware_on_circuitpython.py.
"""

import errno
import textwrap

import pytest

from sim.engines.cpython.badge import VirtualBadge
from sim.engines.cpython.cp_version import SUPPORTED, CPVersion, getenv

IDLE = """
import asyncio

async def main():
    while True:
        await asyncio.sleep(1)

asyncio.run(main())
"""


@pytest.fixture
def planted(tmp_path):
    """Factory: a badge running ``code`` (and ``boot``) as its code.py (boot.py).

    The planted code reaches its results dict as ``world.current().results``."""

    def make(code=IDLE, boot=None, cp_version="10.2.1", settings=None, **options):
        root = tmp_path / ("root%d" % len(list(tmp_path.iterdir())))
        root.mkdir()
        (root / "code.py").write_text(textwrap.dedent(code))
        if boot is not None:
            (root / "boot.py").write_text(textwrap.dedent(boot))
        if settings is not None:
            (root / "settings.toml").write_text(settings)
        options.setdefault("module", False)
        badge = VirtualBadge(code_root=root, drive_dir=root, cp_version=cp_version,
                             **options)
        badge.world.results = {}
        return badge

    return make


# -- the version keyword --------------------------------------------------------------

def test_versions_known_and_unknown():
    assert [CPVersion(v).text for v in SUPPORTED] == ["9.2.1", "10.0.3", "10.2.1"]
    assert CPVersion().text == "10.2.1"
    for bad in ("8.2.0", "11.0.0", "10.2", "latest"):
        with pytest.raises(ValueError, match="9.2.1"):
            CPVersion(bad)


# -- os.getenv ------------------------------------------------------------------------

GETENV_CASES = [
    # settings.toml, (9.0-10.1.x result, 10.2+ result); ValueError = raises
    ('A = 10\n', (10, "10")),
    ('A = 0x3C  # hex\n', (0x3C, "0x3C")),
    ('A = "GP4"\n', ("GP4", "GP4")),
    ('A = "tab\\there"  # note\n', ("tab\there", "tab\there")),
    ('A = often\n', (ValueError, "often")),
    ('A = "GP4\nB = 1\n', (ValueError, None)),
    ('A = "GP4" x\n', (ValueError, None)),
    ('A =\n', (ValueError, None)),
    ('AB = 1\nA = 2\n', (2, "2")),
    ('  A=3\r\n', (3, "3")),
    ('[section]\nA = 1\n', (None, None)),
    ('B = 1\n', (None, None)),
    ('A = "\\u00e9t\\u00e9"\n', ("\u00e9t\u00e9", "\u00e9t\u00e9")),
]


@pytest.mark.parametrize("version", SUPPORTED)
@pytest.mark.parametrize("text, expected", GETENV_CASES)
def test_getenv_reads_settings_as_the_version_does(version, text, expected):
    cp = CPVersion(version)
    want = expected[1] if cp.getenv_returns_str else expected[0]
    data = text.encode()
    if want is ValueError:
        with pytest.raises(ValueError):
            getenv(data, "A", None, cp)
    else:
        assert getenv(data, "A", None, cp) == want
    assert getenv(None, "A", "dflt", cp) == "dflt"  # no settings.toml at all


def test_badge_getenv_never_reads_the_computers_environment(planted, monkeypatch):
    monkeypatch.setenv("BADGE_FROM_HOST", "1")
    badge = planted("""
        import os
        from sim.engines.cpython import world
        world.current().results["host"] = os.getenv("BADGE_FROM_HOST")
        world.current().results["drive"] = os.getenv("BADGE_NAME")
        world.current().results["error"] = None
        try:
            os.getenv("BADGE_BAD")
        except ValueError as error:
            world.current().results["error"] = str(error)
        """, cp_version="9.2.1", settings='BADGE_NAME = "Ada"\nBADGE_BAD = Ada\n')
    badge.run(1)
    assert badge.world.results == {"host": None, "drive": "Ada",
                                   "error": "invalid syntax for integer with base 10"}


# -- sleeps: whole milliseconds, the version's float precision ------------------------

SLEEPS = """
import asyncio
from sim.engines.cpython import world

async def main():
    w = world.current()
    for label, coro in (("0.016", lambda: asyncio.sleep(0.016)),
                        ("0.001", lambda: asyncio.sleep(0.001)),
                        ("0.05", lambda: asyncio.sleep(0.05)),
                        ("ms16", lambda: asyncio.sleep_ms(16))):
        t0 = w.clock.now_ns()
        await coro()
        w.results[label] = (w.clock.now_ns() - t0) / 1e6

asyncio.run(main())
"""


@pytest.mark.parametrize("version, whole_ms", [
    ("9.2.1", {"0.016": 15, "0.001": 0, "0.05": 49, "ms16": 16}),
    ("10.0.3", {"0.016": 15, "0.001": 0, "0.05": 49, "ms16": 16}),
    ("10.2.1", {"0.016": 16, "0.001": 1, "0.05": 50, "ms16": 16}),
])
def test_asyncio_sleep_is_whole_ms_of_the_versions_floats(planted, version, whole_ms):
    """The port's sleep(t) is sleep_ms(int(t * 1000)) in 30-bit floats, and a sleeper
    wakes at the first ticks_ms tick at or past its deadline (so up to 1 ms early)."""
    cp = CPVersion(version)
    for label, ms in whole_ms.items():
        if label != "ms16":
            assert cp.sleep_ms(float(label)) == ms, label
    badge = planted(SLEEPS, cp_version=version)
    badge.run(1)
    for label, ms in whole_ms.items():
        slept = badge.world.results[label]
        if ms == 0:
            assert slept < 0.2, (label, slept)  # one turn of the loop
        else:
            assert ms - 1 < slept <= ms + 1e-5, (label, slept)
    assert [s for _t, s in badge.runtime.zero_ms_sleeps] == (
        [0.001] if whole_ms["0.001"] == 0 else [])


def test_float_precision_per_version():
    assert CPVersion("9.2.1").float(0.016) == pytest.approx(0.015999995, abs=1e-9)
    assert CPVersion("10.2.1").float(0.016) == pytest.approx(0.016000001, abs=1e-9)
    assert CPVersion("9.2.1").float(0.25) == 0.25  # short mantissas survive


# -- busio.UART -----------------------------------------------------------------------

UART_POLL = """
import asyncio
import board
import busio
from asyncio import core
from sim.engines.cpython import world

async def second_reader(uart):
    try:
        await core._io_queue.queue_read(uart)
    except AssertionError:
        world.current().results["second reader"] = "AssertionError"

async def main():
    w = world.current()
    uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0)
    w.results["read nothing"] = uart.read(4)
    t0 = w.clock.now()
    waiter = asyncio.create_task(core._io_queue.queue_read(uart))
    await asyncio.sleep(0)
    await second_reader(uart)
    await waiter
    w.results["woke after"] = w.clock.now() - t0
    w.results["first byte"] = uart.read(uart.in_waiting)

asyncio.run(main())
"""


def test_uart_can_be_polled_by_one_task_at_a_time(planted):
    badge = planted(UART_POLL)
    badge.at(0.5, lambda: badge.uart_link.device.write(b"OK\r\n"))
    badge.run(1)
    results = badge.world.results
    assert results["read nothing"] is None
    assert results["second reader"] == "AssertionError"
    assert results["woke after"] == pytest.approx(0.5 + 10 / 115200, abs=2e-4)
    assert results["first byte"] == b"O"


def test_uart_timeout_restarts_at_every_byte(planted):
    badge = planted()
    seen = {}

    def probe():
        import board
        import busio

        device = badge.uart_link.device
        uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0.1)
        now_ns = badge.clock.now_ns()
        device.write(b"AB")
        device._tx_free_ns = now_ns + 50_000_000
        device.write(b"C")  # 50 ms later: within 100 ms of B
        device._tx_free_ns = now_ns + 200_000_000
        device.write(b"D")  # 150 ms after C: too late for this read, not the next
        t0 = badge.clock.now()
        seen["read"] = uart.read(4)
        seen["took"] = badge.clock.now() - t0
        seen["rest"] = uart.read(1)
        uart.timeout = 0
        seen["timeout 0"] = uart.read(1)

    badge.at(0.2, probe)
    badge.run(1)
    assert seen["read"] == b"ABC"
    assert 0.149 < seen["took"] <= 0.151
    assert seen["rest"] == b"D"
    assert seen["timeout 0"] is None


@pytest.mark.parametrize("kwargs, message", [
    ({"tx": None, "rx": None}, "cannot both be None"),
    ({"timeout": 101}, "timeout"),
    ({"timeout": 0.5, "bits": 9}, "bits"),
    ({"receiver_buffer_size": 0}, "receiver_buffer_size"),
    ({"stop": 3}, "stop"),
])
def test_uart_checks_its_arguments(planted, kwargs, message):
    badge = planted()
    seen = {}

    def probe():
        import board
        import busio

        options = {"tx": board.GP0, "rx": board.GP1, "baudrate": 115200}
        options.update(kwargs)
        tx, rx = options.pop("tx"), options.pop("rx")
        try:
            busio.UART(tx, rx, **options)
        except ValueError as error:
            seen["error"] = str(error)
        uart = busio.UART(board.GP0, board.GP1, baudrate=115200)  # the pins are free
        try:
            busio.UART(board.GP0, board.GP1)
        except ValueError as error:
            seen["in use"] = str(error)
        uart.deinit()
        try:
            uart.read(1)
        except ValueError as error:
            seen["deinit"] = str(error)

    badge.at(0.5, probe)
    badge.run(1)
    assert message in seen["error"]
    assert "in use" in seen["in use"]
    assert "deinitialized" in seen["deinit"]


# -- busio.I2C ---------------------------------------------------------------------------

def test_i2c_without_pull_ups_raises_runtime_error(planted):
    badge = planted()
    seen = {}

    def probe():
        import board
        import busio

        badge.i2c.pull_ups = False
        try:
            busio.I2C(board.GP5, board.GP4)
        except RuntimeError as error:
            seen["error"] = str(error)
        badge.i2c.pull_ups = None
        i2c = busio.I2C(board.GP5, board.GP4)  # the failed attempt held no pins
        i2c.try_lock()
        try:
            i2c.writeto(0x50, b"\x00")
        except OSError as error:
            seen["nack"] = error.errno
        i2c.unlock()

    badge.at(0.5, probe)
    badge.run(1)
    assert seen["error"] == "No pull up found on SDA or SCL; check your wiring"
    assert seen["nack"] == errno.ENODEV == 19


def test_an_empty_bus_has_no_pull_ups(planted):
    badge = planted()
    badge.display.present = False
    badge.sensor.present = False
    seen = {}

    def probe():
        import board
        import busio

        with pytest.raises(RuntimeError, match="No pull up"):
            busio.I2C(board.GP5, board.GP4)
        seen["done"] = True

    badge.at(0.5, probe)
    badge.run(1)
    assert seen["done"]


# -- the drive -----------------------------------------------------------------------

WRITE = """
import os
from sim.engines.cpython import world
w = world.current()
try:
    with open("note.txt", "w") as f:
        f.write("hi")
    w.results["write"] = "ok"
except OSError as error:
    w.results["write"] = error.args[0]
try:
    os.mkdir("folder")
    w.results["mkdir"] = "ok"
except OSError as error:
    w.results["mkdir"] = error.args[0]
with open("code.py") as f:
    w.results["read"] = len(f.read()) > 0
"""

REMOUNT = """
import storage
from sim.engines.cpython import world
try:
    storage.remount("/", readonly=False)
    world.current().results["remount"] = "ok"
except RuntimeError as error:
    world.current().results["remount"] = str(error)
"""


def test_drive_is_read_only_to_the_badge_without_a_remount(planted):
    badge = planted(WRITE)
    badge.run(1)
    assert badge.world.results == {"write": errno.EROFS, "mkdir": errno.EROFS, "read": True}
    assert not (badge.code_root / "note.txt").exists()


def test_boot_py_remount_makes_the_drive_writable(planted):
    badge = planted(WRITE, boot='import storage\nstorage.remount("/", readonly=False)\n')
    badge.run(1)
    assert badge.world.results == {"write": "ok", "mkdir": "ok", "read": True}
    assert (badge.code_root / "note.txt").read_text() == "hi"


@pytest.mark.parametrize("version, message", [
    ("9.2.1", "Cannot remount '/' when visible via USB."),
    ("10.0.3", "Cannot remount path when visible via USB."),
    ("10.2.1", "Cannot remount path when visible via USB."),
])
def test_remount_from_code_py_while_usb_sees_the_drive_raises(planted, version, message):
    badge = planted(REMOUNT, cp_version=version)
    badge.run(1)
    assert badge.world.results["remount"] == message
    unplugged = planted(REMOUNT, cp_version=version)
    unplugged.world.usb_connected = False
    unplugged.run(1)
    assert unplugged.world.results["remount"] == "ok"


# -- soft reload ---------------------------------------------------------------------

RELOADED = """
import asyncio
import board
import busio
import digitalio
import displayio
import i2cdisplaybus
import supervisor
import adafruit_displayio_ssd1306
from sim.engines.cpython import world

runs = world.current().results.setdefault("runs", [])
try:
    i2c = busio.I2C(board.GP5, board.GP4)
    runs.append(str(supervisor.runtime.run_reason))
except ValueError as error:
    runs.append(str(error))
    displayio.release_displays()
    i2c = busio.I2C(board.GP5, board.GP4)
led = digitalio.DigitalInOut(board.GP25)  # released at every reload
bus = i2cdisplaybus.I2CDisplayBus(i2c, device_address=0x3C)
display = adafruit_displayio_ssd1306.SSD1306(bus, width=128, height=64, auto_refresh=False)

async def main():
    while True:
        await asyncio.sleep(1)

asyncio.run(main())
"""


def test_soft_reload_keeps_the_display_and_its_pins(planted):
    badge = planted(RELOADED)
    badge.reload_at(2)
    badge.reload_at(4, "AUTO_RELOAD")
    badge.run(6)
    assert badge.world.results["runs"] == ["STARTUP", "GP5 in use", "GP5 in use"]
    assert badge.runtime.reloads == 2
    assert badge.console.count("soft reboot (AUTO_RELOAD)") == 1


def test_soft_reload_runs_code_py_again_but_not_boot_py(planted):
    badge = planted(boot='print("boot ran")\n', code="""
        import asyncio
        import supervisor
        print("code ran:", supervisor.runtime.run_reason)

        async def main():
            await asyncio.sleep(1)
            supervisor.reload()

        asyncio.run(main())
        """)
    badge.run(2.5)
    assert badge.console.count("boot ran") == 1
    assert [line for line in badge.console if line.startswith("code ran")] == [
        "code ran: STARTUP", "code ran: SUPERVISOR_RELOAD", "code ran: SUPERVISOR_RELOAD"]


# -- keypad ----------------------------------------------------------------------------

HELD = """
import board
import keypad
from sim.engines.cpython import world
keys = keypad.Keys((board.GP13, board.GP14), value_when_pressed=False, pull=True)
world.current().results["events"] = [(e.key_number, e.pressed)
                                     for e in iter(keys.events.get, None)]
"""


@pytest.mark.parametrize("version, events", [
    ("9.0.5", [(1, True)]),  # 9.0.x: the first scan reports the held key
    ("9.2.1", []),
    ("10.2.1", []),
])
def test_keypad_key_held_at_start(planted, version, events):
    badge = planted(HELD, cp_version=version)
    badge.world.set_button("GP14", True)
    badge.run(0.5)
    assert badge.world.results["events"] == events


# -- displays ---------------------------------------------------------------------------

DISPLAY = """
import asyncio
import board
import busio
import displayio
import i2cdisplaybus
import adafruit_displayio_ssd1306
from sim.engines.cpython import world

displayio.release_displays()
i2c = busio.I2C(board.GP5, board.GP4)
bus = i2cdisplaybus.I2CDisplayBus(i2c, device_address=0x3C)
display = adafruit_displayio_ssd1306.SSD1306(bus, width=128, height=64, auto_refresh=False)

async def main():
    w = world.current()
    await asyncio.sleep(1)
    w.results["gone"] = not w.i2c_present
    group = displayio.Group()
    group.append(displayio.TileGrid(displayio.Bitmap(8, 8, 2),
                 pixel_shader=displayio.Palette(2)))
    display.root_group = group
    display.refresh()
    w.results["refreshed"] = True

asyncio.run(main())
"""


def test_display_bus_ignores_write_errors(planted):
    badge = planted(DISPLAY)
    badge.world.i2c_present = True

    def unplug():
        badge.display.present = False
        badge.world.i2c_present = False

    badge.at(0.5, unplug)
    badge.run(2)
    assert badge.world.results == {"gone": True, "refreshed": True}
    assert badge.i2c.nacks > 0  # the writes did fail on the bus


# -- sys.print_exception -----------------------------------------------------------------

@pytest.mark.parametrize("version, present", [("9.2.1", True), ("10.0.3", False),
                                              ("10.2.1", False)])
def test_sys_print_exception_only_on_9x_and_it_warns(planted, version, present):
    badge = planted("""
        import sys
        from sim.engines.cpython import world
        world.current().results["has"] = hasattr(sys, "print_exception")
        if world.current().results["has"]:
            sys.print_exception(ValueError("x"))
        """, cp_version=version)
    badge.run(0.5)
    assert badge.world.results["has"] is present
    warned = any("FutureWarning: print_exception moved from sys to traceback" in line
                 for line in badge.console)
    assert warned is present
