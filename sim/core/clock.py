"""The simulator's clocks: virtual (deterministic, jumps when idle) and real.

Everything in the simulator that needs time asks one clock object. Emulated chips read
``clock.now()`` to decide whether a conversion has finished; buses and blocking sleeps
call ``clock.block(seconds, kind)``, which advances virtual time (or really sleeps) and
records the wait as a loop stall, because on the badge such a wait holds the whole
asyncio loop.
"""

import math
import time


class StallLog:
    """Blocking waits (seconds) by kind, and the longest per loop step.

    A *step* is one callback of the event loop (one resumption of one task). The loop
    calls ``begin_step`` and ``end_step`` around each; ``block`` adds to the current
    step. Kinds: ``"sleep"`` (``time.sleep`` in driver code), ``"i2c"`` and ``"uart"``
    (wire time of blocking bus transfers).
    """

    def __init__(self, namer=None):
        self.namer = namer  # callable(step owner) -> readable name
        self.total_s = {}
        self.longest_step_s = {}
        self.longest_step_where = {}
        self._step = None
        self._where = ""
        self.steps = 0

    def begin_step(self, where=""):
        self._step = None  # kind -> seconds, created on the first wait of the step
        self._where = where

    def add(self, kind, seconds):
        self.total_s[kind] = self.total_s.get(kind, 0.0) + seconds
        if self._step is None:
            self._step = {}
        self._step[kind] = self._step.get(kind, 0.0) + seconds

    def end_step(self):
        self.steps += 1
        step = self._step
        if step is None:
            return
        self._step = None
        for kind, seconds in step.items():
            if seconds > self.longest_step_s.get(kind, 0.0):
                self.longest_step_s[kind] = seconds
                where = self._where
                self.longest_step_where[kind] = self.namer(where) if self.namer else where

    def step_total(self):
        """Seconds blocked so far in the current step, all kinds together."""
        return sum(self._step.values()) if self._step else 0.0

    def reset(self):
        self.__init__(self.namer)


class VirtualClock:
    """Simulated time in integer nanoseconds, starting at 0.

    Time moves only when told: ``advance`` (the idle event loop jumping to its next
    timer) or ``block`` (a blocking wait inside a step).
    """

    virtual = True

    def __init__(self):
        self._now_ns = 0
        self.stalls = StallLog()
        self.pace = None  # a sim.core.pace.Pace: paced, paused or stepped against real time

    def now(self):
        """Seconds since the simulation started (float)."""
        return self._now_ns / 1e9

    def now_ns(self):
        return self._now_ns

    def advance(self, seconds):
        """Move time forward by ``seconds`` (>= 0) without recording a stall.

        Rounded up to whole nanoseconds: a loop that jumps to its next timer must land
        on or after it, or a timer less than 1 ns away would fire again and again
        without time moving.
        """
        if seconds > 0:
            self._now_ns += max(1, math.ceil(seconds * 1e9))

    def advance_to(self, t_s):
        target = int(round(t_s * 1e9))
        if target > self._now_ns:
            self._now_ns = target

    def block(self, seconds, kind="sleep"):
        """A blocking wait of ``seconds`` inside the current loop step."""
        if seconds <= 0:
            return
        self.stalls.add(kind, seconds)
        self._now_ns += int(round(seconds * 1e9))


class RealClock:
    """Wall-clock time for interactive runs; blocking waits really sleep."""

    virtual = False

    def __init__(self, sleep=time.sleep, monotonic=time.monotonic):
        self._sleep = sleep
        self._monotonic = monotonic
        self._t0 = monotonic()
        self.stalls = StallLog()

    def now(self):
        return self._monotonic() - self._t0

    def now_ns(self):
        return int(self.now() * 1e9)

    def advance(self, seconds):
        """Real time cannot be pushed; waiting is the event loop's job."""

    def advance_to(self, t_s):
        pass

    def block(self, seconds, kind="sleep"):
        if seconds <= 0:
            return
        self.stalls.add(kind, seconds)
        self._sleep(seconds)


# Wire-time helpers (seconds), shared by the buses and the benchmarks.
I2C_HZ = 400_000
UART_BAUD = 115_200


def i2c_wire_time_s(data_bytes, hz=I2C_HZ):
    """One I2C transaction: start, address byte, ``data_bytes`` bytes, stop.

    9 clocks per byte (8 bits + ACK), plus about one clock each for start and stop.
    """
    return ((data_bytes + 1) * 9 + 2) / hz


def uart_wire_time_s(nbytes, baud=UART_BAUD):
    """8N1 framing: 10 bit times per byte."""
    return nbytes * 10 / baud
