"""Notice screen: a short message (why content was refused) shown for a few seconds."""

import displayio

from firmware.screens.widgets import CHAR_W, WIDTH, TextBlock, box_margins, wrap

_ROWS = 5


class NoticeScreen:
    """Its text lines exist only while a notice is shown (``leave`` lets them go)."""

    name = "notice"
    ticking = False

    def __init__(self):
        self.group = displayio.Group()
        self._block = None
        self._shown = None

    def update(self, state, now_ms):
        if self._block is None:
            self._block = TextBlock(_ROWS)
            self.group.append(self._block.group)
            self._shown = None
        if state.notice != self._shown:
            self._shown = state.notice
            self._block.set_lines(wrap(state.notice or "", WIDTH // CHAR_W, _ROWS))

    def leave(self):
        if self._block is not None:
            self.group.remove(self._block.group)
            self._block = None

    def margins(self):
        return box_margins(()) if self._block is None else self._block.margins()
