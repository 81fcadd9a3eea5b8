"""Climate sampling from the SHT31-D without stalling the loop.

The Adafruit driver's single-shot read sleeps 15.5 ms inside a property, holding every
task, and its code keeps 6 KB of the badge's heap. Here the sensor is its I2CDevice
(which probes the address: an absent sensor raises ValueError), started as the driver
starts it (break, then soft reset) and measured in steps: send the single-shot command,
``await`` the conversion time, then read the 6-byte result.
"""

from micropython import const

from adafruit_ticks import ticks_ms

from firmware.log import heap_free, uptime_s
from firmware.state import Reading
from firmware.tasks import sleep_ms

# Single shot, high repeatability, no clock stretching (datasheet table 9).
_MEASURE = b"\x24\x00"
_BREAK = b"\x30\x93"  # stop periodic mode: a sensor in it ignores a soft reset
_SOFT_RESET = b"\x30\xa2"
_RESET_MS = const(2)  # the soft reset takes at most 1.5 ms (tSR)
# Maximum conversion time at high repeatability is 15 ms. asyncio wakes a sleeper at the
# first ticks_ms tick past its deadline, so sleep_ms(16) waits more than 15 ms. (In
# seconds, sleep(0.016) would be 15 ms on CircuitPython 9.x-10.1.x: see sleep_ms.)
_CONVERSION_MS = const(16)
_MAX_BACKOFF_S = const(60)


def crc8(data, start=0, end=2):
    """Sensirion CRC-8: polynomial 0x31, init 0xFF, over ``data[start:end]``."""
    crc = 0xFF
    for index in range(start, end):
        crc ^= data[index]
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def decode_measurement(buf):
    """(deg C, %RH) from the 6 bytes T MSB, T LSB, CRC, RH MSB, RH LSB, CRC.

    Raises RuntimeError on a CRC mismatch, like the Adafruit driver.
    """
    if crc8(buf, 0, 2) != buf[2] or crc8(buf, 3, 5) != buf[5]:
        raise RuntimeError("CRC mismatch")
    raw_t = (buf[0] << 8) | buf[1]
    raw_rh = (buf[3] << 8) | buf[4]
    return -45 + 175 * raw_t / 65535, 100 * raw_rh / 65535


class ClimateSampler:
    """Samples every ``period_s``; (re)creates the sensor with backoff when needed.

    ``make_sensor()`` returns the sensor's ``I2CDevice`` (or raises when the part is
    absent); ``on_reading(reading)`` receives each good sample.
    """

    def __init__(self, make_sensor, state, period_s, log, on_reading=None):
        self._make_sensor = make_sensor
        self._state = state
        self._period_s = period_s
        self._log = log
        self._on_reading = on_reading
        self._buf = bytearray(6)
        self._sensor = None
        self._seq = 0
        self._backoff_s = 1

    async def measure(self):
        """One measurement: (deg C, %RH)."""
        device = self._sensor
        if device is None:
            raise RuntimeError("no sensor")
        with device as i2c:
            i2c.write(_MEASURE)
        await sleep_ms(_CONVERSION_MS)
        with device as i2c:
            i2c.readinto(self._buf)
        return decode_measurement(self._buf)

    async def _connect(self):
        try:
            device = self._make_sensor()
            with device as i2c:
                i2c.write(_BREAK)
            await sleep_ms(1)
            with device as i2c:
                i2c.write(_SOFT_RESET)
            await sleep_ms(_RESET_MS)
            self._sensor = device
        except (OSError, ValueError, RuntimeError) as error:
            self._sensor = None
            if self._state.sensor_status != "no sensor":
                self._log("climate", "no sensor (%s); retrying with backoff" % error)
                self._state.sensor_status = "no sensor"
                self._state.changed()
            return False
        self._log("climate", "sensor ready")
        self._backoff_s = 1
        return True

    async def sample_once(self):
        """Take one reading, or note the failure. Returns the seconds to wait next."""
        if self._sensor is None and not await self._connect():
            wait = self._backoff_s
            self._backoff_s = min(self._backoff_s * 2, _MAX_BACKOFF_S)
            return wait
        try:
            t_c, rh = await self.measure()
        except (OSError, RuntimeError) as error:
            self._state.sensor_errors += 1
            self._log("climate", "read failed: %s" % error)
            if self._state.sensor_errors % 3 == 0:
                self._sensor = None  # start over with probe and reset
            if self._state.sensor_status != "sensor error":
                self._state.sensor_status = "sensor error"
                self._state.changed()
            return 1
        self._seq += 1
        reading = Reading(t_c, rh, ticks_ms(), self._seq, uptime_s(), heap_free())
        state = self._state
        state.reading = reading
        state.readings_taken += 1
        state.sensor_status = "ok"
        state.changed()
        if self._on_reading is not None:
            self._on_reading(reading)
        return self._period_s

    async def run(self):
        while True:
            wait_s = await self.sample_once()
            await sleep_ms(wait_s * 1000)
