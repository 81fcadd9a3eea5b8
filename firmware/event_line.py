"""The ExpressLink module's EVENT output, watched by a ``keypad`` scanner.

The module raises EVENT while it has events queued. CircuitPython has no pin
interrupts for Python code, but ``keypad.Keys`` scans a pin in the background (every
``interval`` s, in C) and queues its rising and falling edges, and asyncio can wait on
that queue without polling (:mod:`firmware.pollable`). So the badge learns of a new
message one scan interval after the module does, and spends nothing while it waits.

The line's level is the one the scanner last saw: at most one interval old. Code that
reads ``value`` only to decide whether to ask the module (``EVENT?``) is fine with that:
a stale high costs one query that finds nothing; a stale low is followed by an edge,
which wakes ``wait_change()``.
"""

from firmware.pollable import readable


class EventLine:
    """``keys``: a ``keypad.Keys`` over the EVENT pin alone (pressed = high);
    ``event``: a ``keypad.Event`` to read edges into (reused: watching allocates
    nothing); ``level``: the pin's level when the scanner was made (CircuitPython's
    first scan takes the current state as its starting point and queues nothing)."""

    def __init__(self, keys, event, level=False):
        self._events = keys.events
        self._event = event
        self._high = bool(level)
        self._lost_track = False  # edges were dropped: the level is a guess
        self.edges = 0  # edges seen so far, for tests

    @property
    def value(self):
        """True while the module has events queued, as of the last scan."""
        events = self._events
        event = self._event
        while events.get_into(event):
            self._high = event.pressed
            self.edges += 1
        if events.overflowed:
            # Edges were dropped (the queue was full), so the level is unknown. Guess
            # high: the session then asks the module, whose answer settles it.
            events.clear()
            self._high = True
            self._lost_track = True
        return self._high

    def module_empty(self):
        """The module has just answered that no event is queued. That settles a
        guessed level; a scanned one is left alone (a new event may have raised the
        line again before the scanner saw it fall)."""
        if self._lost_track:
            self._high = False
            self._lost_track = False

    async def wait_change(self):
        """Return once the scanner has queued an edge (at once if one is waiting)."""
        await readable(self._events)
