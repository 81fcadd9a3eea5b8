"""The terminal view (``python -m sim run``, ``make sim VIEW=terminal``): the panel drawn in
block characters, and the keys typed on a real terminal (a pseudo-terminal here) acting
on the running badge."""

import io
import os
import select

import pytest

from sim.tools.interactive import attach_live_view
from sim.tools.terminal import TerminalView, frame_lines

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")


def test_frame_lines_put_two_pixel_rows_in_each_character():
    pixels = bytearray(4 * 4)
    pixels[0] = 1  # (0, 0): top half of the first cell
    pixels[4 + 1] = 1  # (1, 1): bottom half of the second cell
    pixels[2] = pixels[4 + 2] = 1  # (2, 0) and (2, 1): a full cell
    lines = frame_lines(pixels, width=4, height=4)
    assert lines == ["\u250c" + "\u2500" * 4 + "\u2510",
                     "\u2502\u2580\u2584\u2588 \u2502",
                     "\u2502    \u2502",
                     "\u2514" + "\u2500" * 4 + "\u2518"]


def test_the_view_redraws_only_when_the_panel_or_status_changes():
    class Panel:
        pixels = bytes(128 * 64)

        def panel_pixels(self):
            return self.pixels

    panel, out = Panel(), io.StringIO()
    status = ["t=1"]
    view = TerminalView(out, panel, status=lambda: status[0])
    assert view.draw() is True
    assert view.draw() is False
    panel.pixels = bytes([1]) + bytes(128 * 64 - 1)
    assert view.draw() is True
    status[0] = "t=2"
    assert view.draw() is True
    assert out.getvalue().count(TerminalView.HOME) == 3
    assert out.getvalue().endswith("\x1b[Kt=2\n")


def test_keys_typed_on_the_terminal_act_on_the_running_badge(make_badge):
    badge = make_badge(module=False)
    controller, terminal = os.openpty()
    keys_in = os.fdopen(terminal, "r", closefd=True)
    out = io.StringIO()
    seen = {}

    def type_key(char):
        os.write(controller, char.encode())
        # A pseudo-terminal hands the bytes on a moment later: wait (real time, bounded)
        # until they can be read, so the loop's next look sees them before time moves.
        readable, _, _ = select.select([terminal], [], [], 5.0)
        assert readable, "the pseudo-terminal did not pass the key on within 5 s"

    def look(name):
        seen[name] = (bytes(badge.display.panel_pixels()), badge.sensor.temperature_c,
                      badge.sensor.humidity_rh, badge.runtime.reloads)

    try:
        with attach_live_view(badge, out=out, keys_in=keys_in):
            badge.at(10.0, lambda: look("before"))
            badge.at(10.1, lambda: type_key("b"))  # button B: the next screen
            badge.at(11.0, lambda: look("after_b"))
            badge.at(12.0, lambda: type_key("++]"))  # +1.0 deg C, +1 %RH
            badge.at(12.5, lambda: look("after_climate"))
            badge.at(13.0, lambda: type_key("r"))  # soft reload
            badge.at(20.0, lambda: look("after_reload"))
            badge.at(21.0, lambda: type_key("q"))  # quit: the run ends early
            badge.run(120)
    finally:
        keys_in.close()
        os.close(controller)
    before, after_b = seen["before"], seen["after_b"]
    assert after_b[0] != before[0], "button B did not change the screen"
    assert seen["after_climate"][1:3] == (before[1] + 1.0, before[2] + 1)
    assert (before[3], seen["after_reload"][3]) == (0, 1)
    assert 21.0 <= badge.clock.now() < 22.0, badge.clock.now()
    drawn = out.getvalue()
    assert "\u2588" in drawn and "keys: a b c buttons" in drawn
    assert drawn.endswith(TerminalView.SHOW_CURSOR + "\n")
