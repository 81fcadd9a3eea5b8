"""Badge entry point: builds the hardware from the pin map, then runs the firmware.

This is the only file (with boot.py) that touches ``board`` and ``busio``: everything
in firmware/ and lib/ receives ready-made objects, so the simulator can hand them
emulated parts instead.
"""

import os

import board
import busio
import digitalio
import displayio
import keypad

from firmware import app, let_go
from firmware.content_limits import MAX_LINE_BYTES
from firmware.log import log


def read_settings():
    from firmware.settings import load_settings

    return load_settings(os.getenv, log)


settings = read_settings()


def pin(attr):
    """The board pin named by a pin setting (``pin_sda``...), or its default pin if the
    board has no pin of that name."""
    from firmware.settings import board_pin  # a local name: let_go can free the module

    return board_pin(board, attr, getattr(settings, attr), log)


def build_display(i2c):
    """The SSD1306 on the shared I2C bus, or None when it does not answer."""
    import adafruit_displayio_ssd1306
    import i2cdisplaybus

    try:
        bus = i2cdisplaybus.I2CDisplayBus(i2c, device_address=settings.display_address)
        display = adafruit_displayio_ssd1306.SSD1306(
            bus, width=128, height=64, auto_refresh=False)
        display.brightness = settings.contrast / 255
    except (OSError, ValueError, RuntimeError) as error:
        log("display", "not available (%s)" % error)
        displayio.release_displays()
        return None
    return display


def event_line():
    """The module's EVENT pin, watched by a background keypad scanner (active high)."""
    from firmware.event_line import EventLine

    # The scanner takes the level at construction as its starting state without
    # reporting it, so read it first.
    probe = digitalio.DigitalInOut(pin("pin_event"))
    probe.switch_to_input(pull=digitalio.Pull.DOWN)
    level = probe.value
    probe.deinit()
    keys = keypad.Keys((pin("pin_event"),), value_when_pressed=True, pull=True,
                       interval=settings.event_scan_ms / 1000)
    return EventLine(keys, keypad.Event(), level)


def output(attr, value):
    line = digitalio.DigitalInOut(pin(attr))
    line.switch_to_output(value=value)
    return line


def open_i2c():
    """The shared I2C bus, or None (logged) when it cannot be opened."""
    # A display survives a soft reload (Ctrl-D, auto-reload) and keeps its I2C pins
    # until it is released: release it before opening the bus, or the bus is "in use".
    displayio.release_displays()
    try:
        return busio.I2C(pin("pin_scl"), pin("pin_sda"), frequency=settings.i2c_hz)
    except (RuntimeError, ValueError) as error:
        # RuntimeError: no pull-up resistors on SDA/SCL, i.e. nothing is attached.
        log("i2c", "bus not available (%s); no display, no sensor" % error)
        return None


def main():
    i2c = open_i2c()

    def make_sensor():
        """The SHT31-D's I2C device (ValueError when nothing answers at its address)."""
        if i2c is None:
            raise RuntimeError("no I2C bus")
        from adafruit_bus_device.i2c_device import I2CDevice

        return I2CDevice(i2c, settings.sensor_address)

    keys = keypad.Keys(
        (pin("pin_button_a"), pin("pin_button_b"), pin("pin_button_c")),
        value_when_pressed=False, pull=True)
    # CircuitPython 9.0.x queues a press for a button already held when the scanner
    # starts (9.1 and later do not): only presses made from now on count.
    keys.events.clear()
    # The longest line the badge takes (a photo message); longer ones are refused.
    uart = busio.UART(pin("pin_uart_tx"), pin("pin_uart_rx"), baudrate=115200,
                      timeout=0, receiver_buffer_size=MAX_LINE_BYTES)
    hardware = app.Hardware(
        display=build_display(i2c) if i2c is not None else None,
        make_sensor=make_sensor,
        keys=keys,
        led=output("pin_led", False),
        uart=uart,
        event_pin=event_line(),
        wake_pin=output("pin_wake", True),  # active low: high lets the module sleep
        reset_pin=output("pin_reset", True),  # active low: high = running
    )
    let_go("settings")  # needed only to build the hardware
    app.run(hardware, settings)


# CircuitPython runs code.py as __main__; the guard keeps an accidental
# `import code` on a computer (pdb imports a module of that name) harmless.
if __name__ == "__main__":
    main()
