"""Publish one message to AWS IoT through an ExpressLink module (the expresslink library).

Wiring on a Raspberry Pi Pico: GP0 (UART0 TX) to the module's RX, GP1 (UART0 RX) to its
TX, 115200 8N1; GP10 from its EVENT pin; GP12 to its RST pin (active low). The module
must already know your AWS endpoint (and, for Wi-Fi, SSID and Passphrase).
"""

import asyncio

import board
import busio
import digitalio

from expresslink.client import ExpressLinkClient
from expresslink.errors import ModuleError


async def main():
    uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0,
                      receiver_buffer_size=2048)
    event = digitalio.DigitalInOut(board.GP10)
    event.switch_to_input(pull=digitalio.Pull.DOWN)
    reset = digitalio.DigitalInOut(board.GP12)
    reset.switch_to_output(value=True)  # high: the module runs
    client = ExpressLinkClient(uart, event_pin=event, reset_pin=reset)

    await client.wait_ready()  # after power-up: AT until the module answers
    thing = await client.conf_get("ThingName")
    topic = thing + "/hello"
    await client.conf_set("Topic1", topic)
    try:
        await client.connect()  # blocking CONNECT: up to two minutes
    except ModuleError as error:
        print("could not connect:", error, "hint", error.hint)
        return
    await client.send(1, "Hello from CircuitPython")
    print("published to", topic)
    await client.disconnect()


asyncio.run(main())
