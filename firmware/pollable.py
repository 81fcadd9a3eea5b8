"""Waiting for a core object without polling it from Python.

CircuitPython's ``select.poll`` can watch some core objects (a ``keypad`` event queue,
a ``busio.UART``), and its asyncio parks a task on one until it is readable: the check
runs in C while the loop is idle, so a task that waits this way costs nothing until
something arrives. This is the mechanism asyncio's own ``StreamReader`` uses.
"""

# CircuitPython's asyncio (the port in lib/) has the poll queue in its ``core`` module;
# on a computer the simulator provides the same module.
from asyncio import core  # type: ignore[attr-defined]


async def readable(stream):
    """Return once ``stream`` has something to read (TypeError if it cannot be polled)."""
    await core._io_queue.queue_read(stream)
