"""Name tag screen: the name large, and a small QR code beside or below it if one fits.

The name is drawn at scale 2 (12x24 px per character) up to 10 characters, else at
scale 1. With a QR text set, the code (1 px per module, with its quiet zone) goes,
in this order of preference: beside the name at its size, below it, then beside or
below the name at scale 1; if none fits, the name is shown alone. Everything keeps
1 px from the edges so the burn-in shift never cuts anything off.
"""

import displayio

from firmware.content_limits import NAME_LARGE_MAX_CHARS
from firmware.qr_layout import box_px, render_qr_at
from firmware.screens.widgets import (
    CHAR_H,
    CHAR_W,
    HEIGHT,
    WIDTH,
    Hint,
    box_margins,
    full_screen_bitmap,
    placeholder_lines,
    set_text,
    text,
)

_EDGE = 1  # px kept blank along the panel's edges
_GAP = 4  # px between the name and the code


def name_tag_layout(chars, box):
    """Placement for a name of ``chars`` characters and a QR box of ``box`` px (0: none).

    Returns (scale, name_x, name_y, qr_x, qr_y); qr_x and qr_y are None when the code
    is left out.
    """
    big = 2 if chars <= NAME_LARGE_MAX_CHARS else 1
    if box:
        for scale in ((2, 1) if big == 2 else (1,)):
            width = chars * CHAR_W * scale
            height = CHAR_H * scale
            room = WIDTH - 2 * _EDGE - _GAP - box
            if width <= room and box <= HEIGHT - 2 * _EDGE:
                return (scale, _EDGE + (room - width) // 2, (HEIGHT - height) // 2,
                        WIDTH - _EDGE - box, (HEIGHT - box) // 2)
            stack = height + _GAP + box
            if stack <= HEIGHT - 2 * _EDGE and width <= WIDTH - 2 * _EDGE:
                top = (HEIGHT - stack) // 2
                return (scale, (WIDTH - width) // 2, top,
                        (WIDTH - box) // 2, top + height + _GAP)
    width = chars * CHAR_W * big
    return big, (WIDTH - width) // 2, (HEIGHT - CHAR_H * big) // 2, None, None


class NameScreen:
    name = "name"
    ticking = False

    def __init__(self, content):
        self._content = content
        self.group = displayio.Group()
        self._bitmap, tile = full_screen_bitmap()  # the small QR code, when shown
        self._name = text(0, 0)
        self._tag = displayio.Group()
        self._tag.append(tile)
        self._tag.append(self._name)
        self.group.append(self._tag)
        self._hint = Hint(self.group)
        self._drawn = None  # (name_rev, qr_rev) last laid out
        self._boxes = []
        self.qr_shown = False

    def update(self, state, now_ms):
        content = self._content
        name = content.name
        self._tag.hidden = name is None
        if name is None:
            self._hint.show(placeholder_lines("name", "name", state.thing_name, "NAME"))
            return
        self._hint.drop()
        revision = (content.name_rev, content.qr_rev)
        if revision != self._drawn:
            self._drawn = revision
            self._lay_out(name, content.qr)

    def _lay_out(self, name, qr):
        box = box_px(qr) if qr is not None else 0
        scale, x, y, qr_x, qr_y = name_tag_layout(len(name), box)
        self._bitmap.fill(0)
        boxes = [(x, y, len(name) * CHAR_W * scale, CHAR_H * scale)]
        self.qr_shown = qr_x is not None
        if qr is not None and qr_x is not None and qr_y is not None:
            render_qr_at(qr, self._bitmap, qr_x, qr_y)
            boxes.append((qr_x, qr_y, box, box))
        label = self._name
        if label.scale != scale:
            label.scale = scale
        set_text(label, name)
        label.anchored_position = (x, y)
        self._boxes = boxes

    def margins(self):
        if self._content.name is None:
            return self._hint.margins()
        return box_margins(self._boxes)
