"""``make sim``: the badge in real time, its display live in the terminal.

Keys: a / b / c press the buttons; + / - change the temperature by 0.5 deg C;
] / [ change the humidity by 1 %; r soft-reloads the badge (Ctrl-D); i interrupts
code.py (Ctrl-C on the console, CircuitPython engine); q quits.
"""

import asyncio
import contextlib
import os
import sys

from sim.tools.terminal import TerminalView

_HELP = "keys: a b c buttons | +/- temperature | ]/[ humidity | r reload | q quit"
_REFRESH_S = 0.1


def _status_lines(badge):
    sensor = badge.sensor
    head = "t=%7.1fs  sensor %.1f C %.0f %%RH  |  %s" % (
        badge.clock.now(), sensor.temperature_c, sensor.humidity_rh, _HELP)
    tail = [line[:140] for line in badge.console[-6:]]
    return "\n\x1b[K".join([head, ""] + tail)


def _on_key(badge, char):
    sensor = badge.sensor
    if char in "abcABC":
        badge.press(char.upper())
    elif char in "+=":
        sensor.temperature_c = sensor.temperature_c + 0.5
    elif char in "-_":
        sensor.temperature_c = sensor.temperature_c - 0.5
    elif char == "]":
        sensor.humidity_rh = min(100.0, sensor.humidity_rh + 1)
    elif char == "[":
        sensor.humidity_rh = max(0.0, sensor.humidity_rh - 1)
    elif char in "rR":
        badge.soft_reload()  # Ctrl-D on the console (the CircuitPython engine: Ctrl-C first)
    elif char in "iI" and hasattr(badge, "send_keys"):
        badge.send_keys(b"\x03")
    elif char in "qQ":
        badge.stop()


@contextlib.contextmanager
def _cbreak(stream):
    """Single keypresses without Enter, when ``stream`` is a terminal."""
    if not stream.isatty():
        yield False
        return
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def attach_live_view(badge, out=None, keys_in=None):
    """Draw the display in ``out`` while the badge runs; read keys from ``keys_in``."""
    out = out or sys.__stdout__
    keys_in = keys_in or sys.__stdin__
    view = TerminalView(out, badge.display, status=lambda: _status_lines(badge))

    async def refresh():
        view.start()
        try:
            while True:
                view.draw()
                await asyncio.sleep(_REFRESH_S)
        finally:
            view.stop()

    def hook(loop):
        loop.create_task(refresh(), name="terminal_view")
        if keys_in is not None and keys_in.isatty():
            def readable():
                for char in os.read(keys_in.fileno(), 32).decode(errors="ignore"):
                    _on_key(badge, char)
            loop.add_reader(keys_in.fileno(), readable)

    badge.on_loop(hook)
    return _cbreak(keys_in) if keys_in is not None else contextlib.nullcontext()
