"""Notice screen: a short message (why content was refused) shown for a few seconds."""

from firmware.screens.widgets import CHAR_W, WIDTH, TextBlock, wrap

_ROWS = 5


class NoticeScreen:
    name = "notice"
    ticking = False

    def __init__(self):
        self._block = TextBlock(_ROWS)
        self.group = self._block.group
        self._shown = None

    def update(self, state, now_ms):
        if state.notice != self._shown:
            self._shown = state.notice
            self._block.set_lines(wrap(state.notice or "", WIDTH // CHAR_W, _ROWS))

    def margins(self):
        return self._block.margins()
