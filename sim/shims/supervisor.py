"""CircuitPython ``supervisor`` on the simulator's clock."""

from sim import world as _world


def ticks_ms():
    """Milliseconds, wrapping at 2**29, starting about 65 s before the wrap."""
    return _world.current().ticks_ms()


class _Runtime:
    usb_connected = True
    serial_connected = True
    serial_bytes_available = 0
    autoreload = False
    ble_workflow = False

    @property
    def run_reason(self):
        return RunReason.STARTUP


runtime = _Runtime()


class RunReason:
    STARTUP = "STARTUP"
    AUTO_RELOAD = "AUTO_RELOAD"
    SUPERVISOR_RELOAD = "SUPERVISOR_RELOAD"
    REPL_RELOAD = "REPL_RELOAD"


def reload():
    _world.current().reset_requested = True
    raise SystemExit("supervisor.reload()")


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
