"""CircuitPython ``digitalio`` on the simulator's pins."""

from sim.engines.cpython import world as _world


class Direction:
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class Pull:
    UP = "UP"
    DOWN = "DOWN"


class DriveMode:
    PUSH_PULL = "PUSH_PULL"
    OPEN_DRAIN = "OPEN_DRAIN"


class DigitalInOut:
    """A GPIO; starts as an input with no pull, like CircuitPython."""

    def __init__(self, pin):
        self._world = _world.current()
        self._pin = self._world.pin(pin.name)
        if self._pin.claimed:
            raise ValueError("%s in use" % pin.name)
        self._pin.claimed = True
        self._world.claim(self)
        self._direction = Direction.INPUT
        self._pull = None
        self.drive_mode = DriveMode.PUSH_PULL
        self._pin.output = None
        self._pin.pull_up = None

    @property
    def direction(self):
        return self._direction

    @direction.setter
    def direction(self, value):
        if value == Direction.OUTPUT:
            self.switch_to_output()
        else:
            self.switch_to_input()

    def switch_to_output(self, value=False, drive_mode=DriveMode.PUSH_PULL):
        self._direction = Direction.OUTPUT
        self.drive_mode = drive_mode
        self._pin.drive(value, self._world.clock.now())

    def switch_to_input(self, pull=None):
        self._direction = Direction.INPUT
        self._pin.output = None
        self.pull = pull

    @property
    def pull(self):
        return self._pull

    @pull.setter
    def pull(self, value):
        if self._direction == Direction.OUTPUT:
            raise AttributeError("Pull not used when direction is output.")
        self._pull = value
        self._pin.pull_up = value == Pull.UP

    @property
    def value(self):
        return self._pin.read()

    @value.setter
    def value(self, level):
        if self._direction != Direction.OUTPUT:
            raise AttributeError("Cannot set value when direction is input.")
        self._pin.drive(level, self._world.clock.now())

    def deinit(self):
        if self in self._world.claims:
            self._pin.claimed = False
            self._pin.output = None
            self._world.release(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()
