"""The EVENT line on the CircuitPython asyncio port in the MicroPython VM: prints PASS.

A stand-in for keypad's event queue is made pollable the way core objects are (a
stream whose ioctl answers MP_STREAM_POLL), so ``select.poll`` in the port's loop does
the waiting. Checks that a task parked in ``EventLine.wait_change()`` does not run
until an edge is queued, that it wakes when one is, that ``value`` follows the edges,
that a wait can be cancelled (wait_for), and that a lost edge is settled by the module.
"""

import io

import asyncio

from firmware.event_line import EventLine
from firmware.pollable import readable

_MP_STREAM_POLL = 3
_POLLIN = 1


class Edge:
    def __init__(self, pressed=False):
        self.key_number = 0
        self.pressed = pressed


class PollableQueue(io.IOBase):
    """keypad.EventQueue's Python side, readable for select.poll while non-empty."""

    def __init__(self, size=4):
        self._items = []
        self._size = size
        self.overflowed = False
        self.polls = 0

    def ioctl(self, request, arg):
        if request == _MP_STREAM_POLL:
            self.polls += 1
            return arg & _POLLIN if self._items else 0
        return 0

    def put(self, pressed):
        if len(self._items) >= self._size:
            self.overflowed = True
            return
        self._items.append(Edge(pressed))

    def get_into(self, event):
        if not self._items:
            return False
        edge = self._items.pop(0)
        event.key_number = edge.key_number
        event.pressed = edge.pressed
        return True

    def clear(self):
        self._items = []
        self.overflowed = False


class Keys:
    def __init__(self):
        self.events = PollableQueue()


async def watcher(line, woken):
    while True:
        await line.wait_change()
        woken.append(line.value)


async def main():
    keys = Keys()
    line = EventLine(keys, Edge(), level=False)
    assert line.value is False

    woken = []
    task = asyncio.create_task(watcher(line, woken))
    await asyncio.sleep(0.02)
    assert woken == [], (len(woken), woken[:4])  # nothing queued: the watcher stays parked
    assert keys.events.polls > 0  # ...while the port's poller looks at the queue

    keys.events.put(True)  # the scanner saw the line rise
    await asyncio.sleep(0.01)
    assert woken == [True], woken
    assert line.value is True and line.edges == 1

    keys.events.put(False)
    await asyncio.sleep(0.01)
    assert woken == [True, False], woken
    assert line.value is False

    # Two edges before the watcher runs: one wake-up, the latest level.
    keys.events.put(True)
    keys.events.put(False)
    await asyncio.sleep(0.01)
    assert woken == [True, False, False], woken
    assert line.edges == 4

    task.cancel()
    await asyncio.sleep(0)

    # A wait can be abandoned: wait_for cancels it in the port's poll queue.
    try:
        await asyncio.wait_for(line.wait_change(), 0.01)
    except asyncio.TimeoutError:
        timed_out = True
    else:
        timed_out = False
    assert timed_out
    # ...and the queue can be waited on again afterwards.
    keys.events.put(True)
    await asyncio.wait_for(readable(keys.events), 0.5)
    assert line.value is True

    # A full queue drops edges: the level is unknown, so the line reads high until
    # the module says its queue is empty.
    for pressed in (False, True, False, True, False):
        keys.events.put(pressed)
    assert keys.events.overflowed
    assert line.value is True
    line.module_empty()
    assert line.value is False
    line.module_empty()  # a scanned level is not overridden
    keys.events.put(True)
    assert line.value is True
    line.module_empty()
    assert line.value is True


asyncio.run(main())
print("PASS")
