"""The emulated I2C bus: busio.I2C surface, errors as CircuitPython raises them, wire time."""

import errno

import pytest

from sim.core.clock import i2c_wire_time_s
from sim.core.i2c_bus import I2CBus, I2CTarget, Nack


class Scratchpad(I2CTarget):
    """A test chip: remembers every write, answers reads from ``answer``."""

    def __init__(self, address, answer=b""):
        self.address = address
        self.answer = answer
        self.received = []
        self.refuse = False

    def write(self, data):
        if self.refuse:
            raise Nack("refused")
        self.received.append(bytes(data))

    def read(self, count):
        if self.refuse:
            raise Nack("refused")
        return self.answer[:count]


def test_try_lock_is_not_reentrant(clock):
    bus = I2CBus(clock)
    assert bus.try_lock() is True
    assert bus.try_lock() is False
    bus.unlock()
    assert bus.try_lock() is True


def test_transfer_without_lock_is_refused(clock):
    bus = I2CBus(clock)
    bus.attach(Scratchpad(0x20))
    with pytest.raises(RuntimeError, match="requires lock"):
        bus.writeto(0x20, b"\x01")
    with pytest.raises(RuntimeError):
        bus.scan()


def test_absent_address_is_enodev(bus):
    with pytest.raises(OSError) as failure:
        bus.writeto(0x50, b"\x00")
    assert failure.value.errno == errno.ENODEV == 19
    with pytest.raises(OSError) as failure:
        bus.readfrom_into(0x50, bytearray(2))
    assert failure.value.errno == errno.ENODEV
    assert [r.acked for r in bus.log] == [False, False]


def test_chip_marked_not_present_is_enodev(bus):
    chip = bus.attach(Scratchpad(0x20))
    chip.present = False
    with pytest.raises(OSError) as failure:
        bus.writeto(0x20, b"")
    assert failure.value.errno == errno.ENODEV
    assert chip.received == []


def test_data_nack_is_eio_and_address_nack_is_enodev(bus):
    """The RP2040 (pico-sdk) reports a refused address byte as PICO_ERROR_GENERIC,
    which CircuitPython raises as OSError 19 (ENODEV), the same as an empty address; a
    NACKed data byte of a write is OSError 5 (EIO)."""

    class Busy(Scratchpad):
        def ack_address(self, direction):
            raise Nack("measuring")

    chip = bus.attach(Scratchpad(0x20))
    chip.refuse = True
    with pytest.raises(OSError) as failure:
        bus.writeto(0x20, b"\x01\x02")
    assert failure.value.errno == errno.EIO
    with pytest.raises(OSError) as failure:
        bus.readfrom_into(0x20, bytearray(1))  # a read NACKs its address byte
    assert failure.value.errno == errno.ENODEV == 19
    bus.attach(Busy(0x21))
    for call in (lambda: bus.writeto(0x21, b"\x01"),
                 lambda: bus.readfrom_into(0x21, bytearray(2))):
        with pytest.raises(OSError) as failure:
            call()
        assert failure.value.errno == 19
    assert bus.nacks == 4


def test_pull_ups_come_with_the_attached_boards(clock):
    bus = I2CBus(clock)
    assert not bus.has_pull_ups()  # nothing attached
    chip = bus.attach(Scratchpad(0x20))
    assert bus.has_pull_ups()
    chip.present = False
    assert not bus.has_pull_ups()
    bus.pull_ups = True  # resistors on the badge itself
    assert bus.has_pull_ups()


def test_full_frame_write_costs_its_wire_time(bus, clock):
    bus.attach(Scratchpad(0x3C))
    bus.writeto(0x3C, bytes(1024))
    # (1 address + 1024 data bytes) x 9 clocks + start/stop, at 400 kHz
    assert clock.now() == pytest.approx(23.07e-3, abs=0.01e-3)
    assert clock.now() == pytest.approx(i2c_wire_time_s(1024, 400_000))
    assert clock.stalls.total_s["i2c"] == pytest.approx(clock.now())
    assert bus.bus_time_s == pytest.approx(clock.now())


def test_wire_time_scales_with_frequency(clock):
    bus = I2CBus(clock, frequency=100_000)
    bus.attach(Scratchpad(0x20, answer=b"\x11\x22"))
    bus.try_lock()
    bus.readfrom_into(0x20, bytearray(2))
    assert clock.now() == pytest.approx(((2 + 1) * 9 + 2) / 100_000)


def test_failed_transaction_costs_only_the_address_byte(bus, clock):
    with pytest.raises(OSError):
        bus.writeto(0x50, bytes(100))
    assert clock.now() == pytest.approx(i2c_wire_time_s(0))


def test_write_slices_with_start_end_and_buffer_keyword(bus):
    chip = bus.attach(Scratchpad(0x20))
    bus.writeto(0x20, buffer=bytearray(b"abcdef"), start=1, end=4)
    bus.writeto(0x20, b"xyz", start=1)
    assert chip.received == [b"bcd", b"yz"]


def test_read_fills_slice_and_pads_with_ff(bus):
    bus.attach(Scratchpad(0x20, answer=b"\x01\x02\x03"))
    buffer = bytearray(8)
    bus.readfrom_into(0x20, buffer, start=2, end=7)
    # the chip stops after 3 bytes; a released SDA reads as 1s
    assert buffer == bytearray(b"\x00\x00\x01\x02\x03\xff\xff\x00")
    assert bus.log[-1].data == b"\x01\x02\x03\xff\xff"


def test_write_then_read_is_two_transactions(bus):
    chip = bus.attach(Scratchpad(0x20, answer=b"\xaa\xbb"))
    into = bytearray(4)
    bus.writeto_then_readfrom(0x20, b"\x00\x10\x99", into, out_end=2, in_start=1, in_end=3)
    assert chip.received == [b"\x00\x10"]
    assert into == bytearray(b"\x00\xaa\xbb\x00")
    assert [(r.direction, r.data) for r in bus.log] == [("w", b"\x00\x10"), ("r", b"\xaa\xbb")]


def test_log_records_and_counters(bus, clock):
    bus.attach(Scratchpad(0x20, answer=b"\x42"))
    bus.writeto(0x20, b"\x01\x02")
    t_read = clock.now()
    bus.readfrom_into(0x20, bytearray(1))
    first, second = bus.log
    assert (first.time_s, first.address, first.direction, first.data, first.acked) == (
        0.0,
        0x20,
        "w",
        b"\x01\x02",
        True,
    )
    assert second.time_s == pytest.approx(t_read)
    assert (second.direction, second.data) == ("r", b"\x42")
    assert (bus.bytes_written, bus.bytes_read, bus.transactions) == (2, 1, 2)
    assert bus.records(0x21) == []


def test_log_is_bounded(clock):
    bus = I2CBus(clock, log_size=3)
    bus.attach(Scratchpad(0x20))
    bus.try_lock()
    for i in range(5):
        bus.writeto(0x20, bytes((i,)))
    assert [r.data for r in bus.log] == [b"\x02", b"\x03", b"\x04"]
    assert bus.transactions == 5


def test_scan_lists_answering_chips(bus, clock):
    bus.attach(Scratchpad(0x44))
    bus.attach(Scratchpad(0x3C))
    gone = bus.attach(Scratchpad(0x50))
    gone.present = False
    mute = bus.attach(Scratchpad(0x60))
    mute.refuse = True
    assert bus.scan() == [0x3C, 0x44]
    # 112 address-only probes, 0x08..0x77
    assert clock.now() == pytest.approx(112 * i2c_wire_time_s(0))


def test_attach_twice_at_one_address_is_an_error(bus):
    bus.attach(Scratchpad(0x20))
    with pytest.raises(ValueError):
        bus.attach(Scratchpad(0x20))
    assert bus.detach(0x20).address == 0x20
    assert bus.scan() == []


def test_general_call_reaches_chips_that_answer_it(bus):
    class Resettable(Scratchpad):
        def general_call(self, data):
            self.general = bytes(data)

    chip = bus.attach(Resettable(0x44))
    bus.attach(Scratchpad(0x3C))
    bus.writeto(0x00, b"\x06")
    assert chip.general == b"\x06"
    bus.detach(0x44)
    with pytest.raises(OSError) as failure:
        bus.writeto(0x00, b"\x06")
    assert failure.value.errno == errno.ENODEV


def test_deinit_and_context_manager_leave_the_bus_usable(clock):
    chip = Scratchpad(0x20)
    with I2CBus(clock) as bus:
        bus.attach(chip)
        assert bus.try_lock()
    assert bus.deinit_calls == 1
    assert bus.try_lock()  # deinit released the lock
    bus.writeto(0x20, b"\x01")
    assert chip.received == [b"\x01"]
