"""Emulated Sensirion SHT3x-DIS (SHT31-D) temperature and humidity sensor on I2C.

Written from Sensirion's SHT3x-DIS datasheet. Readings are set in
physical units (``temperature_c``, ``humidity_rh``) and encoded with the datasheet's
inverse formulas. Time comes from the simulator's clock. Modelling choices where the
datasheet is silent:

- Conversions take the datasheet's maximum durations (VDD >= 2.4 V): high 15 ms,
  medium 6 ms, low 4 ms. A measurement samples the set values when it is commanded
  (single shot) or fetched (periodic).
- Single shot without stretching: a read before the result is ready is NACKed; with
  stretching, the read holds the clock (``clock.block(remaining, "i2c")``) then answers.
  A result, status word or serial number can be read once; reading again NACKs. A new
  command discards an unread single-shot result.
- Periodic / ART: the first result is ready one conversion time after the command, then
  one per period; an unread result is overwritten (latest wins). Fetch (E000) moves it
  to the output and clears it; with nothing new the next read NACKs.
- In periodic mode every command but fetch and break is ignored and sets status bit 1.
- Soft reset (30A2, idle only) and the general call reset (address 0x00, byte 06) NACK
  everything for tSR = 1.5 ms, then the part is as after power-up: status 0x8010,
  heater off, single-shot idle. Break (3093) takes effect at once.
- Unknown commands and commands of a wrong length are ACKed, logged, and set status
  bit 1; bit 1 and bit 0 describe the last command other than "read status".
- The heater adds ``heater_rise_c`` (3 degC) to the reported temperature.
- Commands closer than 1 ms are NACKed only when ``enforce_command_spacing`` is set.
"""

import logging

from sim.chips.crc8 import word_with_crc
from sim.core.i2c_bus import I2CTarget, Nack

_log = logging.getLogger("sim.chips.sht31d")

ADDRESSES = (0x44, 0x45)

HIGH = "high"
MEDIUM = "medium"
LOW = "low"

# Maximum conversion times (s) at VDD 2.4-5.5 V.
CONVERSION_S = {HIGH: 0.015, MEDIUM: 0.006, LOW: 0.004}
POWER_UP_S = 0.001  # tPU max
SOFT_RESET_S = 0.0015  # tSR max
COMMAND_SPACING_S = 0.001

# single shot: command -> (repeatability, clock stretching)
SINGLE_SHOT = {
    0x2C06: (HIGH, True),
    0x2C0D: (MEDIUM, True),
    0x2C10: (LOW, True),
    0x2400: (HIGH, False),
    0x240B: (MEDIUM, False),
    0x2416: (LOW, False),
}

# periodic: command -> (repeatability, measurements per second)
PERIODIC = {
    0x2032: (HIGH, 0.5),
    0x2024: (MEDIUM, 0.5),
    0x202F: (LOW, 0.5),
    0x2130: (HIGH, 1),
    0x2126: (MEDIUM, 1),
    0x212D: (LOW, 1),
    0x2236: (HIGH, 2),
    0x2220: (MEDIUM, 2),
    0x222B: (LOW, 2),
    0x2334: (HIGH, 4),
    0x2322: (MEDIUM, 4),
    0x2329: (LOW, 4),
    0x2737: (HIGH, 10),
    0x2721: (MEDIUM, 10),
    0x272A: (LOW, 10),
    0x2B32: (HIGH, 4),  # ART: accelerated response time, 4 Hz
}

FETCH = 0xE000
BREAK = 0x3093
SOFT_RESET = 0x30A2
HEATER_ON = 0x306D
HEATER_OFF = 0x3066
READ_STATUS = 0xF32D
CLEAR_STATUS = 0x3041
SERIAL_STRETCH = 0x3780
SERIAL_NO_STRETCH = 0x3682
GENERAL_CALL_RESET = 0x06

STATUS_ALERT = 0x8000
STATUS_HEATER = 0x2000
STATUS_RH_ALERT = 0x0800
STATUS_T_ALERT = 0x0400
STATUS_RESET = 0x0010
STATUS_COMMAND_FAILED = 0x0002
STATUS_WRITE_CRC_FAILED = 0x0001
STATUS_AFTER_RESET = STATUS_ALERT | STATUS_RESET  # 0x8010
_STATUS_CLEARED_BY_3041 = STATUS_ALERT | STATUS_RH_ALERT | STATUS_T_ALERT | STATUS_RESET

_EPSILON_S = 1e-9


def encode_temperature(celsius):
    """Raw S_T for ``celsius``: round((T + 45) * 65535 / 175), clamped to 16 bits."""
    return _clamp16((celsius + 45.0) * 65535.0 / 175.0)


def encode_humidity(percent):
    """Raw S_RH for ``percent`` relative humidity: round(RH * 65535 / 100), clamped."""
    return _clamp16(percent * 65535.0 / 100.0)


def decode_temperature(raw):
    return -45.0 + 175.0 * raw / 65535.0


def decode_humidity(raw):
    return 100.0 * raw / 65535.0


def _clamp16(value):
    return max(0, min(0xFFFF, int(value + 0.5)))


class SHT31D(I2CTarget):
    """The sensor at ``address`` (0x44, or 0x45 with ADDR high) on ``clock``.

    ``power_up_s``: NACK window after creation (tPU; 0 = already powered when the
    simulation starts). Fault knobs: ``present``, ``nack`` (NACK everything),
    ``bad_crc`` (corrupt the CRC bytes of measurement results),
    ``enforce_command_spacing`` (NACK commands closer than 1 ms).
    ``measurements`` counts conversions performed (single shots when commanded,
    periodic ones as they complete, read or not).
    """

    def __init__(self, clock, address=0x44, *, power_up_s=0.0, serial_number=0x1A2B3C4D):
        if address not in ADDRESSES:
            raise ValueError("SHT31-D address must be 0x44 or 0x45")
        self.clock = clock
        self.address = address
        self.present = True
        self.nack = False
        self.bad_crc = False
        self.enforce_command_spacing = False
        self.serial_number = serial_number
        self.temperature_c = 25.0
        self.humidity_rh = 50.0
        self.heater_rise_c = 3.0
        self._conversions = 0
        self._periodic = None
        self._last_command_s = None
        self._restart(clock.now() + power_up_s if power_up_s > 0 else None)

    # -- physical values ----------------------------------------------------------------
    @property
    def raw_temperature(self):
        """S_T the sensor reports now (the heater's rise included)."""
        rise = self.heater_rise_c if self.heater else 0.0
        return encode_temperature(self.temperature_c + rise)

    @property
    def raw_humidity(self):
        return encode_humidity(self.humidity_rh)

    @property
    def heater(self):
        """Heater state (status bit 13); set it with the 306D / 3066 commands."""
        return bool(self.status & STATUS_HEATER)

    @property
    def measurements(self):
        """Conversions performed so far (periodic ones counted as they complete)."""
        running = self._results_done(self.clock.now()) if self._periodic else 0
        return self._conversions + running

    @property
    def periodic(self):
        """True while a periodic (or ART) acquisition runs."""
        return self._periodic is not None

    # -- power and resets -----------------------------------------------------------------
    def power_cycle(self, power_up_s=POWER_UP_S):
        """Power off and on: state as after power-up, NACK for ``power_up_s``."""
        self._restart(self.clock.now() + power_up_s)

    def _restart(self, busy_until):
        self._stop_periodic()
        self.status = STATUS_AFTER_RESET
        self._busy_until = busy_until
        self._periodic = None  # [start_s, period_s, conversion_s, results_fetched]
        self._single = None  # (ready_s, stretch, word pair)
        self._output = None  # bytes for the next read

    def general_call(self, data):
        """General call (address 0x00): ``06`` resets the sensor like a soft reset."""
        self.ack_address("w")
        if data == bytes((GENERAL_CALL_RESET,)):
            self._restart(self.clock.now() + SOFT_RESET_S)
        elif data:
            _log.warning("general call %s ignored", data.hex())

    # -- I2C target -----------------------------------------------------------------------
    def ack_address(self, direction):
        if self.nack:
            raise Nack("SHT31-D nack knob")
        if self._is_busy():
            raise Nack("SHT31-D starting up or resetting")
        if (
            direction == "w"
            and self.enforce_command_spacing
            and self._last_command_s is not None
            and self.clock.now() - self._last_command_s < COMMAND_SPACING_S - _EPSILON_S
        ):
            raise Nack("SHT31-D command too early")

    def write(self, data):
        if not data:
            return  # address-only probe
        now = self.clock.now()
        self._last_command_s = now
        if len(data) != 2:
            _log.warning("command of %d bytes (%s) ignored", len(data), bytes(data).hex())
            self._command_failed()
            return
        command = (data[0] << 8) | data[1]
        self._command(command, now)

    def read(self, count):
        now = self.clock.now()
        if self._single is not None:
            ready_s, stretch, words = self._single
            if now < ready_s - _EPSILON_S:
                if not stretch:
                    raise Nack("SHT31-D measuring")
                self.clock.block(ready_s - now, "i2c")
            self._single = None
            self._output = self._measurement_bytes(words)
        if self._output is None:
            raise Nack("SHT31-D has no data")
        answer, self._output = self._output, None
        return answer[:count]

    # -- commands -------------------------------------------------------------------------
    def _command(self, command, now):
        if self._periodic is not None and command not in (FETCH, BREAK):
            _log.warning("command 0x%04x ignored in periodic mode", command)
            self._command_failed()
            return
        self._output = None
        if self._single is not None and command not in SINGLE_SHOT:
            _log.warning("command 0x%04x discards an unread single shot", command)
            self._single = None
        if command == READ_STATUS:
            self._output = word_with_crc(self.status)
            return
        self.status &= ~(STATUS_COMMAND_FAILED | STATUS_WRITE_CRC_FAILED)
        if command in SINGLE_SHOT:
            repeatability, stretch = SINGLE_SHOT[command]
            if self._single is not None:
                _log.warning("single shot 0x%04x replaces an unread one", command)
            words = (self.raw_temperature, self.raw_humidity)
            self._single = (now + CONVERSION_S[repeatability], stretch, words)
            self._conversions += 1
        elif command in PERIODIC:
            repeatability, rate = PERIODIC[command]
            self._single = None
            self._periodic = [now, 1.0 / rate, CONVERSION_S[repeatability], 0]
        elif command == FETCH:
            self._fetch(now)
        elif command == BREAK:
            self._stop_periodic()
        elif command == SOFT_RESET:
            self._restart(now + SOFT_RESET_S)
        elif command == HEATER_ON:
            self.status |= STATUS_HEATER
        elif command == HEATER_OFF:
            self.status &= ~STATUS_HEATER
        elif command == CLEAR_STATUS:
            self.status &= ~_STATUS_CLEARED_BY_3041
        elif command in (SERIAL_STRETCH, SERIAL_NO_STRETCH):
            serial = self.serial_number & 0xFFFFFFFF
            self._output = word_with_crc(serial >> 16) + word_with_crc(serial & 0xFFFF)
        else:
            _log.warning("unknown command 0x%04x ignored", command)
            self._command_failed()

    def _command_failed(self):
        self.status |= STATUS_COMMAND_FAILED

    def _is_busy(self):
        if self._busy_until is None:
            return False
        if self.clock.now() < self._busy_until - _EPSILON_S:
            return True
        self._busy_until = None
        return False

    # -- periodic acquisition ----------------------------------------------------------------
    def _results_done(self, now):
        """Conversions completed by ``now`` since the periodic command."""
        start_s, period_s, conversion_s, _ = self._periodic
        elapsed = now - start_s - conversion_s
        if elapsed < -_EPSILON_S:
            return 0
        return int((elapsed + _EPSILON_S) // period_s) + 1

    def _fetch(self, now):
        if self._periodic is None:
            _log.warning("fetch outside periodic mode: no data")
            return
        done = self._results_done(now)
        if done > self._periodic[3]:
            self._periodic[3] = done
            words = (self.raw_temperature, self.raw_humidity)
            self._output = self._measurement_bytes(words)

    def _stop_periodic(self):
        if self._periodic is not None:
            self._conversions += self._results_done(self.clock.now())
        self._periodic = None

    def _measurement_bytes(self, words):
        data = bytearray(word_with_crc(words[0]) + word_with_crc(words[1]))
        if self.bad_crc:
            data[2] ^= 0xFF
            data[5] ^= 0xFF
        return bytes(data)
