"""Waits in asyncio the ways the badge does, printing what each wait saw (ticks in ms).

The CircuitPython engine runs this with and without skipping the idle turns of the
poll wait: the two consoles must be the same, line for line.
"""

import asyncio
import time

import board
import keypad
from adafruit_ticks import ticks_diff, ticks_ms

START = ticks_ms()


def log(what):
    print("wait %s at %d ms, %d ns" % (what, ticks_diff(ticks_ms(), START),
                                       time.monotonic_ns() // 1_000_000 * 1_000_000))


async def sleeps():
    for ms in (1, 1, 2, 5, 16, 16, 50, 250):
        await asyncio.sleep_ms(ms)
        log("sleep_ms(%d)" % ms)
    for seconds in (0.016, 0.1):
        await asyncio.sleep(seconds)
        log("sleep(%s)" % seconds)


async def keys():
    events = keypad.Keys((board.GP14,), value_when_pressed=False, pull=True).events
    print("check keys ready")
    while True:
        await asyncio.core._io_queue.queue_read(events)
        event = events.get()
        if event.pressed:
            log("key")
            return


async def main():
    key_task = asyncio.create_task(keys())
    await sleeps()
    await key_task
    print("check done")


asyncio.run(main())
