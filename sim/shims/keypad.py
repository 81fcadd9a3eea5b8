"""CircuitPython ``keypad.Keys`` on simulated buttons.

Real CircuitPython scans the pins in the background every ``interval`` seconds and
queues press/release events. The simulator queues an event the moment a button changes
(the World calls ``_sim_scan``), stamped with ``supervisor.ticks_ms()``.
"""

from sim import world as _world


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

    def _put(self, event):
        if len(self._events) >= self._max:
            self.overflowed = True
            return
        self._events.append(event)

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
        self._world.keypads.append(self)
        self._sim_scan()
        self.events.clear()

    @property
    def key_count(self):
        return len(self._pins)

    def _sim_scan(self):
        for number, model in enumerate(self._pins):
            pressed = model.read() == self._pressed_level
            if pressed != self._state[number]:
                self._state[number] = pressed
                self.events._put(Event(number, pressed, self._world.ticks_ms()))

    def reset(self):
        self._state = [False] * len(self._pins)
        self._sim_scan()

    def deinit(self):
        for model in self._pins:
            model.claimed = False
        if self in self._world.keypads:
            self._world.keypads.remove(self)
