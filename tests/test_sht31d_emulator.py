"""The SHT31-D emulator against the datasheet (Sensirion SHT3x-DIS): commands, timing, CRC."""

import errno
import logging

import pytest

from sim.chips.crc8 import crc8
from sim.chips.sht31d import SHT31D, decode_humidity, encode_humidity, encode_temperature

ADDR = 0x44


@pytest.fixture
def sensor(bus, clock):
    sensor = bus.attach(SHT31D(clock))
    sensor.temperature_c = 25.0
    sensor.humidity_rh = 50.0
    return sensor


def command(bus, code):
    bus.writeto(ADDR, bytes((code >> 8, code & 0xFF)))


def read(bus, count=6):
    buffer = bytearray(count)
    bus.readfrom_into(ADDR, buffer)
    return bytes(buffer)


def nacked(action, *args):
    """The errno of the OSError that ``action(*args)`` raises (19, ENODEV, for every
    refused address byte: the RP2040 cannot tell a busy chip from an absent one)."""
    with pytest.raises(OSError) as failure:
        action(*args)
    return failure.value.errno


# 25.0 degC -> 0x6666, CRC 0x93; 50 %RH -> 0x8000, CRC 0xA2 (datasheet formulas, CRC-8)
RESULT_25C_50RH = bytes.fromhex("666693 8000a2")


@pytest.mark.parametrize(
    "word, crc",
    [
        ("BEEF", 0x92),
        ("0000", 0x81),
        ("6666", 0x93),
        ("8000", 0xA2),
        ("8010", 0xE1),
        ("FFFF", 0xAC),
    ],
)
def test_crc8_vectors(word, crc):
    assert crc8(bytes.fromhex(word)) == crc


def test_encoding_examples():
    assert encode_temperature(25.0) == 0x6666
    assert encode_humidity(50.0) == 0x8000
    assert encode_humidity(38.0) == 0x6147
    assert decode_humidity(0x6147) == pytest.approx(37.9995, abs=1e-4)
    assert encode_temperature(-45.0) == 0 and encode_temperature(130.0) == 0xFFFF
    assert encode_temperature(200.0) == 0xFFFF and encode_humidity(-5.0) == 0


@pytest.mark.parametrize("code, max_s", [(0x2400, 0.015), (0x240B, 0.006), (0x2416, 0.004)])
def test_single_shot_nacks_until_ready(bus, clock, sensor, code, max_s):
    command(bus, code)
    assert nacked(read, bus) == errno.ENODEV
    clock.advance(max_s - 0.0002)
    assert nacked(read, bus) == errno.ENODEV
    clock.advance(0.0002)
    assert read(bus) == RESULT_25C_50RH
    assert nacked(read, bus) == errno.ENODEV  # the result is read once


def test_single_shot_with_clock_stretching_holds_the_bus(bus, clock, sensor):
    command(bus, 0x2C06)
    t_command = clock.now()
    assert read(bus) == RESULT_25C_50RH
    assert clock.now() >= t_command + 0.015
    assert clock.stalls.total_s["i2c"] >= 0.015
    command(bus, 0x2C10)  # low repeatability: 4 ms
    t_command = clock.now()
    read(bus)
    assert clock.now() == pytest.approx(t_command + 0.004 + 6 * 9 / 400_000, abs=2e-5)


def test_master_may_read_fewer_bytes(bus, clock, sensor):
    sensor.humidity_rh = 38.0
    command(bus, 0x2C06)
    assert read(bus, 2) == b"\x66\x66"
    command(bus, 0x2C06)
    full = read(bus, 6)
    assert full[3:5] == b"\x61\x47" and full[5] == crc8(b"\x61\x47")


def test_measurement_samples_the_set_values(bus, clock, sensor):
    sensor.temperature_c = -10.0
    sensor.humidity_rh = 100.0
    command(bus, 0x2C06)
    data = read(bus)
    t_raw = (data[0] << 8) | data[1]
    assert -45 + 175 * t_raw / 65535 == pytest.approx(-10.0, abs=0.002)
    assert data[3:5] == b"\xff\xff"
    assert sensor.measurements == 1


H, M, L = 0.015, 0.006, 0.004  # maximum conversion times (s), VDD >= 2.4 V

# command -> (measurements per second, conversion time)
PERIODIC = {
    0x2032: (0.5, H), 0x2024: (0.5, M), 0x202F: (0.5, L),
    0x2130: (1, H), 0x2126: (1, M), 0x212D: (1, L),
    0x2236: (2, H), 0x2220: (2, M), 0x222B: (2, L),
    0x2334: (4, H), 0x2322: (4, M), 0x2329: (4, L),
    0x2737: (10, H), 0x2721: (10, M), 0x272A: (10, L),
    0x2B32: (4, H),  # ART
}  # fmt: skip


def fetch(bus):
    command(bus, 0xE000)
    return read(bus)


@pytest.mark.parametrize("code, rate, t_meas", [(c, r, t) for c, (r, t) in PERIODIC.items()])
def test_periodic_rates_fetch_and_second_fetch(bus, clock, sensor, code, rate, t_meas):
    command(bus, code)
    t0 = clock.now()
    assert sensor.periodic
    clock.advance_to(t0 + t_meas - 0.0002)
    assert nacked(fetch, bus) == errno.ENODEV  # nothing measured yet
    clock.advance_to(t0 + t_meas)
    assert fetch(bus) == RESULT_25C_50RH  # the first result, one conversion time later
    assert nacked(fetch, bus) == errno.ENODEV  # fetch cleared it
    clock.advance_to(t0 + t_meas + 1 / rate - 0.0002)
    assert nacked(fetch, bus) == errno.ENODEV  # the next one is not due yet
    clock.advance_to(t0 + t_meas + 1 / rate)
    assert fetch(bus) == RESULT_25C_50RH


def test_periodic_latest_result_wins(bus, clock, sensor):
    command(bus, 0x2130)  # 1 measurement per second
    clock.advance(3.1)
    assert sensor.measurements == 4  # at 0.015, 1.015, 2.015, 3.015 s
    sensor.temperature_c = 30.0
    command(bus, 0xE000)
    data = read(bus)
    assert (data[0] << 8) | data[1] == encode_temperature(30.0)
    command(bus, 0xE000)
    assert nacked(read, bus) == errno.ENODEV


def test_read_without_fetch_nacks(bus, clock, sensor):
    command(bus, 0x2334)
    clock.advance(1.0)
    assert nacked(read, bus) == errno.ENODEV


def test_break_stops_periodic_mode(bus, clock, sensor):
    command(bus, 0x2737)
    clock.advance(0.5)
    command(bus, 0x3093)
    assert not sensor.periodic
    done = sensor.measurements
    clock.advance(1.0)
    assert sensor.measurements == done
    command(bus, 0xE000)
    assert nacked(read, bus) == errno.ENODEV
    command(bus, 0x2C06)  # single shot works again
    assert read(bus) == RESULT_25C_50RH


def test_other_commands_in_periodic_mode_are_ignored(bus, clock, sensor):
    command(bus, 0x2130)
    command(bus, 0x306D)  # heater on: ignored
    assert sensor.status & 0x0002
    command(bus, 0x3093)
    assert not sensor.heater
    command(bus, 0xF32D)
    assert read(bus, 3)[:2] == b"\x80\x10"  # break succeeded: bit 1 clear again


def test_soft_reset_nacks_for_tsr(bus, clock, sensor):
    command(bus, 0x306D)
    command(bus, 0x3041)
    command(bus, 0x30A2)
    assert nacked(bus.writeto, ADDR, b"") == errno.ENODEV
    assert nacked(read, bus) == errno.ENODEV
    clock.advance(0.0014)
    assert nacked(command, bus, 0xF32D) == errno.ENODEV
    clock.advance(0.0001)
    command(bus, 0xF32D)
    assert read(bus, 3) == bytes.fromhex("8010e1")  # heater off, reset bit set again


def test_general_call_reset(bus, clock, sensor):
    command(bus, 0x306D)
    bus.writeto(0x00, b"\x06")
    assert nacked(command, bus, 0xF32D) == errno.ENODEV
    clock.advance(0.0015)
    assert not sensor.heater and sensor.status == 0x8010


def test_status_after_power_up_and_clear(bus, sensor):
    command(bus, 0xF32D)
    assert read(bus, 3) == bytes.fromhex("8010e1")
    command(bus, 0x3041)
    command(bus, 0xF32D)
    assert read(bus, 3) == bytes.fromhex("000081")


def test_heater_bit_13_and_temperature_rise(bus, clock, sensor):
    command(bus, 0x306D)
    command(bus, 0xF32D)
    status = read(bus, 3)
    assert status[:2] == b"\xa0\x10" and status[2] == crc8(b"\xa0\x10")
    command(bus, 0x2C06)
    data = read(bus)
    assert (data[0] << 8) | data[1] == encode_temperature(25.0 + sensor.heater_rise_c)
    assert 1.0 <= sensor.heater_rise_c <= 10.0
    command(bus, 0x3066)
    command(bus, 0xF32D)
    assert read(bus, 2) == b"\x80\x10"


@pytest.mark.parametrize("code", [0x3780, 0x3682])
def test_serial_number(bus, clock, code):
    sensor = bus.attach(SHT31D(clock, serial_number=0x12345678))
    command(bus, code)
    data = read(bus)
    assert data == b"\x12\x34" + bytes((crc8(b"\x12\x34"),)) + b"\x56\x78" + bytes(
        (crc8(b"\x56\x78"),)
    )
    sensor.serial_number = 0xBEEF0000
    command(bus, code)
    assert read(bus)[:3] == bytes.fromhex("beef92")


def test_bad_length_and_unknown_commands_set_status_bit_1(bus, sensor, caplog):
    with caplog.at_level(logging.WARNING, logger="sim.chips.sht31d"):
        bus.writeto(ADDR, b"\x30")  # ACKed, but not a command
        assert sensor.status == 0x8012
        command(bus, 0x3041)  # a good command clears bit 1 (and the alert/reset bits)
        assert sensor.status == 0x0000
        command(bus, 0xE11F)  # alert-limit command: not modelled
    assert sensor.status == 0x0002
    command(bus, 0xF32D)
    assert read(bus, 3)[:2] == b"\x00\x02"
    assert {r.name for r in caplog.records} == {"sim.chips.sht31d"}


def test_power_up_time(bus, clock):
    sensor = bus.attach(SHT31D(clock, power_up_s=0.001))
    assert nacked(bus.writeto, ADDR, b"") == errno.ENODEV
    clock.advance_to(0.001)
    bus.writeto(ADDR, b"")  # tPU over: ACKed
    sensor.power_cycle()
    assert nacked(bus.writeto, ADDR, b"") == errno.ENODEV


def test_fault_knobs(bus, clock, sensor):
    sensor.bad_crc = True
    command(bus, 0x2C06)
    data = read(bus)
    assert data[:2] == b"\x66\x66" and data[2] != 0x93 and data[5] != 0xA2
    sensor.bad_crc = False
    sensor.nack = True
    assert nacked(command, bus, 0x2C06) == errno.ENODEV
    sensor.nack = False
    sensor.present = False
    assert nacked(command, bus, 0x2C06) == errno.ENODEV
    sensor.present = True
    sensor.enforce_command_spacing = True
    command(bus, 0x2C06)
    assert nacked(command, bus, 0x3066) == errno.ENODEV
    clock.advance(0.001)
    command(bus, 0x3066)


def test_second_address(bus, clock):
    bus.attach(SHT31D(clock, address=0x45))
    assert bus.scan() == [0x45]
    with pytest.raises(ValueError):
        SHT31D(clock, address=0x46)


def test_read_returns_the_answer_of_the_last_command(bus, clock, sensor):
    command(bus, 0x2400)
    command(bus, 0xF32D)  # a status read discards the pending single shot
    clock.advance(0.02)
    assert read(bus, 3) == bytes.fromhex("8010e1")
    assert nacked(read, bus) == errno.ENODEV
