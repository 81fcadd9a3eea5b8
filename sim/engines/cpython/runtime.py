"""Runs the badge's own boot.py and code.py on CPython, as CircuitPython would.

What CircuitPython provides and CPython does not is put in place for the run and taken
away after it:

- the import path: the shims (built-in modules) first, then the drive's root and its
  ``lib`` folder, exactly the badge's order;
- ``os.getenv`` reading the drive's ``settings.toml`` exactly as the chosen
  CircuitPython version does (``cp_version``; see :mod:`sim.engines.cpython.cp_version`),
  never the computer's environment;
- ``time.sleep`` / ``time.monotonic`` on the simulator's clock (only in the thread
  that runs the badge), so a blocking sleep in a driver advances virtual time and is
  recorded as a loop stall;
- the working directory: the drive, so relative paths land on CIRCUITPY; the drive is
  read-only to the badge's code unless ``boot.py`` remounted it (EROFS, as on the board);
- ``asyncio.run`` running the badge on one :class:`~sim.core.loop.SimEventLoop` per power-up,
  which the simulator's own parts share;
- ``asyncio.sleep`` / ``sleep_ms`` / ``wait_for`` in the badge's tasks as the asyncio
  port has them: whole milliseconds of ``ticks_ms``, the seconds converted with the
  version's float precision (``sleep(0.016)`` is 15 ms on 9.x-10.1.x);
- ``asyncio.core._io_queue`` (:mod:`sim.engines.cpython.cp_asyncio_core`), with which the
  badge waits for a ``keypad`` event queue or a ``busio.UART`` without polling;
- ``sys.print_exception`` where the version has it (9.x, with its FutureWarning);
- soft reloads (:meth:`FirmwareRuntime.soft_reload`, ``supervisor.reload()``): the
  badge's tasks stop, every pin is released except those a display still holds, and
  ``code.py`` runs again (``boot.py`` does not), as CircuitPython does.

With ``strict_libs`` the Adafruit libraries the badge needs must come from the drive's
``lib`` folder, not from this computer's site-packages: a deployed drive that misses
one fails here just as it would on the badge.
"""

import asyncio
import builtins
import contextlib
import errno
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import threading
import time
from pathlib import Path

from sim.engines.cpython.cp_version import NEWEST, CPVersion
from sim.engines.cpython.cp_version import getenv as cp_getenv
from sim.core.loop import is_badge_task

SHIMS_DIR = Path(__file__).resolve().parents[2] / "shims"

# Libraries that live in CIRCUITPY/lib on a badge (top-level import names).
BADGE_LIBRARIES = (
    "adafruit_sht31d",
    "adafruit_displayio_ssd1306",
    "adafruit_display_text",
    "adafruit_miniqr",
    "adafruit_ticks",
    "adafruit_bus_device",
)


_SHIM_NAMES = frozenset(p.stem for p in SHIMS_DIR.glob("*.py"))


def _top_level_names(lib_dir):
    """The import names a CIRCUITPY/lib folder offers: its packages and modules, except
    asyncio, which this engine gives the badge from CPython (see the module docstring)."""
    if not lib_dir.is_dir():
        return frozenset()
    return frozenset(entry.name.split(".")[0] for entry in lib_dir.iterdir()
                     if not entry.name.startswith((".", "_"))) - {"asyncio"}


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


class SoftReload(BaseException):
    """Raised out of ``code.py``'s ``asyncio.run`` when the badge reloads (Ctrl-D,
    auto-reload, ``supervisor.reload()``); like CircuitPython's reload, no
    ``except Exception`` in the badge's code stops it."""


# One turn of the asyncio port's loop on an RP2040 (resume a task, poll, schedule):
# a sleep that comes to 0 ms still costs this much, so a task that busy-yields
# does not freeze virtual time.
YIELD_S = 100e-6


class FirmwareRuntime:
    """One run of boot.py + code.py from ``code_root`` with ``drive_dir`` as CIRCUITPY.

    ``on_loop(loop)`` is called when code.py's ``asyncio.run`` creates its loop (once
    per power-up: soft reloads keep it): the simulator starts its own parts (module
    emulator, broker, views) there. ``cp_version``: the CircuitPython version the shims
    follow (:mod:`sim.engines.cpython.cp_version`).
    """

    def __init__(self, world, code_root, drive_dir, *, strict_libs=False, echo=False,
                 on_loop=None, cp_version=NEWEST):
        self.cp = cp_version if isinstance(cp_version, CPVersion) else CPVersion(cp_version)
        world.cp_version = self.cp
        world.request_reload = self.soft_reload
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
        self._reload_reason = None  # set while a soft reload is under way
        self.reloads = 0
        # (time_s, seconds asked) of the badge's sleeps that came to 0 ms (the first 1000)
        self.zero_ms_sleeps = []

    # -- environment ------------------------------------------------------------------
    def _paths(self):
        return [SHIMS_DIR, self.code_root, self.code_root / "lib"]

    def _purge_modules(self):
        """Forget modules from earlier runs: the badge imports afresh at every boot.

        That includes a module of the same name imported from elsewhere (the
        repository's ``lib/expresslink`` imported by a test, when the badge runs from a
        deployed drive): the badge must get its own, bound to its own shims."""
        roots = (str(SHIMS_DIR), str(self.code_root / "lib"), str(self.code_root / "firmware"))
        on_drive = _top_level_names(self.code_root / "lib")
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None) or ""
            top = name.split(".")[0]
            if name in ("code", "boot") or top == "firmware":
                del sys.modules[name]
            elif path.startswith(roots) or name in _SHIM_NAMES or top in on_drive:
                del sys.modules[name]
            elif top in BADGE_LIBRARIES:
                # e.g. adafruit_ticks picks its clock (supervisor) when imported
                del sys.modules[name]

    def _badge_code(self):
        """Whether the caller is the badge's code: boot.py or code.py at top level, or
        one of the badge's tasks (not the simulator's parts sharing the thread)."""
        if threading.get_ident() != self._thread:
            return False
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop running: boot.py, or code.py's top level
            return True
        return task is not None and is_badge_task(task)

    def _getenv(self, original):
        settings_file = self.drive_dir / "settings.toml"
        version = self.cp

        def getenv(key, default=None):
            if not self._badge_code():
                return original(key, default)
            try:
                data = settings_file.read_bytes()
            except FileNotFoundError:
                data = None
            return cp_getenv(data, key, default, version)

        return getenv

    # -- the drive: read-only to the badge unless boot.py remounted it ------------------
    def _on_drive(self, path):
        try:
            full = Path(os.fsdecode(path))
        except TypeError:  # a file descriptor
            return False
        if not full.is_absolute():
            full = Path(os.getcwd()) / full
        full = Path(os.path.normpath(full))
        return full == self.drive_dir or self.drive_dir in full.parents

    def _refuse_write(self, path):
        if (self.world.drive_readonly_for_code and self._badge_code()
                and self._on_drive(path)):
            raise OSError(errno.EROFS, "Read-only filesystem")

    def _drive_patches(self):
        real_open = builtins.open
        runtime = self

        def open_(file, mode="r", *args, **kwargs):
            if any(flag in mode for flag in "wax+"):
                runtime._refuse_write(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded(real):
            def call(path, *args, **kwargs):
                runtime._refuse_write(path)
                return real(path, *args, **kwargs)
            return call

        self._patches.set(builtins, "open", open_)
        for name in ("remove", "unlink", "rename", "replace", "mkdir", "rmdir"):
            self._patches.set(os, name, guarded(getattr(os, name)))

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

    # -- asyncio as the CircuitPython port has it -----------------------------------------
    def _until_tick_s(self, ms):
        """Seconds from now until ``ticks_ms`` has moved on by ``ms`` (the port wakes a
        sleeper at the first tick at or past its deadline, so the wait is up to 1 ms
        shorter than asked); a 0 ms sleep costs one turn of the port's loop."""
        if ms <= 0:
            return YIELD_S
        now_ns = self.world.clock.now_ns()
        return ((now_ns // 1_000_000 + ms) * 1_000_000 - now_ns) / 1e9

    def _asyncio_patches(self):
        base_sleep = asyncio.sleep
        base_wait_for = asyncio.wait_for
        version = self.cp
        runtime = self

        def in_badge_task():
            try:
                return is_badge_task(asyncio.current_task())
            except RuntimeError:
                return False

        def sleep(delay, result=None):
            if not in_badge_task():
                return base_sleep(delay, result)
            ms = version.sleep_ms(delay)
            if ms == 0 and delay > 0 and len(runtime.zero_ms_sleeps) < 1000:
                runtime.zero_ms_sleeps.append((runtime.world.clock.now(), delay))
            return base_sleep(runtime._until_tick_s(ms), result)

        def sleep_ms(ms):
            if not in_badge_task():
                return base_sleep(max(0, ms) / 1000)
            return base_sleep(runtime._until_tick_s(max(0, ms)))

        def wait_for(awaitable, timeout):
            if timeout is not None and in_badge_task():
                timeout = runtime._until_tick_s(version.sleep_ms(timeout))
            return base_wait_for(awaitable, timeout)

        def run(main, *, debug=None):
            return runtime._run_badge(main)

        self._patches.set(asyncio, "sleep", sleep)
        self._patches.set(asyncio, "sleep_ms", sleep_ms)
        self._patches.set(asyncio, "wait_for", wait_for)
        self._patches.set(asyncio, "run", run)

    def _sys_patches(self):
        if not self.cp.has_sys_print_exception:
            return

        def print_exception(error, file=None):
            print("FutureWarning: print_exception moved from sys to traceback",
                  file=file or sys.stdout)
            import traceback

            traceback.print_exception(error, file=file or sys.stdout)

        self._patches.set(sys, "print_exception", print_exception)

    def __enter__(self):
        from sim.engines.cpython import world as world_module

        self._thread = threading.get_ident()
        self.drive_dir.mkdir(parents=True, exist_ok=True)
        world_module.install(self.world)
        self._saved_path = list(sys.path)
        self._purge_modules()
        sys.path[:0] = [str(p) for p in self._paths()]
        if self.strict_libs:
            self._finder = _DriveOnlyFinder([self.code_root, self.code_root / "lib"])
            sys.meta_path.insert(0, self._finder)
        self._patches.set(os, "getenv", self._getenv(os.getenv))
        from sim.engines.cpython import cp_asyncio_core

        self._patches.set(asyncio, "core", cp_asyncio_core)
        self._patches.set_item(sys.modules, "asyncio.core", cp_asyncio_core)
        if self.world.clock.virtual:
            self._time_patches()
            from sim.core.loop import sleep as one_turn_sleep

            self._patches.set(asyncio, "sleep", one_turn_sleep)
        self._asyncio_patches()
        self._sys_patches()
        self._drive_patches()
        self._quiet_displayio()
        self._display_bus_as_on_circuitpython()
        self._builtin_font_as_on_circuitpython()
        self._saved_cwd = os.getcwd()
        os.chdir(self.drive_dir)
        return self

    def __exit__(self, *exc):
        from sim.engines.cpython import world as world_module

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
        display leaves an I2C bus that the caller created alone, unless a soft reload
        has happened since: then the display bus owns the I2C bus (CircuitPython moved
        it out of the finished VM's heap) and deinitialises it. It ignores the result
        of every write, so a display that drops off the bus goes unnoticed
        (``common_hal_i2cdisplaybus_i2cdisplaybus_send``). Blinka does none of this.
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
            if getattr(bus, "_sim_owns_i2c", False):
                bus._i2c.deinit()
            if getattr(bus, "_reset", None) is not None:
                bus.reset()
                bus._reset.deinit()

        original_send = cls._send

        def _send(bus, *args, **kwargs):
            try:
                original_send(bus, *args, **kwargs)
            except OSError:
                pass  # CircuitPython does not look at the I2C write's result

        self._patches.set(cls, "__init__", __init__)
        self._patches.set(cls, "deinit", deinit)
        self._patches.set(cls, "_send", _send)

    def _builtin_font_as_on_circuitpython(self):
        """Give ``terminalio.FONT``'s glyphs CircuitPython's metrics.

        Blinka loads the same Terminus font from its BDF file, where every glyph is a
        6x12 box 2 rows below the baseline (dy = -2). CircuitPython's built-in font
        stores each glyph as a whole 6x12 tile and reports dx = dy = 0, shift_x = 6,
        shift_y = 0 (``common_hal_fontio_builtinfont_get_glyph``). Text laid out from
        Blinka's metrics sits one row lower than on the badge.
        """
        import fontio

        original = fontio.BuiltinFont.get_glyph
        tiles = {}

        def get_glyph(font, codepoint):
            glyph = tiles.get((id(font), codepoint))
            if glyph is None:
                found = original(font, codepoint)
                if found is None:
                    return None
                glyph = fontio.Glyph(found.bitmap, found.tile_index, found.width,
                                     found.height, 0, 0, found.width, 0)
                tiles[(id(font), codepoint)] = glyph
            return glyph

        self._patches.set(fontio.BuiltinFont, "get_glyph", get_glyph)

    # -- running ------------------------------------------------------------------------
    def _new_loop(self):
        from sim.core.loop import SimEventLoop

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

    def _run_badge(self, main):
        """``asyncio.run(main)`` for code.py: one loop per power-up, kept across soft
        reloads (the simulator's parts run on it too)."""
        loop = self.loop if self.loop is not None and not self.loop.is_closed() else None
        if loop is None:
            loop = self._new_loop()
        asyncio.set_event_loop(loop)
        task = loop.create_task(main)
        task._sim_badge = True
        try:
            return loop.run_until_complete(task)
        finally:
            if self._reload_reason is None:
                self._close_loop(loop)
            else:
                self._stop_badge_tasks(loop)
                raise SoftReload(self._reload_reason)

    @staticmethod
    def _close_loop(loop):
        """What asyncio.run does at its end: cancel what is left, report what failed.
        A socket can still hand the loop a connection while it winds down (a page's
        client, a test's): the tasks that makes are cancelled too, not left unawaited."""
        try:
            _cancel_and_wait(loop, asyncio.all_tasks(loop), report=True)
            loop.run_until_complete(loop.shutdown_asyncgens())
            for _ in range(3):
                late = asyncio.all_tasks(loop)
                if not late:
                    break
                _cancel_and_wait(loop, late)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    @staticmethod
    def _stop_badge_tasks(loop):
        _cancel_and_wait(loop, [t for t in asyncio.all_tasks(loop) if is_badge_task(t)])

    def soft_reload(self, reason="REPL_RELOAD"):
        """Reload the badge as Ctrl-D (``REPL_RELOAD``), an auto-reload
        (``AUTO_RELOAD``) or ``supervisor.reload()`` (``SUPERVISOR_RELOAD``) does: its
        tasks stop where they are, then :meth:`_after_vm` and code.py again."""
        loop = self.loop
        if loop is None or loop.is_closed() or self._ended or self._reload_reason:
            return
        self._reload_reason = reason
        for task in asyncio.all_tasks(loop):
            if is_badge_task(task):
                task.cancel()

    def _after_vm(self):
        """CircuitPython's clean-up between two runs of code.py: every pin and
        peripheral is reset except those a display still uses. A display bus keeps
        its I2C bus (and its pins) alive, now owned by the display bus."""
        import displayio

        kept = set()
        for bus in displayio.display_buses:
            i2c = getattr(bus, "_i2c", None)
            if i2c is not None:
                bus._sim_owns_i2c = True
                kept.add(id(i2c))
        for part in list(self.world.claims):
            if id(part) not in kept:
                part.deinit()
        self.world.claims = [p for p in self.world.claims if id(p) in kept]

    def _run_file(self, name):
        path = self.code_root / name
        if not path.exists():
            return False
        runpy.run_path(str(path), run_name="__main__")
        return True

    def _run_code(self):
        """code.py, again after each soft reload; False once it has finished."""
        try:
            self._run_file("code.py")
        except SoftReload:
            pass
        except asyncio.CancelledError:
            if not self._ended:
                raise
            return False
        if self._reload_reason is None:
            return False
        reason, self._reload_reason = self._reload_reason, None
        self.reloads += 1
        self.world.run_reason = reason
        self._after_vm()
        self._purge_modules()
        print("\nsoft reboot (%s)\n" % reason)
        return not self._ended

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
                self.world.phase = "boot"
                self._run_file("boot.py")
                self._purge_modules()  # boot.py has a VM of its own: code.py imports afresh
                self.world.phase = "code"
                while self._run_code():
                    pass
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


def _cancel_and_wait(loop, tasks, report=False):
    """Cancel ``tasks`` and run the loop until they have all ended; with ``report``, hand
    an exception one of them ended with (other than cancellation) to the loop's
    exception handler, as ``asyncio.run`` does."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks if report else ():
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({
                "message": "unhandled exception while the badge's loop shut down",
                "exception": task.exception(), "task": task})
