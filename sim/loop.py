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

On a virtual clock most turns of the loop are one task waking from ``sleep`` (the
badge's UART waits, the module emulator, the broker's timers), so that path is kept
short: see :func:`sleep`.
"""

import asyncio
import heapq
import os
import selectors

_ASYNCIO_SLEEP = asyncio.sleep
_current_task = asyncio.current_task
_get_running_loop = asyncio.get_running_loop

# Kinds of entry in the virtual timer heap, each a list [when_s, sequence, item, kind]:
# a TimerHandle from call_at/call_later, or a sleeping task's step (kind = its context).
_TIMER = object()


class _VirtualSelector(selectors.DefaultSelector):
    """A selector that turns an idle wait into a jump of the virtual clock."""

    def __init__(self, loop):
        super().__init__()
        self._loop = loop
        self._busy_turns = 0
        poll = getattr(self._selector, "poll", None)  # epoll: ask without decoding
        if poll is not None:
            self.any_ready = lambda: poll(0)

    def any_ready(self):
        """Whether some socket is ready (truthy), without waiting."""
        return super().select(0)

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


class SimTask(asyncio.Task):
    """The loop's tasks: a task cancelled while in :func:`sleep` wakes at once (to
    raise CancelledError), not when its sleep would have ended."""

    _sim_sleep = None  # the timer-heap entry of the sleep it is in, if any
    _sim_badge = False  # the badge's own task (see SimEventLoop.create_task)

    def cancel(self, msg=None):
        cancelling = super().cancel(msg)
        entry = self._sim_sleep
        if cancelling and entry is not None and entry[2] is not None:
            self.get_loop()._wake_early(entry)
        return cancelling


class SimEventLoop(asyncio.SelectorEventLoop):
    """asyncio loop whose time is ``clock.now()``; virtual clocks jump when idle."""

    def __init__(self, clock, io_grace_s=0.05):
        self.clock = clock
        self.io_expected = 0
        self.io_grace_s = io_grace_s
        self.idle_forever = False
        self.errors = []
        self._timers = []  # virtual clock: heap of [when, sequence, item, kind]
        self._sequence = 0
        self._dead_timers = 0  # entries cancelled but still in the heap
        self._sleep_entry = None  # set by sleep() just before its task yields
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

    # -- tasks --------------------------------------------------------------------
    def create_task(self, coro, *, name=None, context=None):
        if self._task_factory is not None:
            return super().create_task(coro, name=name, context=context)
        self._check_closed()
        task = SimTask(coro, loop=self, name=name, context=context)
        if task._source_traceback:
            del task._source_traceback[-1]
        parent = _current_task(self)
        if parent is not None and parent._sim_badge and not _is_sim_code(coro):
            task._sim_badge = True
        return task

    # -- per-step stall measurement ------------------------------------------------
    def call_soon(self, callback, *args, context=None):
        entry = self._sleep_entry
        if entry is not None:
            self._sleep_entry = None
            owner = getattr(callback, "__self__", None)
            if owner.__class__ is SimTask:
                # The task just yielded inside sleep(): its next step waits for the timer.
                entry[2] = callback
                entry[3] = context
                heapq.heappush(self._timers, entry)
                owner._sim_sleep = entry  # for its cancel()
                return None
            # Not the sleeping task's step (a coroutine driven by hand): never delay
            # someone else's callback.
        return super().call_soon(self._measured, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        if not self.clock.virtual:
            return super().call_at(when, self._measured, callback, *args, context=context)
        self._check_closed()
        timer = asyncio.TimerHandle(when, self._measured, (callback,) + args, self,
                                    context)
        self._sequence += 1
        heapq.heappush(self._timers, [when, self._sequence, timer, _TIMER])
        timer._scheduled = True
        return timer

    # -- timers on a virtual clock ---------------------------------------------------------
    # asyncio keeps TimerHandles in a heap ordered by TimerHandle.__lt__, a Python method
    # called several times per timer. On a virtual clock nearly every turn of the loop is
    # a timer, so the heap holds lists compared in C; a sleeping task needs no
    # TimerHandle and no Future at all (see sleep()).

    def _timer_handle_cancelled(self, handle):
        if not self.clock.virtual:
            super()._timer_handle_cancelled(handle)  # asyncio's own heap and count
        elif handle._scheduled:
            self._dead_timers += 1

    def _wake_early(self, entry):
        """A sleeping task was cancelled: run its step now, drop its timer entry."""
        callback, context = entry[2], entry[3]
        entry[2] = None
        self._dead_timers += 1
        self._ready.append(asyncio.Handle(self._measured, (callback,), self, context))

    @staticmethod
    def _is_dead(entry):
        item = entry[2]
        return item is None or (entry[3] is _TIMER and item._cancelled)

    def _drop_dead_timers(self):
        timers = self._timers
        if self._dead_timers > 100 and self._dead_timers * 2 > len(timers):
            kept = []
            for entry in timers:
                if self._is_dead(entry):
                    if entry[3] is _TIMER:
                        entry[2]._scheduled = False
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._timers = timers = kept
            self._dead_timers = 0
        while timers and self._is_dead(timers[0]):
            self._dead_timers -= 1
            entry = heapq.heappop(timers)
            if entry[3] is _TIMER:
                entry[2]._scheduled = False
        return timers

    def _run_once(self):
        clock = self.clock
        if not clock.virtual:
            return super()._run_once()
        timers = self._drop_dead_timers() if self._dead_timers else self._timers
        ready = self._ready
        selector = self._selector
        if ready or self._stopping:
            self._process_events(selector.select(0))
        elif not timers:
            self._process_events(selector.select(None))
        elif self.io_expected or selector.any_ready():
            self._process_events(selector.select(max(0.0, timers[0][0] - clock.now())))
        else:  # the common case: idle, sockets quiet; jump to the next timer
            clock.advance(timers[0][0] - clock.now())
        end = clock.now() + self._clock_resolution
        while timers and timers[0][0] < end:
            entry = heapq.heappop(timers)
            if entry[3] is _TIMER:
                entry[2]._scheduled = False
            ready.append(entry)
        stalls = clock.stalls
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle.__class__ is not list:
                if not handle._cancelled:
                    handle._run()
                continue
            item = handle[2]  # a timer-heap entry
            if item is None:  # a sleep cancelled in the meantime
                continue
            kind = handle[3]
            if kind is _TIMER:
                if not item._cancelled:
                    item._run()
                continue
            # A task waking from sleep(): a task step never raises, so the
            # measurement of _measured is inlined here.
            handle[2] = None
            stalls._step = None
            stalls._where = item
            if kind is None:
                item()
            else:
                kind.run(item)
            if stalls._step is None:
                stalls.steps += 1
            else:
                stalls.end_step()

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


class _OneTurn:
    """Awaiting it yields to the task once with no future: asyncio's "bare yield"."""

    __slots__ = ()

    def __await__(self):
        return iter((None,))


_ONE_TURN = _OneTurn()


async def sleep(delay, result=None):
    """``asyncio.sleep`` for the simulator's loop on a virtual clock: one turn of the
    loop per wake-up, and nothing allocated but a four-item list.

    CPython's sleep makes a Future and a TimerHandle; the timer sets the future's
    result, and the future then schedules the task's wake-up for the *next* turn of the
    loop: two turns and a handful of objects per sleep, and most turns of a virtual-time
    run are sleeps ending. Here the task yields bare (no future), and the loop files the
    step the task asks it to schedule under the sleep's end time instead of running it
    next turn. Cancelling the task wakes it at once (:class:`SimTask`; a task made some
    other way sleeps with asyncio's own sleep). Order and timing of everything else are
    unchanged.
    """
    loop = _get_running_loop()
    if (delay <= 0 or loop.__class__ is not SimEventLoop or not loop.clock.virtual
            or _current_task(loop).__class__ is not SimTask):
        return await _ASYNCIO_SLEEP(delay, result)
    loop._sequence += 1
    # The task's call_soon, right after the yield, files its step in this entry.
    loop._sleep_entry = [loop.clock.now() + delay, loop._sequence, None, None]
    await _ONE_TURN
    return result


_SIM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_sim_code(coro):
    """Whether ``coro`` is the simulator's own code (a chip, the module, the broker)."""
    code = getattr(coro, "cr_code", None)
    return code is not None and code.co_filename.startswith(_SIM_DIR)


def is_badge_task(task):
    """Whether ``task`` runs the badge's code: the task that ``code.py``'s
    ``asyncio.run`` made, or one made by such a task (not from the simulator's code).
    Only these follow CircuitPython's rules (whole-millisecond sleeps, soft reloads)."""
    return getattr(task, "_sim_badge", False)


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
