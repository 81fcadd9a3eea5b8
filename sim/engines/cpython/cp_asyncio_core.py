"""CircuitPython's ``asyncio.core``, as far as the badge uses it.

On the badge, ``await asyncio.core._io_queue.queue_read(obj)`` parks a task until
``select.poll`` reports ``obj`` readable: core objects that support polling (a
``keypad`` event queue, a ``busio.UART``) wake a task without any Python code
running in the meantime. CPython's asyncio has no such queue, so the simulator puts
this module in place as ``asyncio.core`` for a run
(:class:`sim.engines.cpython.runtime.FirmwareRuntime`).
A simulated object supports it by having ``async _sim_wait_readable()``.

As in the port's ``IOQueue._enqueue``, only one task may wait on a stream in each
direction: a second reader fails the port's ``assert sm[idx] is None``.
"""

import asyncio


class _IOQueue:
    def __init__(self):
        self._readers = {}  # id(stream) -> (stream, task) while a task waits to read it

    async def queue_read(self, stream):
        wait = getattr(stream, "_sim_wait_readable", None)
        if wait is None:
            # What CircuitPython's select.poll says of an object it cannot watch.
            raise TypeError("object with stream.ioctl required")
        key = id(stream)
        waiting = self._readers.get(key)
        if waiting is not None and waiting[0] is stream and not waiting[1].done():
            raise AssertionError  # the port: assert sm[idx] is None
        entry = (stream, asyncio.current_task())
        self._readers[key] = entry
        try:
            await wait()
        finally:
            if self._readers.get(key) is entry:
                del self._readers[key]

    async def queue_write(self, stream):
        raise NotImplementedError("the simulator's streams are always writable")


_io_queue = _IOQueue()
