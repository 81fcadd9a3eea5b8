"""Small drawing helpers shared by the screens (128x64, 1 bit: 1 = lit)."""

import bitmaptools
import displayio
import terminalio

try:
    from typing import Any
except ImportError:
    pass

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


# Text ink: lit glyph pixels; the rest of a line's bitmap shows what lies beneath.
_ink = displayio.Palette(2)
_ink[1] = 0xFFFFFF
_ink.make_transparent(0)
_COLUMNS = WIDTH // CHAR_W  # characters one line holds at scale 1


class Text(displayio.Group):
    """One line of the built-in font drawn into one small bitmap (192 bytes), where a
    label would make a TileGrid per character.

    Placed as adafruit_display_text places a label of the same font: the top of the
    character cells at ``anchored_position[1]``; ``anchor_point`` (0, 0) puts the
    first cell's left edge at ``anchored_position[0]``, (1.0, 0) the last cell's
    right edge. Characters the font lacks are skipped; at most 21 are drawn.
    """

    def __init__(self, x, y, value, scale):
        super().__init__(scale=scale)
        self._bitmap = displayio.Bitmap(_COLUMNS * CHAR_W, CHAR_H, 2)
        self.append(displayio.TileGrid(self._bitmap, pixel_shader=_ink))
        self._text = ""
        self._width = 0  # px at scale 1
        self._anchor = 0
        self._at = (x, y)
        self.text = value

    @property
    def text(self):
        return self._text

    @text.setter
    def text(self, value):
        self._text = value
        bitmap = self._bitmap
        bitmap.fill(0)
        x = 0
        font = terminalio.FONT
        for char in value[:_COLUMNS]:
            glyph = font.get_glyph(ord(char))  # type: Any  # (the stubs list no fields)
            if glyph is None:
                continue
            left = glyph.tile_index * glyph.width
            bitmaptools.blit(bitmap, glyph.bitmap, x + glyph.dx,
                             CHAR_H - glyph.height - glyph.dy,
                             x1=left, y1=0, x2=left + glyph.width, y2=glyph.height)
            x += glyph.shift_x
        self._width = x
        self._place()

    @property
    def anchor_point(self):
        return (self._anchor, 0)

    @anchor_point.setter
    def anchor_point(self, point):
        self._anchor = point[0]
        self._place()

    @property
    def anchored_position(self):
        return self._at

    @anchored_position.setter
    def anchored_position(self, at):
        self._at = at
        self._place()

    def _place(self):
        self.x = self._at[0] - round(self._anchor * self._width * self.scale)
        self.y = self._at[1]


def text(x, y, value="", scale=1):
    """A line of text whose top-left corner is at (x, y) px."""
    return Text(x, y, value, scale)


def set_text(widget, value):
    """Change a line's text only when it differs (a change costs a redraw)."""
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


def full_screen_bitmap():
    """A preallocated 128x64 two-colour bitmap and the TileGrid that shows it."""
    bitmap = displayio.Bitmap(WIDTH, HEIGHT, 2)
    return bitmap, displayio.TileGrid(bitmap, pixel_shader=_palette)


def box_margins(boxes):
    """Blank px (left, top, right, bottom) around ``boxes`` of (x, y, width, height)."""
    if not boxes:
        return (WIDTH, HEIGHT, WIDTH, HEIGHT)
    x0 = min([b[0] for b in boxes])
    y0 = min([b[1] for b in boxes])
    x1 = max([b[0] + b[2] for b in boxes])
    y1 = max([b[1] + b[3] for b in boxes])
    return (max(0, x0), max(0, y0), max(0, WIDTH - x1), max(0, HEIGHT - y1))


def wrap(text, columns, max_lines):
    """``text`` broken into at most ``max_lines`` lines of ``columns`` characters,
    at spaces where possible; the last line ends in "..." when text is left over."""
    lines = []
    rest = text.strip()
    while rest and len(lines) < max_lines:
        if len(rest) <= columns:
            lines.append(rest)
            rest = ""
            break
        cut = rest.rfind(" ", 0, columns + 1)
        if cut <= 0:
            cut = columns
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        lines[-1] = lines[-1][:columns - 3] + "..."
    return lines


class TextBlock:
    """Up to ``rows`` lines of text, each centred, the block centred on the screen."""

    def __init__(self, rows, scale=1):
        self.group = displayio.Group()
        self._scale = scale
        self._labels = [text(0, 0, scale=scale) for _ in range(rows)]
        for widget in self._labels:
            self.group.append(widget)
        self._boxes = []

    def set_lines(self, lines):
        """Show ``lines`` (a list of str, at most ``rows``)."""
        cell_w = CHAR_W * self._scale
        cell_h = CHAR_H * self._scale
        shown = lines[:len(self._labels)]
        top = (HEIGHT - len(shown) * cell_h) // 2
        boxes = []
        for index, widget in enumerate(self._labels):
            value = shown[index] if index < len(shown) else ""
            set_text(widget, value)
            if value:
                width = len(value) * cell_w
                x = (WIDTH - width) // 2
                y = top + index * cell_h
                widget.anchored_position = (x, y)
                boxes.append((x, y, width, cell_h))
        self._boxes = boxes

    def margins(self):
        return box_margins(self._boxes)


class Hint:
    """A screen's placeholder (a 4-line TextBlock on top of ``parent``), made only
    while it is shown: a badge that has its content keeps none of it (about 2 KB)."""

    def __init__(self, parent):
        self._parent = parent
        self._block = None

    def show(self, lines):
        if self._block is None:
            self._block = TextBlock(4)
            self._parent.append(self._block.group)
        self._block.set_lines(lines)

    def drop(self):
        if self._block is not None:
            self._parent.remove(self._block.group)
            self._block = None

    def margins(self):
        return box_margins(()) if self._block is None else self._block.margins()


def placeholder_lines(what, command, thing, example):
    """The hint a screen shows before it has content, e.g. "no photo yet" and how to
    send one; ``thing`` is left out when the line would not fit."""
    target = "%s %s %s" % (command, thing or "THING", example)
    if len(target) > WIDTH // CHAR_W:
        target = "%s THING %s" % (command, example)
    return ["no %s yet" % what, "", "python -m sim send", target]
