"""Runs the badge's own boot.py and code.py on CPython, as CircuitPython would.

What CircuitPython provides and CPython does not is put in place for the run and taken
away after it:

- the import path: the shims (built-in modules) first, then the drive's root and its
  ``lib`` folder, exactly the badge's order (:mod:`sim.engines.cpython.drive_imports`);
- ``os.getenv`` reading the drive's ``settings.toml`` exactly as the chosen
  CircuitPython version does (``cp_version``; see :mod:`sim.engines.cpython.cp_version`),
  never the computer's environment;
- ``time.sleep`` / ``time.monotonic`` on the simulator's clock (only in the thread
  that runs the badge), so a blocking sleep in a driver advances virtual time and is
  recorded as a loop stall (:mod:`sim.engines.cpython.badge_time`);
- the working directory: the drive, so relative paths land on CIRCUITPY; the drive is
  read-only to the badge's code unless ``boot.py`` remounted it (EROFS, as on the board);
- ``asyncio.run`` running the badge on one :class:`~sim.core.loop.SimEventLoop` per power-up,
  which the simulator's own parts share;
- ``asyncio.sleep`` / ``sleep_ms`` / ``wait_for`` in the badge's tasks as the asyncio
  port has them: whole milliseconds of ``ticks_ms``, the seconds converted with the
  version's float precision (``sleep(0.016)`` is 15 ms on 9.x-10.1.x; also
  :mod:`~sim.engines.cpython.badge_time`);
- ``asyncio.core._io_queue`` (:mod:`sim.engines.cpython.cp_asyncio_core`), with which the
  badge waits for a ``keypad`` event queue or a ``busio.UART`` without polling;
- ``sys.print_exception`` where the version has it (9.x, with its FutureWarning);
- Blinka's displayio behaving as CircuitPython's where the badge can tell
  (:mod:`sim.engines.cpython.blinka_as_circuitpython`);
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
import os
import runpy
import sys
import threading
from pathlib import Path

from sim.engines.cpython import badge_time
from sim.engines.cpython import blinka_as_circuitpython as blinka
from sim.engines.cpython.cp_version import NEWEST, CPVersion
from sim.engines.cpython.cp_version import getenv as cp_getenv
from sim.engines.cpython.drive_imports import DriveOnlyFinder, import_paths, purge_modules
from sim.engines.cpython.patches import Patched
from sim.core.loop import is_badge_task


class SoftReload(BaseException):
    """Raised out of ``code.py``'s ``asyncio.run`` when the badge reloads (Ctrl-D,
    auto-reload, ``supervisor.reload()``); like CircuitPython's reload, no
    ``except Exception`` in the badge's code stops it."""


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
        self._patches = Patched()
        self._saved_path = None
        self._saved_cwd = None
        self._finder = None
        self._thread = None
        self._reload_reason = None  # set while a soft reload is under way
        self.reloads = 0
        # (time_s, seconds asked) of the badge's sleeps that came to 0 ms (the first 1000)
        self.zero_ms_sleeps = []

    # -- environment ------------------------------------------------------------------
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
        purge_modules(self.code_root)
        sys.path[:0] = [str(p) for p in import_paths(self.code_root)]
        if self.strict_libs:
            self._finder = DriveOnlyFinder([self.code_root, self.code_root / "lib"])
            sys.meta_path.insert(0, self._finder)
        self._patches.set(os, "getenv", self._getenv(os.getenv))
        from sim.engines.cpython import cp_asyncio_core

        self._patches.set(asyncio, "core", cp_asyncio_core)
        self._patches.set_item(sys.modules, "asyncio.core", cp_asyncio_core)
        if self.world.clock.virtual:
            badge_time.patch_time(self._patches, self.world.clock, self._thread)
            from sim.core.loop import sleep as one_turn_sleep

            self._patches.set(asyncio, "sleep", one_turn_sleep)
        badge_time.patch_asyncio(self._patches, self.world.clock, self.cp, self._run_badge,
                                 self.zero_ms_sleeps)
        self._sys_patches()
        self._drive_patches()
        blinka.quiet_displayio()
        blinka.display_bus_as_on_circuitpython(self._patches)
        blinka.builtin_font_as_on_circuitpython(self._patches)
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
        purge_modules(self.code_root)
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
                purge_modules(self.code_root)  # boot.py has a VM of its own: code.py imports afresh
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
