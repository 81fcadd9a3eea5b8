"""The simulated badge's physical world, as the CircuitPython shims see it.

The shims in ``sim/shims`` (``board``, ``busio``, ``digitalio``, ``keypad``,
``supervisor``...) stand in for CircuitPython's built-in modules. They hold no state of
their own: every pin, bus and timer they hand to the firmware comes from the one
:class:`World` that the simulator installs before it runs ``code.py``.
"""

_current = None


def current():
    """The running world; a clear error when shims are used outside a simulation."""
    if _current is None:
        raise RuntimeError(
            "no simulated badge is running: CircuitPython shims need a World "
            "(see sim.engines.cpython.world.install)"
        )
    return _current


def install(world):
    global _current
    _current = world


def uninstall():
    global _current
    _current = None


class PinModel:
    """One GPIO as the outside world sees it: who drives it and what it reads.

    ``source``: None, or a callable returning the level an external part drives.
    ``on_write``: None, or a callable(level) told when the badge drives the pin.
    An undriven input reads its pull (True for pull-up, False otherwise).
    ``watchers``: callables told (no arguments) that the level may have changed; an
    external part calls ``changed()`` when what ``source`` returns changes. The
    background scanners (``keypad``) watch their pins this way instead of polling.
    """

    def __init__(self, name):
        self.name = name
        self.source = None
        self.on_write = None
        self.output = None  # last level the badge drove, None while an input
        self.pull_up = None
        self.claimed = False
        self.watchers = []
        self.history = []  # (time_s, level) of badge-driven changes, for tests

    def read(self):
        if self.output is not None:
            return self.output
        if self.source is not None:
            return bool(self.source())
        return bool(self.pull_up)

    def changed(self):
        for watcher in list(self.watchers):
            watcher()

    def drive(self, level, now_s):
        level = bool(level)
        if level != self.output:
            self.history.append((now_s, level))
            if len(self.history) > 1000:
                del self.history[:500]
        self.output = level
        if self.on_write is not None:
            self.on_write(level)
        self.changed()


class World:
    """Clock, buses and pins of one virtual badge.

    ``i2c_buses`` maps a (scl, sda) pin-name pair to an I2C bus with the chips wired to
    it; ``uarts`` maps (tx, rx) to the host end of a serial link; ``pins`` maps a pin
    name to its :class:`PinModel`. ``keypads`` are the live ``keypad.Keys`` objects;
    ``claims`` every live shim object that holds pins (``busio.I2C``, ``busio.UART``,
    ``digitalio.DigitalInOut``, ``keypad.Keys``), which a soft reload deinitialises
    unless a display still uses it. ``cp_version`` is the CircuitPython version the
    shims follow (:class:`sim.engines.cpython.cp_version.CPVersion`).
    """

    def __init__(self, clock, *, ticks_wrap_after_s=65.0):
        self.clock = clock
        self.i2c_buses = {}
        self.uarts = {}
        self.pins = {}
        self.keypads = []
        self.claims = []
        from sim.engines.cpython.cp_version import CPVersion

        self.cp_version = CPVersion()
        self.phase = "boot"  # "boot" while boot.py runs, then "code"
        self.run_reason = "STARTUP"  # supervisor.runtime.run_reason of this run of code.py
        self.usb_connected = True  # a computer sees the CIRCUITPY drive over USB
        self.usb_drive_enabled = True  # storage.disable_usb_drive() in boot.py clears it
        self.request_reload = None  # callable(reason): a soft reload (set by the runtime)
        self.loop = None  # the badge's event loop, once code.py has started it
        self.console = []  # lines the firmware printed, for tests and views
        self.reset_requested = False
        self.boot_log = []  # what boot.py did: ("remount", path, readonly), ...
        self.drive_readonly_for_code = True  # CircuitPython's default until remount
        # CircuitPython starts ticks_ms close to its 2**29 wrap so that wrap bugs
        # show up within about a minute of boot; the simulator does the same.
        self.ticks_offset_ms = (1 << 29) - int(ticks_wrap_after_s * 1000)

    def pin(self, name):
        model = self.pins.get(name)
        if model is None:
            model = self.pins[name] = PinModel(name)
        return model

    def ticks_ms(self):
        return (self.clock.now_ns() // 1_000_000 + self.ticks_offset_ms) & ((1 << 29) - 1)

    def claim(self, part):
        """A shim object now holds pins (see ``claims``)."""
        self.claims.append(part)

    def release(self, part):
        if part in self.claims:
            self.claims.remove(part)

    def call_at(self, t_s, callback):
        """Run ``callback()`` at simulated time ``t_s`` on the badge's loop (at once
        when no loop runs yet)."""
        if self.loop is None or self.loop.is_closed():
            callback()
        else:
            self.loop.call_at(t_s, callback)

    def set_button(self, pin_name, pressed):
        """Press (True) or release a button wired between ``pin_name`` and ground."""
        model = self.pin(pin_name)
        model.source = (lambda: False) if pressed else None
        model.changed()
