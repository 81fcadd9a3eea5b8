"""The simulator's asyncio event loop: runs on the simulator's clock and measures stalls.

One loop runs everything in a simulation: the firmware's tasks, the module emulator,
the embedded broker and its clients. ``loop.time()`` is ``clock.now()``.

With a :class:`~sim.clock.VirtualClock` the loop never waits for timers: when nothing
is ready and no socket has data, it jumps the clock to the next timer. Sockets are still
real (the embedded broker talks over loopback TCP inside this same loop), so before
jumping the loop polls them without waiting; data written to a loopback socket is
readable at once, so a message between two parts of this process never loses time.
A part that waits on a *separate* process (an external broker) calls
``loop.expect_io()`` while it waits for an answer; the loop then waits for real
(up to ``io_grace_s`` at a time) before it lets virtual time jump.

Every callback (one step of one task) is measured: blocking waits inside it
(``clock.block``) are charged to it in ``clock.stalls``.
"""

import asyncio
import asyncio.futures
import heapq
import selectors

_WAKE_SLEEPER = asyncio.futures._set_result_unless_cancelled
_ASYNCIO_SLEEP = asyncio.sleep


class _VirtualSelector(selectors.DefaultSelector):
    """A selector that turns an idle wait into a jump of the virtual clock."""

    def __init__(self, loop):
        super().__init__()
        self._loop = loop
        self._busy_turns = 0

    def select(self, timeout=None):
        loop = self._loop
        if timeout == 0:
            # Work is waiting; sockets are looked at before time may move (below),
            # and every 16th busy turn so a chain of ready callbacks cannot starve them.
            self._busy_turns += 1
            if self._busy_turns & 15:
                return []
            return super().select(0)
        self._busy_turns = 0
        ready = super().select(0)
        if ready:
            return ready
        if loop.io_expected:
            # Someone waits for another process: give it real time, bounded.
            real = loop.io_grace_s if timeout is None else min(timeout, loop.io_grace_s)
            ready = super().select(real)
            if ready:
                return ready
        if timeout is None:
            if not loop.io_expected:
                loop.idle_forever = True
                # Nothing scheduled and no one expects I/O: poll lightly so that a
                # thread-safe call (call_soon_threadsafe) can still wake us.
                return super().select(loop.io_grace_s)
            return []
        loop.clock.advance(timeout)
        return []


class SimEventLoop(asyncio.SelectorEventLoop):
    """asyncio loop whose time is ``clock.now()``; virtual clocks jump when idle."""

    def __init__(self, clock, io_grace_s=0.05):
        self.clock = clock
        self.io_expected = 0
        self.io_grace_s = io_grace_s
        self.idle_forever = False
        self.errors = []
        self._caught = None  # while a sleep's timer wakes its task
        self._timers = []  # virtual clock: heap of (when, sequence, TimerHandle)
        self._sequence = 0
        selector = _VirtualSelector(self) if clock.virtual else None
        super().__init__(selector)
        self.time = clock.now  # asyncio asks for the time several times per turn
        self.set_exception_handler(self._record_error)
        clock.stalls.namer = step_name

    # -- time -------------------------------------------------------------------
    def time(self):
        return self.clock.now()

    # -- waiting on other processes ----------------------------------------------
    def expect_io(self):
        """Count one outstanding wait on another process (see module docstring)."""
        self.io_expected += 1

    def io_arrived(self):
        if self.io_expected > 0:
            self.io_expected -= 1

    # -- per-step stall measurement ------------------------------------------------
    def call_soon(self, callback, *args, context=None):
        caught = self._caught
        if caught is not None:  # a sleep's future waking its task: see _wake_sleeper
            caught.append((callback, args, context))
            return None
        return super().call_soon(self._measured, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        if not self.clock.virtual:
            if callback is _WAKE_SLEEPER:  # asyncio.sleep's timer: never blocks
                return super().call_at(when, callback, *args, context=context)
            return super().call_at(when, self._measured, callback, *args, context=context)
        self._check_closed()
        if callback is _WAKE_SLEEPER:
            return self._timer_at(when, callback, args, context)
        return self._timer_at(when, self._measured, (callback,) + args, context)

    # -- timers on a virtual clock ---------------------------------------------------------
    # asyncio keeps TimerHandles in a heap ordered by TimerHandle.__lt__, a Python method
    # called several times per timer. On a virtual clock nearly every turn of the loop is
    # a timer, so the heap holds (when, sequence, handle) tuples, compared in C.

    def _timer_at(self, when, callback, args, context=None):
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        if self.clock.virtual:
            self._sequence += 1
            heapq.heappush(self._timers, (when, self._sequence, timer))
        else:
            heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _run_once(self):
        if not self.clock.virtual:
            return super()._run_once()
        timers = self._timers
        if self._timer_cancelled_count > 100 and self._timer_cancelled_count * 2 > len(timers):
            kept = []
            for entry in timers:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._timers = timers = kept
            self._timer_cancelled_count = 0
        while timers and timers[0][2]._cancelled:
            self._timer_cancelled_count -= 1
            heapq.heappop(timers)[2]._scheduled = False
        ready = self._ready
        if ready or self._stopping:
            timeout = 0
        elif timers:
            timeout = max(0.0, timers[0][0] - self.clock.now())
        else:
            timeout = None
        self._process_events(self._selector.select(timeout))
        end = self.clock.now() + self._clock_resolution
        while timers and timers[0][0] < end:
            timer = heapq.heappop(timers)[2]
            timer._scheduled = False
            ready.append(timer)
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def _wake_sleeper(self, future, result):
        """A sleep's timer: set the result and run the sleeper's wake-up right here
        (as a measured step of its own) instead of in the next turn."""
        if future.done():
            return
        self._caught = caught = []
        try:
            future.set_result(result)  # the future calls call_soon: caught below
        finally:
            self._caught = None
        for callback, args, context in caught:
            if context is None:
                self._measured(callback, *args)
            else:
                context.run(self._measured, callback, *args)

    def _measured(self, callback, *args):
        stalls = self.clock.stalls
        stalls.begin_step(callback)
        try:
            callback(*args)
        finally:
            if stalls._step is None:  # the usual case: nothing blocked
                stalls.steps += 1
            else:
                stalls.end_step()

    # -- errors ---------------------------------------------------------------------
    def _record_error(self, loop, context):
        self.errors.append(context)
        self.default_exception_handler(context)


async def sleep(delay, result=None):
    """``asyncio.sleep`` for the simulator's loop: the task resumes in the turn its
    timer fires.

    CPython's own sleep sets a future's result from the timer, and the future then
    schedules the task's wake-up for the *next* turn of the loop: two turns per sleep.
    A badge that polls its inputs every 20 ms spends most of a virtual-time run doing
    exactly that, so one turn instead of two makes the simulator much faster. Order
    and timing of everything else are unchanged.
    """
    loop = asyncio.get_running_loop()
    if delay <= 0 or not isinstance(loop, SimEventLoop):
        return await _ASYNCIO_SLEEP(delay, result)
    future = loop.create_future()
    timer = loop._timer_at(loop.time() + delay, loop._wake_sleeper, (future, result))
    try:
        return await future
    except BaseException:  # cancelled: the timer must not fire; after firing, no need
        timer.cancel()
        raise


def step_name(callback):
    """A readable name for the task or function behind a step: for a task, its chain
    of coroutines from the outermost to where it is suspended now, e.g.
    ``supervise > DisplayController.run > _wait_dirty``."""
    if isinstance(callback, str):
        return callback
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        chain = []
        coro = owner.get_coro()
        while coro is not None and hasattr(coro, "cr_code") and len(chain) < 8:
            chain.append(coro.__qualname__)
            coro = coro.cr_await
        return " > ".join(chain) or owner.get_name()
    return getattr(callback, "__qualname__", repr(callback))
