"""The CircuitPython engine's own check, one boot: each result is one "check ..." line.

I2C scan, SHT31-D through adafruit_sht31d, a label on the SSD1306, an AT round
trip with the ExpressLink module and a message through it to the broker, a keypad press, then a planted error (a traceback).
The host's soft reload (Ctrl-C, Ctrl-D) runs it again: the I2C bus must come back.
"""

import time

import board
import busio
import displayio
import gc
import supervisor

print("check run_reason", supervisor.runtime.run_reason)

displayio.release_displays()
i2c = busio.I2C(board.GP5, board.GP4, frequency=400_000)
while not i2c.try_lock():
    pass
print("check scan", " ".join("0x%02x" % a for a in i2c.scan()))
# A chip that ACKs its address and refuses the data (NACK on the last byte).
try:
    i2c.writeto(0x50, b"\x01\x02")
    print("check refused none")
except OSError as error:
    print("check refused", error.errno)
# Wire time: 17-byte writes to the display's RAM (overwritten by the first refresh).
ram = bytearray(17)
ram[0] = 0x40
start = time.monotonic_ns()
for _ in range(20):
    i2c.writeto(0x3C, ram)
print("check i2c_write_us", (time.monotonic_ns() - start) // 20_000)
i2c.unlock()

import adafruit_sht31d

sensor = adafruit_sht31d.SHT31D(i2c)
# The driver waits time.sleep(0.0015) after its soft reset; 9.x sleeps whole ms (1 ms),
# shorter than the chip's 1.5 ms reset time, and the next command is NACKed. Wait here.
time.sleep(0.002)

# Single-shot reads without clock stretching sleep 15.5 ms for the chip's 15 ms
# conversion; 9.x sleeps in whole 1/1024 s ticks (14.6-15.6 ms), and an early read is
# NACKed (a real finding on 9.2.1, not the engine's). Clock stretching waits on the bus.
sensor.clock_stretching = True
temperature = sensor.temperature
humidity = sensor.relative_humidity
print("check sht31d %.2f %.2f" % (temperature, humidity))

import terminalio

glyph = terminalio.FONT.get_glyph(ord("M"))
print("check glyph", glyph.width, glyph.height, glyph.dx, glyph.dy)

import label_screen

display = label_screen.show(i2c)
print("check frame shown")

uart = busio.UART(board.GP0, board.GP1, baudrate=115200, timeout=0,
                  receiver_buffer_size=256)
deadline = time.monotonic() + 3
answer = b""
while time.monotonic() < deadline and b"OK" not in answer:
    uart.write(b"AT\r\n")
    sent = time.monotonic()
    while time.monotonic() - sent < 0.3 and b"\n" not in answer:
        time.sleep(0.002)  # the CPU sleeps (WFI): emulated time is nearly free
        answer += uart.read(uart.in_waiting) or b""
    if b"OK" not in answer:
        answer = b""
print("check at", answer[answer.find(b"OK"):].strip().decode())

# Wire time on the UART: AT (4 bytes) out, OK (4 bytes) back, polled without sleeping.
uart.read(uart.in_waiting)
start = time.monotonic_ns()
uart.write(b"AT\r\n")
answer = b""
while not answer.endswith(b"\n") and time.monotonic_ns() - start < 50_000_000:
    answer += uart.read(uart.in_waiting) or b""
print("check at_us", (time.monotonic_ns() - start) // 1000, answer.strip().decode())


def command(text, wait_s):
    """One AT command; its reply line (without CR LF), or "" after ``wait_s``."""
    uart.read(uart.in_waiting)
    uart.write(text + b"\r\n")
    reply = b""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not reply.endswith(b"\n"):
        time.sleep(0.002)
        reply += uart.read(uart.in_waiting) or b""
    return reply.strip().decode()


# Through the module to the embedded broker: one message on the telemetry topic.
print("check topic", command(b"AT+CONF Topic1=badge/badge-1/telemetry", 0.5))
print("check connect", command(b"AT+CONNECT", 4))
print("check send", command(b'AT+SEND1 {"seq": 1, "engine": "check"}', 1))

import keypad

keys = keypad.Keys((board.GP13, board.GP14, board.GP15), value_when_pressed=False,
                   pull=True)
print("check keys ready")
deadline = time.monotonic() + 3
pressed = None
while time.monotonic() < deadline and pressed is None:
    time.sleep(0.005)
    event = keys.events.get()
    if event and event.pressed:
        pressed = event.key_number
print("check pressed", pressed)
gc.collect()
print("check mem_free=%d" % gc.mem_free())
raise RuntimeError("planted for the engine check")
