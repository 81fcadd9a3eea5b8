"""The display task: the only code that refreshes the OLED.

It sleeps until some task marks the state changed, a screen that shows a clock needs
its second, a notice ends, or the burn-in care wants to dim or shift; then it updates
the current screen's group and refreshes. displayio sends the SSD1306 only the areas
that changed.

Whether the panel shows what was sent cannot be known: CircuitPython's I2C display bus
ignores the result of its writes, so ``refresh()`` succeeds even when the display has
dropped off the bus. The badge only knows whether a display answered at boot.
"""

import asyncio

from adafruit_ticks import ticks_diff, ticks_ms

from firmware.tasks import sleep_ms

# Refreshes are at least this far apart (ms): a burst of changes costs one redraw,
# while a change after a quiet spell is drawn at once.
_MIN_FRAME_MS = 50
_TICK_S = 1.0


async def _wait_dirty(state, timeout_s):
    if timeout_s is None:
        await state.dirty.wait()
        return
    try:
        await asyncio.wait_for(state.dirty.wait(), timeout_s)
    except asyncio.TimeoutError:
        pass


class DisplayController:
    """Owns ``display`` (a displayio display with ``auto_refresh=False``).

    ``screens``: name -> screen (``group``, ``ticking``, ``update(state, now_ms)``,
    ``margins()``); ``notice``: the screen for state.notice; ``care``: a BurnInCare
    (or None); ``contrast`` and ``dim_contrast``: 0..255.
    """

    def __init__(self, display, screens, state, log, notice=None, care=None,
                 contrast=255, dim_contrast=16):
        self._display = display
        self._screens = screens  # name -> screen object
        self._state = state
        self._log = log
        self._notice = notice
        self._care = care
        self._brightness = {False: contrast / 255, True: dim_contrast / 255}
        self._dimmed = False
        self.refreshes = 0
        self.shown = None  # the screen object drawn last

    def _current(self, now_ms):
        state = self._state
        if self._notice is not None and state.notice_left_ms(now_ms):
            return self._notice
        return self._screens.get(state.screen) or self._screens["climate"]

    def _apply_care(self, screen):
        care = self._care
        if care is None:
            return
        if care.dimmed != self._dimmed:
            self._display.brightness = self._brightness[care.dimmed]
            self._dimmed = care.dimmed
        margins = screen.margins() if hasattr(screen, "margins") else (0, 0, 0, 0)
        dx, dy = care.offset(margins)
        group = screen.group
        if group.x != dx:
            group.x = dx
        if group.y != dy:
            group.y = dy

    def draw(self):
        """Bring the current screen up to date and send the changes to the display."""
        state = self._state
        now_ms = ticks_ms()
        screen = self._current(now_ms)
        display = self._display
        shown = self.shown
        if shown is not screen and shown is not None:
            leave = getattr(shown, "leave", None)
            if leave is not None:
                leave()  # a screen seldom shown lets its widgets go meanwhile
        screen.update(state, now_ms)
        if display.root_group is not screen.group:
            display.root_group = screen.group
        self.shown = screen
        self._apply_care(screen)
        display.refresh()
        self.refreshes += 1

    def _timeout_s(self):
        """How long the task may sleep when nothing changes (None: until a change)."""
        now_ms = ticks_ms()
        waits = []
        if self.shown is not None and self.shown.ticking:
            waits.append(_TICK_S)
        notice_ms = self._state.notice_left_ms(now_ms)
        if notice_ms:
            waits.append(notice_ms / 1000)
        elif self.shown is not None and self.shown is self._notice:
            # The notice ran out while it was drawn (asyncio may wake a tick early: the
            # seconds lose their last ms in single precision): show what is under it.
            return 0
        if self._care is not None:
            care_ms = self._care.ms_to_next(now_ms)
            if care_ms is not None:
                waits.append(care_ms / 1000)
        return min(waits) if waits else None

    async def run(self):
        state = self._state
        while True:
            state.dirty.clear()
            if self._care is not None:
                self._care.update(ticks_ms())
            drawn_ms = ticks_ms()
            self.draw()
            await _wait_dirty(state, self._timeout_s())
            too_soon_ms = _MIN_FRAME_MS - ticks_diff(ticks_ms(), drawn_ms)
            if too_soon_ms > 0:
                await sleep_ms(too_soon_ms)
