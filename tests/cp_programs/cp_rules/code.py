"""CircuitPython's rules that the CPython engine's shims copy, printed as check lines.

Runs unchanged on both engines (tests/test_cp_rules_on_both_engines.py compares them):
asyncio sleeps in whole ticks, os.getenv on settings.toml, sys.print_exception, the
drive before a remount, busio argument checks and errors, one waiter per stream.
"""

import asyncio
import os
import sys

import board
import busio
import supervisor
from asyncio import core


def error_of(call):
    try:
        call()
    except Exception as error:  # the type and text are what is compared
        return "%s: %s" % (type(error).__name__, error)
    return "ok"


async def ticks_slept(sleep, arg):
    """The fewest and most ticks_ms that 10 sleeps took."""
    lo, hi = 999, -1
    for _ in range(10):
        t0 = supervisor.ticks_ms()
        await sleep(arg)
        took = supervisor.ticks_ms() - t0
        lo, hi = min(lo, took), max(hi, took)
    return lo, hi


async def second_reader(uart):
    try:
        await core._io_queue.queue_read(uart)
    except AssertionError:
        return "AssertionError"
    return "ok"


async def main():
    # At least this many ticks (the port's loop may add one more on the board).
    for label, seconds in (("16ms", 0.016), ("50ms", 0.05), ("15.5ms", 0.0155)):
        print("check sleep", label, (await ticks_slept(asyncio.sleep, seconds))[0])
    lo, hi = await ticks_slept(asyncio.sleep, 0.001)
    print("check sleep 1ms at most 1 tick", hi <= 1)
    print("check sleep_ms 16", (await ticks_slept(asyncio.sleep_ms, 16))[0])
    uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0)
    uart.reset_input_buffer()  # what the line carried at power-up
    print("check uart read nothing", uart.read(4))
    first = asyncio.create_task(core._io_queue.queue_read(uart))
    await asyncio.sleep(0)
    print("check uart second reader", await second_reader(uart))
    first.cancel()
    print("check uart in use", error_of(lambda: busio.UART(board.GP0, board.GP1)))
    uart.deinit()


asyncio.run(main())

for key in ("A", "B", "C", "D", "E", "F", "G", "H"):
    print("check getenv", key, error_of(lambda: print("check value", key, repr(os.getenv(key)))))
print("check sys.print_exception", hasattr(sys, "print_exception"))
print("check write before remount", error_of(lambda: open("note.txt", "w").close()))

for label, make in (
        ("no pins", lambda: busio.UART(None, None)),
        ("timeout", lambda: busio.UART(board.GP0, board.GP1, timeout=101)),
        ("bits", lambda: busio.UART(board.GP0, board.GP1, bits=9)),
        ("buffer", lambda: busio.UART(board.GP0, board.GP1, receiver_buffer_size=0)),
        ("stop", lambda: busio.UART(board.GP0, board.GP1, stop=3))):
    print("check uart", label, error_of(make))

i2c = busio.I2C(board.GP5, board.GP4)
print("check i2c in use", error_of(lambda: busio.I2C(board.GP5, board.GP4)))
while not i2c.try_lock():
    pass
print("check i2c nack", error_of(lambda: i2c.writeto(0x50, b"\x00")))
print("check i2c scan", [hex(a) for a in i2c.scan()])
i2c.unlock()
i2c.deinit()
print("check done")
