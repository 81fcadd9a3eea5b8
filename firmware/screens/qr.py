"""QR screen: the code as large as it fits, centred, drawn once per new text."""

import displayio

from firmware.qr_layout import render_qr_at
from firmware.screens.widgets import (
    HEIGHT,
    WIDTH,
    Hint,
    full_screen_bitmap,
    placeholder_lines,
)


class QRScreen:
    name = "qr"
    ticking = False

    def __init__(self, content):
        self._content = content
        self.group = displayio.Group()
        self._bitmap, tile = full_screen_bitmap()
        self._code = displayio.Group()
        self._code.append(tile)
        self.group.append(self._code)
        self._hint = Hint(self.group)
        self._code.hidden = True
        self._drawn_rev = -1

    def update(self, state, now_ms):
        content = self._content
        layout = content.qr
        if layout is not None and self._drawn_rev != content.qr_rev:
            bitmap = self._bitmap
            bitmap.fill(0)  # native: only the code's square is drawn pixel by pixel
            render_qr_at(layout, bitmap, layout.left, layout.top, layout.scale)
            self._drawn_rev = content.qr_rev
        self._code.hidden = layout is None
        if layout is None:
            self._hint.show(placeholder_lines("QR code", "qr", state.thing_name, "TEXT"))
        else:
            self._hint.drop()

    def margins(self):
        """Blank px around the code's quiet zone (the quiet zone itself never moves out)."""
        layout = self._content.qr
        if layout is None:
            return self._hint.margins()
        return (layout.left, layout.top, WIDTH - layout.left - layout.size_px,
                HEIGHT - layout.top - layout.size_px)
