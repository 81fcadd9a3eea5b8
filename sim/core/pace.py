"""Time control for a virtual clock: paused, stepped, 1x, 10x, 100x or as fast as it goes.

A :class:`~sim.core.clock.VirtualClock` jumps to the next timer whenever the loop is
idle, so a run goes as fast as the machine allows. Give the clock a ``Pace``
(``clock.pace = Pace(rate=1)``) and the loop's selector asks it how to wait instead:

- ``"max"``: jump at once, as without a pace;
- a number ``r``: wait ``1/r`` real seconds per simulated second, watching the sockets
  (and the loop's self-pipe, so ``call_soon_threadsafe`` from another thread is served
  at once) while it waits; simulated time moves with real time between timers too, so a
  clock on screen never stands still;
- ``"paused"``: simulated time stands still; sockets and thread-safe calls are still
  served. ``step()`` lets the clock jump to the next timer once.

Pacing keeps an anchor, (real time, simulated time), and lands each timer at
``anchor_real + (t - anchor_sim) / r``. A blocking wait inside a step (``clock.block``)
moves simulated time ahead of the anchor; the next real wait is that much longer, so the
average rate holds. When the simulation cannot keep up (more than ``MAX_LAG_S`` of real
time behind) the anchor moves to now instead of racing to catch up.

Not thread-safe: ``set_rate`` and ``step`` are called on the simulation's own thread
(from another one, through ``loop.call_soon_threadsafe``).
"""

import time

RATES = ("paused", 1, 10, 100, "max")

MAX_LAG_S = 0.25  # real seconds behind schedule before pacing gives up catching up
_MAX_REAL_WAIT_S = 0.5  # the longest single wait in the operating system


def parse_rate(value):
    """A rate from a page or a command line: "paused", "max", or 1, 10, 100 (numbers or
    their text). ValueError names the choices."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value not in RATES or isinstance(value, bool):
        raise ValueError("rate %r: choose one of paused, 1, 10, 100, max" % (value,))
    return value


class Pace:
    """How a virtual clock relates to real time; see the module docstring."""

    def __init__(self, rate=1, monotonic=time.monotonic):
        self._monotonic = monotonic
        self.rate = parse_rate(rate)
        self.steps_pending = 0
        self.steps_taken = 0
        self._anchor = None  # (real s, simulated s), set on the first wait

    def set_rate(self, rate):
        """Change the rate now; pacing restarts from this instant."""
        self.rate = parse_rate(rate)
        self.steps_pending = 0
        self._anchor = None

    def step(self):
        """While paused: let the clock jump to the next timer once (then pause again)."""
        if self.rate == "paused":
            self.steps_pending += 1

    # -- called by the loop's selector --------------------------------------------------
    def wait(self, poll, clock, wait):
        """Wait as the rate says. ``poll(timeout)`` waits on the loop's sockets (None:
        without limit) and returns their events; ``wait`` is simulated seconds to the
        next timer (None: none). Returns the events; moves ``clock`` as far as it may."""
        rate = self.rate
        if rate == "max":
            if wait is not None:
                clock.advance(wait)
            return []
        if rate == "paused":
            self._anchor = None
            if self.steps_pending and wait is not None:
                self.steps_pending -= 1
                self.steps_taken += 1
                clock.advance(wait)
                return []
            return poll(_MAX_REAL_WAIT_S)
        now_real = self._monotonic()
        now_sim = clock.now()
        anchor = self._anchor
        if anchor is None or now_real - (anchor[0] + (now_sim - anchor[1]) / rate) > MAX_LAG_S:
            anchor = self._anchor = (now_real, now_sim)  # first wait, or fallen behind
        target_sim = None if wait is None else now_sim + wait
        if target_sim is None:
            real_wait = _MAX_REAL_WAIT_S
        else:
            real_wait = anchor[0] + (target_sim - anchor[1]) / rate - now_real
        events = poll(min(max(real_wait, 0.0), _MAX_REAL_WAIT_S)) if real_wait > 0 else []
        reached = anchor[1] + (self._monotonic() - anchor[0]) * rate
        if target_sim is not None and reached >= target_sim:
            clock.advance(target_sim - clock.now())  # land on the timer, never short of it
        else:
            clock.advance_to(reached)
        return events
