"""OLED burn-in care: dim after an idle time, shift the picture by a pixel now and then.

Time comes in as ``ticks_ms`` values; nothing here touches the display. The display
task asks ``update(now_ms)`` (True when something changed), ``dimmed`` and
``offset(margins)``, and sleeps at most ``ms_to_next(now_ms)``. A button press or new
content is ``activity(now_ms)``.

Shifting: every ``shift_every_s`` the picture moves to the next of nine offsets
(the centre and its eight neighbours, 1 px away). A screen says how many blank pixels
it keeps on each side (its margins); the offset is clamped to them, so nothing is ever
pushed off the panel (a full-screen photo does not move at all).
"""

from adafruit_ticks import ticks_add, ticks_diff
from micropython import const

OFFSETS = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
_NEVER = const(0)


def _clamp(value, low, high):
    return low if value < low else high if value > high else value


class BurnInCare:
    """``dim_after_s`` idle seconds before dimming, ``shift_every_s`` between shifts;
    0 turns either off."""

    def __init__(self, dim_after_s, shift_every_s, now_ms):
        self._dim_after_ms = dim_after_s * 1000
        self._shift_every_ms = shift_every_s * 1000
        self._active_ms = now_ms
        self._next_shift_ms = ticks_add(now_ms, self._shift_every_ms)
        self.dimmed = False
        self.phase = 0  # index into OFFSETS

    def activity(self, now_ms):
        """A press or new content; True when it woke a dimmed display."""
        self._active_ms = now_ms
        if self.dimmed:
            self.dimmed = False
            return True
        return False

    def update(self, now_ms):
        """Dim or shift when their time has come; True when the picture must change."""
        changed = False
        if (self._dim_after_ms != _NEVER and not self.dimmed
                and ticks_diff(now_ms, self._active_ms) >= self._dim_after_ms):
            self.dimmed = True
            changed = True
        if self._shift_every_ms != _NEVER:
            while ticks_diff(now_ms, self._next_shift_ms) >= 0:
                self.phase = (self.phase + 1) % len(OFFSETS)
                self._next_shift_ms = ticks_add(self._next_shift_ms, self._shift_every_ms)
                changed = True
        return changed

    def ms_to_next(self, now_ms):
        """Milliseconds until the next dim or shift, or None when none is due."""
        waits = []
        if self._dim_after_ms != _NEVER and not self.dimmed:
            waits.append(max(0, self._dim_after_ms - ticks_diff(now_ms, self._active_ms)))
        if self._shift_every_ms != _NEVER:
            waits.append(max(0, ticks_diff(self._next_shift_ms, now_ms)))
        return min(waits) if waits else None

    def offset(self, margins):
        """(dx, dy) for a screen with ``margins`` = blank px (left, top, right, bottom)."""
        dx, dy = OFFSETS[self.phase]
        left, top, right, bottom = margins
        return _clamp(dx, -left, right), _clamp(dy, -top, bottom)
