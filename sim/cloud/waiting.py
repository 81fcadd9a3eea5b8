"""Waiting on another process (a broker) from inside a simulator loop, on both clocks."""

import asyncio
import time


def _loop_is_virtual(loop):
    return bool(getattr(getattr(loop, "clock", None), "virtual", False))


async def wait_for_answer(awaitable, timeout_s):
    """Await an answer from a broker, marking the wait as I/O from another process.

    On a ``SimEventLoop`` this brackets the wait with ``expect_io()``/``io_arrived()``.
    Raises asyncio.TimeoutError once ``timeout_s`` has passed on the loop's clock and,
    when that clock is virtual, also in real time.
    """
    loop = asyncio.get_running_loop()
    expect_io = getattr(loop, "expect_io", None)
    virtual = _loop_is_virtual(loop)
    answer = asyncio.ensure_future(awaitable)
    if expect_io is not None:
        expect_io()
    real_start = time.monotonic()
    try:
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(answer), timeout_s)
            except asyncio.TimeoutError:
                if not virtual or time.monotonic() - real_start >= timeout_s:
                    raise
    finally:
        if expect_io is not None:
            loop.io_arrived()
