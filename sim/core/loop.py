"""The simulator's asyncio event loop: runs on the simulator's clock and measures stalls.

One loop runs everything in a simulation: the firmware's tasks, the module emulator,
the embedded broker and its clients. ``loop.time()`` is ``clock.now()``.

It is asyncio's own ``SelectorEventLoop``, changed only through what asyncio documents:

- ``time()`` is the clock's;
- timers (``call_at``, ``call_later``) go to the loop's own heap, ordered by time and
  then by the order they were made in;
- the loop's selector is where asyncio waits when no callback is ready. It waits for
  the next timer of that heap instead: on a :class:`~sim.core.clock.VirtualClock` it jumps
  the clock there (or, with a :class:`~sim.core.pace.Pace` on the clock, waits as its
  rate says: paused, stepped, 1x, 10x, 100x), on a real clock it waits for it in the
  operating system; then it hands every timer that is due to asyncio with
  ``call_soon``, to run in this turn.

Sockets are still real (the embedded broker talks over loopback TCP inside this same
loop), so before the virtual clock jumps the selector polls them without waiting; data
written to a loopback socket is readable at once, so a message between two parts of
this process never loses time. A part that waits on a *separate* process (an external
broker) calls ``loop.expect_io()`` while it waits for an answer; the loop then waits
for real (up to ``io_grace_s`` at a time) before it lets virtual time jump.

Every callback made with ``call_soon``, ``call_at``, ``call_later`` or
``call_soon_threadsafe`` (so every step of every task) is measured: blocking waits
inside it (``clock.block``) are charged to it in ``clock.stalls``.

On a virtual clock most turns of the loop are one task waking from ``sleep`` (the
badge's UART waits, the module emulator, the broker's timers), so that path is kept
short: see :func:`sleep`.
"""

import asyncio
import contextvars
import heapq
import os
import selectors

_ASYNCIO_SLEEP = asyncio.sleep
_current_task = asyncio.current_task
_get_running_loop = asyncio.get_running_loop
_heappush = heapq.heappush
_heappop = heapq.heappop

_RESOLUTION_S = 1e-9  # a timer this close to now is due (the clocks count nanoseconds)
_MIN_COMPACT = 128  # the timer heap is swept of cancelled timers beyond this size
_MAX_WAIT_S = 86400.0  # the longest real wait asked of the operating system at once


class _ClockSelector(selectors.DefaultSelector):
    """Where asyncio waits when no callback is ready: here it waits for the loop's next
    timer (a jump of a virtual clock, a real wait on a real clock), then hands the
    timers that are due to the loop."""

    def __init__(self, loop):
        super().__init__()
        self._loop = loop
        self._busy_turns = 0

    def any_ready(self):
        """The sockets that are ready now (a falsy list when none), without waiting."""
        return super().select(0)

    def select(self, timeout=None):
        loop = self._loop
        virtual = loop.clock.virtual
        if timeout == 0:
            # Callbacks are ready. On a virtual clock the sockets are looked at every
            # 16th busy turn (and always before time may move), so a chain of ready
            # callbacks cannot starve them and a busy run pays no system call per turn.
            self._busy_turns += 1
            events = [] if virtual and self._busy_turns & 15 else super().select(0)
        else:
            self._busy_turns = 0
            wait = loop._until_next_timer()
            if timeout is not None and (wait is None or timeout < wait):
                wait = timeout
            if virtual:
                events = self._wait_virtual(loop, wait)
            else:
                events = super().select(None if wait is None else min(wait, _MAX_WAIT_S))
        loop._hand_over_due()
        return events

    def _wait_virtual(self, loop, wait):
        """Poll the sockets; when none is ready, jump the clock to the next timer."""
        events = super().select(0)
        if events:
            return events
        grace = loop.io_grace_s
        if loop.io_expected:
            # Someone waits for another process: give it real time, bounded.
            events = super().select(grace if wait is None else min(wait, grace))
            if events:
                return events
        pace = loop.clock.pace
        if pace is not None:  # time control: paused, stepped or paced against real time
            return pace.wait(self._poll, loop.clock, wait)
        if wait is None:
            if not loop.io_expected:
                # Nothing scheduled and no one expects I/O: poll lightly so that a
                # thread-safe call (call_soon_threadsafe) can still wake us.
                return super().select(grace)
            return []
        loop.clock.advance(wait)
        return []

    def _poll(self, timeout):
        """Wait up to ``timeout`` real seconds (None: without limit) for the sockets."""
        return super().select(timeout)


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
        self.errors = []
        # Timers: a heap of [when_s, sequence, callback, args, context, handle], lists
        # compared in C. ``handle`` is the TimerHandle returned by call_at, or None for
        # a task asleep in sleep() (callback: its step; None once woken or cancelled).
        self._timers = []
        self._sequence = 0
        self._compact_at = _MIN_COMPACT
        self._sleeper = None  # (task, when_s) from sleep(), until the task's call_soon
        self._base_call_soon = super().call_soon
        self._clock_selector = _ClockSelector(self)
        super().__init__(self._clock_selector)
        self.time = clock.now  # asyncio asks for the time several times per turn
        self.set_exception_handler(self._record_error)
        clock.stalls.namer = step_name

    # -- time -------------------------------------------------------------------
    def time(self):
        return self.clock.now()

    def next_timer_s(self):
        """Clock time (s) of the next timer, or None when there is none."""
        wait = self._until_next_timer()
        return None if wait is None else self._timers[0][0]

    def sockets_ready(self):
        """Whether a socket has something for the loop now (looked at without waiting)."""
        return bool(self._clock_selector.any_ready())

    # -- waiting on other processes ----------------------------------------------
    def expect_io(self):
        """Count one outstanding wait on another process (see module docstring)."""
        self.io_expected += 1

    def io_arrived(self):
        if self.io_expected > 0:
            self.io_expected -= 1

    # -- tasks --------------------------------------------------------------------
    def create_task(self, coro, *, name=None, context=None):
        if self.get_task_factory() is not None:
            return super().create_task(coro, name=name, context=context)
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        task = SimTask(coro, loop=self, name=name, context=context)
        parent = _current_task(self)
        if parent is not None and parent._sim_badge and not _is_sim_code(coro):
            task._sim_badge = True
        return task

    # -- callbacks, each measured ------------------------------------------------------
    def call_soon(self, callback, *args, context=None):
        sleeper = self._sleeper
        if sleeper is not None:
            self._sleeper = None
            if getattr(callback, "__self__", None) is sleeper[0]:
                # The task just yielded inside sleep(): its next step waits for the timer.
                self._sequence += 1
                entry = [sleeper[1], self._sequence, callback, (), context, None]
                self._push(entry)
                sleeper[0]._sim_sleep = entry  # for its cancel()
                return None
            # Not the sleeping task's step (a coroutine driven by hand): never delay
            # someone else's callback.
        return self._base_call_soon(self._measured, callback, *args, context=context)

    def call_soon_threadsafe(self, callback, *args, context=None):
        return super().call_soon_threadsafe(self._measured, callback, *args,
                                            context=context)

    def call_at(self, when, callback, *args, context=None):
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        if context is None:
            context = contextvars.copy_context()
        handle = asyncio.TimerHandle(when, callback, args, self, context)
        self._sequence += 1
        self._push([when, self._sequence, callback, args, context, handle])
        return handle

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

    def _run_timer(self, handle, callback, *args):
        if not handle.cancelled():  # cancelled by a callback earlier in this turn
            self._measured(callback, *args)

    # -- the timer heap ------------------------------------------------------------------
    def _push(self, entry):
        timers = self._timers
        _heappush(timers, entry)
        if len(timers) > self._compact_at:
            # Timeouts cancelled long before they are due (wait_for around a quick
            # answer) would pile up: sweep them once the heap has doubled.
            timers[:] = [e for e in timers if not _is_dead(e)]
            heapq.heapify(timers)
            self._compact_at = max(_MIN_COMPACT, 2 * len(timers))

    def _until_next_timer(self):
        """Seconds to the next live timer (0 when it is due), or None."""
        timers = self._timers
        while timers and _is_dead(timers[0]):
            _heappop(timers)
        if not timers:
            return None
        wait = timers[0][0] - self.clock.now()
        return wait if wait > 0 else 0.0

    def _hand_over_due(self):
        """Give asyncio every timer that is due, in order, to run in this turn."""
        timers = self._timers
        if not timers:
            return
        end = self.clock.now() + _RESOLUTION_S
        call_soon = self._base_call_soon
        while timers and timers[0][0] < end:
            entry = _heappop(timers)
            callback = entry[2]
            if callback is None:
                continue  # a sleep that was cancelled
            handle = entry[5]
            if handle is None:  # a task waking from sleep()
                entry[2] = None  # its cancel() no longer wakes it: this step will
                call_soon(self._measured, callback, context=entry[4])
            elif not handle.cancelled():
                call_soon(self._run_timer, handle, callback, *entry[3], context=entry[4])

    def _wake_early(self, entry):
        """A sleeping task was cancelled: run its step now, drop its timer entry."""
        callback, context = entry[2], entry[4]
        entry[2] = None
        self._base_call_soon(self._measured, callback, context=context)

    def close(self):
        super().close()
        self._timers.clear()

    # -- errors ---------------------------------------------------------------------
    def _record_error(self, loop, context):
        self.errors.append(context)
        self.default_exception_handler(context)


def _is_dead(entry):
    """A timer entry that must not run: a cancelled TimerHandle or a finished sleep."""
    handle = entry[5]
    return entry[2] is None or (handle is not None and handle.cancelled())


class _OneTurn:
    """Awaiting it yields to the task once with no future: asyncio's "bare yield", as
    ``asyncio.sleep(0)`` does."""

    __slots__ = ()

    def __await__(self):
        return iter((None,))


ONE_TURN = _OneTurn()  # ``await ONE_TURN``: let every other ready callback run once


async def sleep(delay, result=None):
    """``asyncio.sleep`` for the simulator's loop: one turn of the loop per wake-up, and
    nothing allocated but the timer entry.

    CPython's sleep makes a Future and a TimerHandle; the timer sets the future's
    result, and the future then schedules the task's wake-up for the *next* turn of the
    loop: two turns and a handful of objects per sleep, and most turns of a virtual-time
    run are sleeps ending. Here the task yields bare, as for ``asyncio.sleep(0)``, and
    the loop files the step the task then asks it to schedule (``call_soon``) under the
    sleep's end time instead of running it next turn. Cancelling the task wakes it at
    once (:class:`SimTask`; a task made some other way sleeps with asyncio's own sleep).
    Order and timing of everything else are unchanged.
    """
    loop = _get_running_loop()
    task = _current_task(loop)
    if delay <= 0 or loop.__class__ is not SimEventLoop or task.__class__ is not SimTask:
        return await _ASYNCIO_SLEEP(delay, result)
    when = loop.clock.now() + delay
    loop._sleeper = (task, when)  # the task's call_soon, right after the yield, takes it
    await ONE_TURN
    if loop._sleeper is not None or loop.clock.now() < when - _RESOLUTION_S:
        # The task was not rescheduled through call_soon as asyncio's tasks are: sleep
        # the rest the ordinary way rather than wake early.
        loop._sleeper = None
        await _ASYNCIO_SLEEP(when - loop.clock.now())
    return result


# The whole sim/ package, not only sim/core/: chips, the module and the broker are sim code too.
_SIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


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
