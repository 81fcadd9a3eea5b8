"""CircuitPython's ``asyncio.core``, as far as the badge uses it.

On the badge, ``await asyncio.core._io_queue.queue_read(obj)`` parks a task until
``select.poll`` reports ``obj`` readable: core objects that support polling (a
``keypad`` event queue, a ``busio.UART``) wake a task without any Python code
running in the meantime. CPython's asyncio has no such queue, so the simulator puts
this module in place as ``asyncio.core`` for a run (:class:`sim.runtime.FirmwareRuntime`).
A simulated object supports it by having ``async _sim_wait_readable()``.
"""


class _IOQueue:
    async def queue_read(self, stream):
        wait = getattr(stream, "_sim_wait_readable", None)
        if wait is None:
            # What CircuitPython's select.poll says of an object it cannot watch.
            raise TypeError("object with stream.ioctl required")
        await wait()


_io_queue = _IOQueue()
