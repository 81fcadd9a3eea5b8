"""The CircuitPython engine's bench: I2C transactions and UART bytes in measured phases.

Each phase is framed by console lines the host times ("bench NAME start/end N").
"""

import asyncio
import time

import board
import busio

I2C_WRITES = 400
UART_COMMANDS = 30

i2c = busio.I2C(board.GP5, board.GP4, frequency=400_000)
while not i2c.try_lock():
    pass
frame = bytearray(17)
frame[0] = 0x40  # SSD1306: 16 bytes of display RAM
print("bench i2c start", I2C_WRITES)
for _ in range(I2C_WRITES):
    i2c.writeto(0x3C, frame)
print("bench i2c end")
i2c.unlock()

uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0, receiver_buffer_size=2048)
time.sleep(1.0)  # the module boots
uart.read(uart.in_waiting)
command = b"AT+CONF? ThingName\r\n"
print("bench uart start", UART_COMMANDS * len(command))
received = 0
for _ in range(UART_COMMANDS):
    uart.write(command)
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:
        time.sleep(0.001)
        waiting = uart.in_waiting
        if waiting:
            received += len(uart.read(waiting))
print("bench uart end", received)
print("bench asyncio start")


async def wait_in_asyncio():
    await asyncio.sleep(2)


asyncio.run(wait_in_asyncio())
print("bench asyncio end")
print("bench idle start")
time.sleep(2)
print("bench idle end")
