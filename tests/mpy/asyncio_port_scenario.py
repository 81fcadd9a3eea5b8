"""Two tasks on the CircuitPython asyncio port in the MicroPython VM: prints PASS at the end.

Checks that the badge's asyncio (the port in /lib, not MicroPython's) is the one in use,
that two tasks interleave at each await, that Event and Lock hand over between them,
and that wait_for raises the port's own asyncio.TimeoutError.
"""

import asyncio

assert asyncio.__file__.endswith("/lib/asyncio/__init__.py"), asyncio.__file__


async def nap():
    """A zero-length sleep as a coroutine (a bare asyncio.sleep() is not one on the badge)."""
    await asyncio.sleep(0)


async def counter(name, steps, trace):
    for step in range(steps):
        trace.append((name, step))
        await asyncio.sleep(0)
    return name


async def producer(ready, box):
    await nap()
    box.append("reading")
    ready.set()


async def consumer(ready, box, lock, done):
    await ready.wait()
    async with lock:
        done.append(box[0])


async def main():
    trace = []
    names = await asyncio.gather(counter("a", 3, trace), counter("b", 3, trace))
    assert names == ["a", "b"], names
    # Each await hands the loop to the other task, so the steps alternate.
    assert trace == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)], trace

    ready, lock, box, done = asyncio.Event(), asyncio.Lock(), [], []
    tasks = [asyncio.create_task(consumer(ready, box, lock, done)),
             asyncio.create_task(producer(ready, box))]
    await asyncio.gather(*tasks)
    assert done == ["reading"], done

    try:
        await asyncio.wait_for(asyncio.Event().wait(), 0.01)
    except asyncio.TimeoutError:
        timed_out = True
    else:
        timed_out = False
    assert timed_out


asyncio.run(main())
print("PASS")
