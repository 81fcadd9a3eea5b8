"""CircuitPython ``supervisor`` on the simulator's clock."""

from sim.engines.cpython import world as _world


def ticks_ms():
    """Milliseconds, wrapping at 2**29, starting about 65 s before the wrap."""
    return _world.current().ticks_ms()


class _Runtime:
    serial_connected = True
    serial_bytes_available = 0
    autoreload = False
    ble_workflow = False

    @property
    def usb_connected(self):
        return _world.current().usb_connected

    @property
    def run_reason(self):
        return getattr(RunReason, _world.current().run_reason)


runtime = _Runtime()


class RunReason:
    STARTUP = "STARTUP"
    AUTO_RELOAD = "AUTO_RELOAD"
    SUPERVISOR_RELOAD = "SUPERVISOR_RELOAD"
    REPL_RELOAD = "REPL_RELOAD"


def reload():
    """A soft reload: code.py stops here and runs again (boot.py does not)."""
    from sim.engines.cpython.runtime import SoftReload

    world = _world.current()
    if world.request_reload is not None:
        world.request_reload("SUPERVISOR_RELOAD")
    raise SoftReload("SUPERVISOR_RELOAD")


def set_next_code_file(filename, **kwargs):
    pass


def disable_autoreload():
    runtime.autoreload = False


def enable_autoreload():
    runtime.autoreload = True


def set_rgb_status_brightness(brightness):
    pass


def get_previous_traceback():
    return None
