"""Runs the badge's own boot.py and code.py on CPython, as CircuitPython would.

What CircuitPython provides and CPython does not is put in place for the run and taken
away after it:

- the import path: the shims (built-in modules) first, then the drive's root and its
  ``lib`` folder, exactly the badge's order;
- ``os.getenv`` reading the drive's ``settings.toml`` (CircuitPython's TOML subset:
  quoted strings and integers);
- ``time.sleep`` / ``time.monotonic`` on the simulator's clock (only in the thread
  that runs the badge), so a blocking sleep in a driver advances virtual time and is
  recorded as a loop stall;
- the working directory: the drive, so relative paths land on CIRCUITPY;
- ``asyncio.run`` building a :class:`~sim.loop.SimEventLoop`;
- ``asyncio.core._io_queue`` (:mod:`sim.cp_asyncio_core`), with which the badge waits
  for a ``keypad`` event queue without polling.

With ``strict_libs`` the Adafruit libraries the badge needs must come from the drive's
``lib`` folder, not from this computer's site-packages: a deployed drive that misses
one fails here just as it would on the badge.
"""

import asyncio
import contextlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import threading
import time
from pathlib import Path

SHIMS_DIR = Path(__file__).resolve().parent / "shims"

# Libraries that live in CIRCUITPY/lib on a badge (top-level import names).
BADGE_LIBRARIES = (
    "adafruit_sht31d",
    "adafruit_displayio_ssd1306",
    "adafruit_display_text",
    "adafruit_miniqr",
    "adafruit_ticks",
    "adafruit_bus_device",
)


def parse_settings_toml(text):
    """CircuitPython's settings.toml subset: ``KEY = "string"`` or ``KEY = 123``.

    Returns {key: str | int}. Lines it cannot read are skipped, as CircuitPython does.
    """
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("[") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if raw.startswith('"'):
            end = raw.find('"', 1)
            while end > 0 and raw[end - 1] == "\\":
                end = raw.find('"', end + 1)
            if end < 0:
                continue
            values[key] = raw[1:end].encode().decode("unicode_escape")
            continue
        raw = raw.split("#", 1)[0].strip()
        try:
            values[key] = int(raw, 0)
        except ValueError:
            continue
    return values


_SHIM_NAMES = frozenset(p.stem for p in SHIMS_DIR.glob("*.py"))


class _DriveOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds the badge libraries only on the drive; elsewhere they do not exist."""

    def __init__(self, paths):
        self._paths = [str(p) for p in paths]

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top not in BADGE_LIBRARIES or "." in fullname:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, self._paths)
        if spec is None:
            raise ModuleNotFoundError(
                "no module named '%s' on the drive (copy it to CIRCUITPY/lib)" % fullname,
                name=fullname)
        return spec


class _Patched:
    """Reversible monkey patches, applied for one run."""

    def __init__(self):
        self._undo = []

    _MISSING = object()

    def set(self, obj, name, value):
        self._undo.append((obj, name, getattr(obj, name, self._MISSING)))
        setattr(obj, name, value)

    def set_item(self, mapping, key, value):
        self._undo.append((mapping, key, mapping.get(key, self._MISSING), True))
        mapping[key] = value

    def restore(self):
        while self._undo:
            obj, name, value, *item = self._undo.pop()
            if item:
                if value is self._MISSING:
                    obj.pop(name, None)
                else:
                    obj[name] = value
            elif value is self._MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, value)


class SimulationEnded(Exception):
    """Raised out of the badge's code when the requested duration has passed."""


class FirmwareRuntime:
    """One run of boot.py + code.py from ``code_root`` with ``drive_dir`` as CIRCUITPY.

    ``on_loop(loop)`` is called when code.py's ``asyncio.run`` creates its loop: the
    simulator starts its own parts (module emulator, broker, views) there.
    """

    def __init__(self, world, code_root, drive_dir, *, strict_libs=False, echo=False,
                 on_loop=None):
        self.world = world
        self.code_root = Path(code_root).resolve()
        self.drive_dir = Path(drive_dir).resolve()
        self.strict_libs = strict_libs
        self.echo = echo
        self.on_loop = on_loop
        self.on_end = []  # async callables run when the duration is over
        self.loop = None
        self.duration_s = None
        self._ended = False
        self._patches = _Patched()
        self._saved_path = None
        self._saved_cwd = None
        self._finder = None
        self._thread = None

    # -- environment ------------------------------------------------------------------
    def _paths(self):
        return [SHIMS_DIR, self.code_root, self.code_root / "lib"]

    def _purge_modules(self):
        """Forget modules from earlier runs: the badge imports afresh at every boot."""
        roots = (str(SHIMS_DIR), str(self.code_root / "lib"), str(self.code_root / "firmware"))
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None) or ""
            if name in ("code", "boot") or name.split(".")[0] == "firmware":
                del sys.modules[name]
            elif path.startswith(roots) or name in _SHIM_NAMES:
                del sys.modules[name]
            elif name.split(".")[0] in BADGE_LIBRARIES:
                # e.g. adafruit_ticks picks its clock (supervisor) when imported
                del sys.modules[name]

    def _getenv(self, original):
        settings_file = self.drive_dir / "settings.toml"

        def getenv(key, default=None):
            if threading.get_ident() == self._thread and settings_file.exists():
                values = parse_settings_toml(settings_file.read_text(errors="replace"))
                if key in values:
                    return values[key]
                if key.startswith(("BADGE_", "CIRCUITPY_")):
                    return default
            return original(key, default)

        return getenv

    def _time_patches(self):
        clock = self.world.clock
        real_sleep, real_monotonic, real_ns = time.sleep, time.monotonic, time.monotonic_ns
        me = self._thread

        def sleep(seconds):
            if threading.get_ident() == me:
                clock.block(seconds, "sleep")
            else:
                real_sleep(seconds)

        def monotonic():
            return clock.now() if threading.get_ident() == me else real_monotonic()

        def monotonic_ns():
            return clock.now_ns() if threading.get_ident() == me else real_ns()

        self._patches.set(time, "sleep", sleep)
        self._patches.set(time, "monotonic", monotonic)
        self._patches.set(time, "monotonic_ns", monotonic_ns)

    def __enter__(self):
        from sim import world as world_module

        self._thread = threading.get_ident()
        world_module.install(self.world)
        self._saved_path = list(sys.path)
        self._purge_modules()
        sys.path[:0] = [str(p) for p in self._paths()]
        if self.strict_libs:
            self._finder = _DriveOnlyFinder([self.code_root, self.code_root / "lib"])
            sys.meta_path.insert(0, self._finder)
        self._patches.set(os, "getenv", self._getenv(os.getenv))
        from sim import cp_asyncio_core

        self._patches.set(asyncio, "core", cp_asyncio_core)
        self._patches.set_item(sys.modules, "asyncio.core", cp_asyncio_core)
        if self.world.clock.virtual:
            self._time_patches()
            from sim.loop import sleep as one_turn_sleep

            self._patches.set(asyncio, "sleep", one_turn_sleep)
        self._quiet_displayio()
        self._display_bus_as_on_circuitpython()
        self.drive_dir.mkdir(parents=True, exist_ok=True)
        self._saved_cwd = os.getcwd()
        os.chdir(self.drive_dir)
        return self

    def __exit__(self, *exc):
        from sim import world as world_module

        os.chdir(self._saved_cwd)
        self._patches.restore()
        if self._finder is not None:
            sys.meta_path.remove(self._finder)
        sys.path[:] = self._saved_path
        with contextlib.suppress(Exception):
            import displayio

            displayio.release_displays()
        world_module.uninstall()
        return False

    @staticmethod
    def _quiet_displayio():
        """Stop blinka_displayio's background refresh thread: the badge's display task
        refreshes explicitly, and a thread would race the simulator's clock."""
        import displayio

        displayio._stop_background()
        displayio.release_displays()

    def _display_bus_as_on_circuitpython(self):
        """Make Blinka's I2CDisplayBus behave as CircuitPython's does.

        CircuitPython probes the address when the display bus is built (ValueError
        "Unable to find I2C Display at 3c" when nobody answers), and releasing the
        display leaves an I2C bus that the caller created alone. Blinka does neither.
        """
        import i2cdisplaybus

        cls = i2cdisplaybus.I2CDisplayBus
        original_init = cls.__init__

        def __init__(bus, i2c_bus, *, device_address, reset=None):
            while not i2c_bus.try_lock():
                pass
            try:
                i2c_bus.writeto(device_address, b"")
                found = True
            except OSError:
                found = False
            finally:
                i2c_bus.unlock()
            if not found:
                import displayio

                if bus in displayio.display_buses:  # Blinka registered it in __new__
                    displayio.display_buses.remove(bus)
                raise ValueError("Unable to find I2C Display at %x" % device_address)
            original_init(bus, i2c_bus, device_address=device_address, reset=reset)

        def deinit(bus):
            if getattr(bus, "_reset", None) is not None:
                bus.reset()
                bus._reset.deinit()

        self._patches.set(cls, "__init__", __init__)
        self._patches.set(cls, "deinit", deinit)

    # -- running ------------------------------------------------------------------------
    def _new_loop(self):
        from sim.loop import SimEventLoop

        loop = SimEventLoop(self.world.clock)
        self.loop = loop
        self.world.loop = loop
        if self.duration_s is not None:
            loop.call_at(self.duration_s, self._end, loop)
        if self.on_loop is not None:
            self.on_loop(loop)
        return loop

    def _end(self, loop):
        """The run is over: let the simulator's parts shut down, then stop the badge."""
        if self._ended:
            return
        self._ended = True
        if self.on_end:
            loop.create_task(self._shutdown(loop), name="end_of_run")
        else:
            self._cancel_all(loop)

    async def _shutdown(self, loop):
        for cleanup in self.on_end:
            try:
                await asyncio.wait_for(cleanup(), 5.0)
            except Exception as error:  # a part that cannot stop cleanly must not hang the run
                print("end of run: %s failed: %s" % (cleanup, error), file=sys.stderr)
        self._cancel_all(loop)

    @staticmethod
    def _cancel_all(loop):
        current = asyncio.current_task(loop)
        for task in asyncio.all_tasks(loop):
            if task is not current:
                task.cancel()

    def _run_file(self, name):
        path = self.code_root / name
        if not path.exists():
            return False
        runpy.run_path(str(path), run_name="__main__")
        return True

    def run(self, duration_s=None):
        """Run boot.py then code.py; returns when ``duration_s`` simulated seconds
        have passed (or code.py ends). Exceptions from the badge's code propagate."""
        self.duration_s = duration_s
        runtime = self

        class Policy(asyncio.DefaultEventLoopPolicy):
            def new_event_loop(self):
                return runtime._new_loop()

        saved_policy = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(Policy())
        out = _ConsoleTee(self.world.console, sys.stdout if self.echo else None)
        try:
            with contextlib.redirect_stdout(out):
                self._run_file("boot.py")
                try:
                    self._run_file("code.py")
                except asyncio.CancelledError:
                    if not self._ended:
                        raise
        finally:
            out.flush()
            asyncio.set_event_loop_policy(saved_policy)
        return self._ended


class _ConsoleTee:
    """A stdout replacement that keeps the badge's console lines (and echoes them).

    A long real-time run keeps only its last ``_KEEP_LINES`` lines (about 1 MB)."""

    _KEEP_LINES = 20000

    def __init__(self, lines, echo):
        self._lines = lines
        self._echo = echo
        self._partial = ""

    def write(self, text):
        if self._echo is not None:
            self._echo.write(text)
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._lines.append(line)
            if len(self._lines) > self._KEEP_LINES:
                del self._lines[: self._KEEP_LINES // 2]
        return len(text)

    def flush(self):
        if self._echo is not None:
            self._echo.flush()
