"""CircuitPython ``watchdog``: the badge's hang detector, recorded by the simulator."""


class WatchDogMode:
    RAISE = "RAISE"
    RESET = "RESET"


class WatchDogTimeout(Exception):
    pass


class WatchDogTimer:
    def __init__(self):
        self.timeout = 0.0
        self.mode = None
        self.feeds = 0

    def feed(self):
        self.feeds += 1

    def deinit(self):
        self.mode = None
