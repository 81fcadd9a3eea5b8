"""The badge's OLED drawn in a terminal, two pixel rows per character cell.

Works over SSH: plain UTF-8 block characters and a few ANSI escapes, no graphics
protocol. A 128x64 panel becomes 128 columns x 32 lines inside a frame.
"""

# (top lit, bottom lit) -> character
_CELLS = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584",
          (True, True): "\u2588"}


def frame_lines(pixels, width=128, height=64):
    """Text lines for a row-major sequence of 0/1 pixels (``panel_pixels()``)."""
    lines = ["\u250c" + "\u2500" * width + "\u2510"]
    for y in range(0, height, 2):
        top = pixels[y * width:(y + 1) * width]
        bottom = pixels[(y + 1) * width:(y + 2) * width] if y + 1 < height else bytes(width)
        lines.append("\u2502" + "".join(_CELLS[(bool(a), bool(b))]
                                        for a, b in zip(top, bottom)) + "\u2502")
    lines.append("\u2514" + "\u2500" * width + "\u2518")
    return lines


class TerminalView:
    """Redraws the panel in place whenever it changes; adds a status line below."""

    HOME = "\x1b[H"
    CLEAR = "\x1b[2J"
    HIDE_CURSOR = "\x1b[?25l"
    SHOW_CURSOR = "\x1b[?25h"

    def __init__(self, out, display, status=None):
        self._out = out
        self._display = display
        self._status = status  # callable -> str
        self._last = None
        self._last_status = None

    def start(self):
        self._out.write(self.CLEAR + self.HIDE_CURSOR)
        self._out.flush()

    def stop(self):
        self._out.write(self.SHOW_CURSOR + "\n")
        self._out.flush()

    def draw(self):
        """Redraw if the panel or the status changed; returns True if it drew."""
        pixels = bytes(self._display.panel_pixels())
        status = self._status() if self._status is not None else ""
        if pixels == self._last and status == self._last_status:
            return False
        self._last, self._last_status = pixels, status
        text = "\n".join(frame_lines(pixels))
        self._out.write(self.HOME + text + "\n\x1b[K" + status + "\n")
        self._out.flush()
        return True
