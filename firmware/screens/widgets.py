"""Small drawing helpers shared by the screens (128x64, 1 bit: 1 = lit)."""

import displayio
import terminalio
from adafruit_display_text import label

WIDTH = 128
HEIGHT = 64
CHAR_W = 6  # terminalio font cell, px
CHAR_H = 12

_palette = displayio.Palette(2)
_palette[0] = 0x000000
_palette[1] = 0xFFFFFF


def palette():
    """The shared black/white palette (index 1 = lit pixel)."""
    return _palette


def text(x, y, value="", scale=1):
    """A label whose top-left corner is at (x, y) px."""
    return label.Label(terminalio.FONT, text=value, color=0xFFFFFF, scale=scale,
                       anchor_point=(0, 0), anchored_position=(x, y))


def set_text(widget, value):
    """Change a label's text only when it differs (a change costs a redraw)."""
    if widget.text != value:
        widget.text = value


def degree_sign(x, y, scale=1):
    """A 3x3 ring at (x, y), scaled; the badge font is kept to ASCII."""
    ring = displayio.Bitmap(3, 3, 2)
    for px, py in ((0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (0, 2), (1, 2), (2, 2)):
        ring[px, py] = 1
    group = displayio.Group(x=x, y=y, scale=scale)
    group.append(displayio.TileGrid(ring, pixel_shader=_palette))
    return group
