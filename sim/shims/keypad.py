"""CircuitPython ``keypad.Keys`` on simulated pins.

CircuitPython scans the pins in the background, every ``interval`` seconds counted in
ticks of 1/1024 s from the moment the scanner was made, and queues press/release
events stamped with ``supervisor.ticks_ms()``. The first scan, at construction, sets
the starting state without queueing anything from 9.1.0 on (its debouncing absorbs it);
on 9.0.x it queues a "pressed" event for every key already held then. The simulator
scans only when it matters: a watched pin that may have changed schedules one scan at
the next scan time, so a change is seen exactly as late as on the badge and an idle
scanner costs nothing.

The event queue can be waited on from asyncio without polling, as on CircuitPython
(where ``select.poll`` watches it): ``asyncio.core._io_queue.queue_read(events)``
returns once it holds an event (see :mod:`sim.engines.cpython.cp_asyncio_core`).
"""

import asyncio
import math

from sim.engines.cpython import world as _world
from sim.core.loop import ONE_TURN

_TICKS_PER_S = 1024  # CircuitPython's port tick


class Event:
    def __init__(self, key_number=0, pressed=True, timestamp=None):
        self.key_number = key_number
        self.pressed = pressed
        self.timestamp = timestamp

    @property
    def released(self):
        return not self.pressed

    def __eq__(self, other):
        return (isinstance(other, Event) and self.key_number == other.key_number
                and self.pressed == other.pressed)

    def __hash__(self):
        return hash((self.key_number, self.pressed))

    def __repr__(self):
        kind = "pressed" if self.pressed else "released"
        return "<Event: key_number %d %s>" % (self.key_number, kind)


class EventQueue:
    def __init__(self, max_events):
        self._max = max_events
        self._events = []
        self.overflowed = False
        self._readers = []  # futures of tasks waiting for an event

    def _put(self, event):
        if len(self._events) >= self._max:
            self.overflowed = True
            return
        self._events.append(event)
        readers, self._readers = self._readers, []
        for future in readers:
            if not future.done():
                future.set_result(None)

    async def _sim_wait_readable(self):
        """Return once the queue holds an event (after one turn of the loop if it
        already does, as CircuitPython's poller takes one)."""
        if self._events:
            await ONE_TURN
            return
        future = asyncio.get_running_loop().create_future()
        self._readers.append(future)
        try:
            await future
        finally:
            if future in self._readers:
                self._readers.remove(future)

    def get(self):
        if not self._events:
            return None
        return self._events.pop(0)

    def get_into(self, event):
        if not self._events:
            return False
        got = self._events.pop(0)
        event.key_number = got.key_number
        event.pressed = got.pressed
        event.timestamp = got.timestamp
        return True

    def clear(self):
        self._events.clear()
        self.overflowed = False

    def __len__(self):
        return len(self._events)

    def __bool__(self):
        return bool(self._events)


class Keys:
    """``keypad.Keys(pins, *, value_when_pressed, pull=True, interval=0.02, max_events=64)``."""

    def __init__(self, pins, *, value_when_pressed, pull=True, interval=0.02,
                 max_events=64, debounce_threshold=1):
        self._world = _world.current()
        self._pins = []
        for pin in pins:
            model = self._world.pin(pin.name)
            if model.claimed:
                raise ValueError("%s in use" % pin.name)
            model.claimed = True
            if pull:
                model.pull_up = not value_when_pressed
            self._pins.append(model)
        self._pressed_level = bool(value_when_pressed)
        self.events = EventQueue(max_events)
        self._state = [False] * len(self._pins)
        self._period_s = max(1, int(interval * _TICKS_PER_S)) / _TICKS_PER_S
        self._first_scan_s = self._world.clock.now()
        self._scan_due = False
        self._world.keypads.append(self)
        self._world.claim(self)
        for model in self._pins:
            model.watchers.append(self._sim_pin_changed)
        self._sim_scan()
        if not self._world.cp_version.keypad_reports_key_held_at_start:
            self.events.clear()

    @property
    def key_count(self):
        return len(self._pins)

    def _sim_next_scan_s(self):
        """The first scan time at or after now (s)."""
        since = self._world.clock.now() - self._first_scan_s
        return self._first_scan_s + math.ceil(since / self._period_s - 1e-9) * self._period_s

    def _sim_pin_changed(self):
        """A watched pin may have changed: scan once, at the next scan time."""
        if self._scan_due:
            return
        self._scan_due = True
        self._world.call_at(self._sim_next_scan_s(), self._sim_scheduled_scan)

    def _sim_scheduled_scan(self):
        self._scan_due = False
        self._sim_scan()

    def _sim_scan(self):
        for number, model in enumerate(self._pins):
            pressed = model.read() == self._pressed_level
            if pressed != self._state[number]:
                self._state[number] = pressed
                self.events._put(Event(number, pressed, self._world.ticks_ms()))

    def reset(self):
        """Forget the pressed keys: a key held now is queued as pressed again."""
        self._state = [False] * len(self._pins)
        self._sim_scan()

    def deinit(self):
        self._world.release(self)
        for model in self._pins:
            model.claimed = False
            if self._sim_pin_changed in model.watchers:
                model.watchers.remove(self._sim_pin_changed)
        if self in self._world.keypads:
            self._world.keypads.remove(self)
