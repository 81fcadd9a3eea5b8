"""The display task: the only code that refreshes the OLED.

It sleeps until some task marks the state changed (or, on a screen that shows a
clock, for a second), updates the current screen's group and refreshes. displayio
then sends the SSD1306 only the areas that changed.
"""

import asyncio

from adafruit_ticks import ticks_ms

# At most this many refreshes per second: a burst of changes costs one redraw.
_MAX_FPS = 20
_TICK_S = 1.0
_RETRY_S = 5


async def _sleep(seconds):
    await asyncio.sleep(seconds)


async def _wait_dirty(state, timeout_s):
    if timeout_s is None:
        await state.dirty.wait()
        return
    try:
        await asyncio.wait_for(state.dirty.wait(), timeout_s)
    except asyncio.TimeoutError:
        pass


class DisplayController:
    """Owns ``display`` (a displayio display with ``auto_refresh=False``)."""

    def __init__(self, display, screens, state, log):
        self._display = display
        self._screens = screens  # name -> screen object
        self._state = state
        self._log = log
        self.refreshes = 0
        self.failures = 0

    def draw(self):
        """Bring the current screen up to date and refresh; False if the bus failed."""
        state = self._state
        screen = self._screens.get(state.screen) or self._screens["climate"]
        display = self._display
        if display.root_group is not screen.group:
            display.root_group = screen.group
        screen.update(state, ticks_ms())
        try:
            display.refresh()
        except OSError as error:
            self.failures += 1
            if state.display_ok:
                self._log("display", "refresh failed: %s" % error)
            state.display_ok = False
            return False
        if not state.display_ok:
            state.display_ok = True
        self.refreshes += 1
        return True

    async def run(self):
        state = self._state
        while True:
            state.dirty.clear()
            ok = self.draw()
            screen = self._screens.get(state.screen)
            if not ok:
                await _wait_dirty(state, _RETRY_S)
                continue
            await _wait_dirty(state, _TICK_S if screen is not None and screen.ticking else None)
            await _sleep(1 / _MAX_FPS)
