"""CircuitPython ``microcontroller`` for the simulated RP2040."""

from sim.engines.cpython import world as _world


class Pin:
    """A GPIO name; the physical behaviour lives in the simulator's World."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "board." + self.name

    def __eq__(self, other):
        return isinstance(other, Pin) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class _Processor:
    frequency = 125_000_000
    voltage = 3.3
    uid = bytearray(b"\xe6\x61\x38\x52\x83\x4e\x2c\x2b")

    @property
    def temperature(self):
        return 27.0


cpu = _Processor()
cpus = (cpu, cpu)
nvm = bytearray(4096)


class RunMode:
    NORMAL = "NORMAL"
    SAFE_MODE = "SAFE_MODE"
    BOOTLOADER = "BOOTLOADER"
    UF2 = "UF2"


def on_next_reset(run_mode):
    pass


def reset():
    """Hard reset: the simulator restarts the badge (boot.py, then code.py)."""
    _world.current().reset_requested = True
    raise SystemExit("microcontroller.reset()")


def delay_us(delay):
    _world.current().clock.block(delay / 1e6, "sleep")


def disable_interrupts():
    pass


def enable_interrupts():
    pass


from watchdog import WatchDogTimer as _WatchDogTimer  # noqa: E402

watchdog = _WatchDogTimer()
