"""An emulated I2C bus with the ``busio.I2C`` surface, routing transactions to chips.

Chips are transaction-level targets (:class:`I2CTarget`): the address byte is offered
to ``ack_address``, then a write transaction hands the target all its data bytes at once
(at STOP, after their wire time) and a read asks it for ``count`` bytes (right after the
address byte; clock stretching may block inside). Each of these may refuse with
:class:`Nack`. The bus raises what CircuitPython on the RP2040 raises: ``OSError``
errno 19 (``ENODEV``) when the address byte is not acknowledged (nobody there, or a
chip that refuses it, e.g. while it measures), errno 5 (``EIO``) when a chip NACKs a
data byte of a write, ``RuntimeError("Function requires lock")`` for a transfer without
the lock. A bus with nothing attached has no pull-up resistors (``has_pull_ups``), and
``busio.I2C`` refuses it with RuntimeError.

Every transfer costs its wire time at the bus frequency, charged to the simulator's
clock as a blocking ``"i2c"`` wait: START + address 10 clocks, 9 per data byte, STOP 1
(the total of ``sim.core.clock.i2c_wire_time_s``); a refused address costs 11 clocks. A read
that asks for more bytes than the target returns gets 0xFF for the rest (SDA released,
pulled high), as on a real bus. Each transaction is logged (``log``, bounded) and
counted.
"""

import collections
import errno
import logging
import threading

from sim.core.clock import I2C_HZ

_log = logging.getLogger("sim.core.i2c_bus")

# Addresses probed by ``scan()``: 0x08-0x77 (0x00-0x07 and 0x78-0x7F are reserved).
SCAN_FIRST = 0x08
SCAN_LAST = 0x77
GENERAL_CALL = 0x00

I2CRecord = collections.namedtuple("I2CRecord", "time_s address direction data acked")
I2CRecord.__doc__ = """One transaction: start time (s), 7-bit address, "w"/"r", bytes, ACKed."""


class Nack(Exception):
    """A target refuses a transaction (NACK); the argument says why, for logs."""


class I2CTarget:
    """Base of the emulated chips: an address, a presence flag, write and read.

    ``ack_address(direction)`` ("w" or "r") may raise :class:`Nack` to refuse the
    address byte (busy, fault knob). ``write(data)`` receives the data bytes of one
    write transaction at its STOP (an address-only probe is ``write(b"")``);
    ``read(count)`` returns up to ``count`` bytes. Both may raise :class:`Nack`.
    ``present = False`` makes the chip vanish from the bus. A target that answers the
    general call (address 0x00) defines ``general_call(data)``.
    """

    address = None
    present = True

    def ack_address(self, direction):
        """Accept the address byte (return) or refuse it (raise :class:`Nack`)."""

    def write(self, data):
        raise Nack("write not supported")

    def read(self, count):
        raise Nack("read not supported")


class I2CBus:
    """``busio.I2C`` for the simulator: lock, scan, writeto, readfrom_into, logs.

    ``clock``: the simulator's clock (``now()``, ``block(seconds, kind)``);
    ``frequency``: SCL in Hz; ``log_size``: records kept in ``log``.
    """

    def __init__(self, clock, frequency=I2C_HZ, *, log_size=10000):
        self.clock = clock
        self.frequency = frequency
        self.targets = {}
        self.log = collections.deque(maxlen=log_size)
        self.taps = []  # callables(I2CRecord) told of every transaction (recordings)
        self._lock = threading.Lock()  # displayio may refresh from its own thread
        self.deinit_calls = 0
        self.bytes_written = 0
        self.bytes_read = 0
        self.transactions = 0
        self.nacks = 0
        self.bus_time_s = 0.0
        self.pull_ups = None  # None: the attached breakout boards bring them

    # -- wiring -----------------------------------------------------------------------
    def attach(self, target):
        """Connect ``target`` at ``target.address``; returns it."""
        if target.address in self.targets:
            raise ValueError("address 0x%02x already in use" % target.address)
        self.targets[target.address] = target
        return target

    def detach(self, address):
        """Disconnect the chip at ``address`` (returns it, or None)."""
        return self.targets.pop(address, None)

    def has_pull_ups(self):
        """Whether SDA and SCL are pulled up: as set in ``pull_ups``, or else while a
        chip is attached and present (each breakout board carries its own resistors)."""
        if self.pull_ups is not None:
            return bool(self.pull_ups)
        return any(target.present for target in self.targets.values())

    # -- busio.I2C surface -------------------------------------------------------------
    def try_lock(self):
        """Take the bus lock; False if it is already taken (not reentrant)."""
        return self._lock.acquire(blocking=False)

    def unlock(self):
        if self._lock.locked():
            self._lock.release()

    def deinit(self):
        """Recorded, but the bus keeps working.

        On CircuitPython, ``displayio.release_displays()`` leaves alone an I2C bus that
        the caller created (only a bus built inside the display bus is deinitialised);
        Blinka's ``I2CDisplayBus.deinit`` deinitialises it anyway. The badge's shared
        bus must survive that, so here deinit only releases the lock and counts.
        """
        self.deinit_calls += 1
        self.unlock()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.deinit()
        return False

    def scan(self):
        """Addresses 0x08-0x77 that ACK an address-only write, ascending."""
        self._check_lock()
        found = []
        for address in range(SCAN_FIRST, SCAN_LAST + 1):
            if self._probe(address):
                found.append(address)
        return found

    def writeto(self, address, buffer, *, start=0, end=None):
        """One write transaction of ``buffer[start:end]`` to ``address``."""
        self._check_lock()
        self._write(address, bytes(memoryview(buffer)[start:end]))

    def readfrom_into(self, address, buffer, *, start=0, end=None):
        """One read transaction filling ``buffer[start:end]`` from ``address``."""
        self._check_lock()
        self._read_into(address, buffer, start, end)

    def writeto_then_readfrom(
        self,
        address,
        out_buffer,
        in_buffer,
        *,
        out_start=0,
        out_end=None,
        in_start=0,
        in_end=None,
    ):
        """A write, a repeated START, then a read (the target sees two transactions)."""
        self._check_lock()
        self._write(address, bytes(memoryview(out_buffer)[out_start:out_end]))
        self._read_into(address, in_buffer, in_start, in_end)

    # -- statistics -----------------------------------------------------------------------
    def records(self, address=None):
        """The logged transactions, optionally only those to ``address``."""
        if address is None:
            return list(self.log)
        return [r for r in self.log if r.address == address]

    def clear_log(self):
        self.log.clear()

    # -- internals ----------------------------------------------------------------------
    def _check_lock(self):
        if not self._lock.locked():
            raise RuntimeError("Function requires lock")

    def _charge(self, clocks):
        seconds = clocks / self.frequency
        self.bus_time_s += seconds
        self.clock.block(seconds, "i2c")

    # A transaction = START + address byte (1 + 9 clocks), 9 clocks per data byte, STOP
    # (1 clock): the same total as sim.core.clock.i2c_wire_time_s.
    def _charge_address(self):
        self._charge(10)

    def _charge_rest(self, data_bytes):
        self._charge(data_bytes * 9 + 1)

    def _target(self, address):
        target = self.targets.get(address)
        if target is None or not target.present:
            return None
        return target

    def _record(self, t0, address, direction, data, acked):
        self.transactions += 1
        if not acked:
            self.nacks += 1
        record = I2CRecord(t0, address, direction, bytes(data), acked)
        self.log.append(record)
        for tap in self.taps:
            tap(record)

    def _no_device(self, t0, address, direction, data):
        _log.debug("0x%02x %s: no device", address, direction)
        self._charge_rest(0)
        self._record(t0, address, direction, data, False)
        raise OSError(errno.ENODEV, "No such device")

    def _nacked(self, t0, address, direction, data):
        """The address byte was refused: the RP2040 cannot tell that from an empty bus."""
        _log.debug("0x%02x %s: NACK", address, direction)
        self._charge_rest(0)
        self._record(t0, address, direction, data, False)
        raise OSError(errno.ENODEV, "No such device")

    def _probe(self, address):
        t0 = self.clock.now()
        self._charge_address()
        target = self._target(address)
        acked = False
        if target is not None:
            try:
                target.ack_address("w")
                acked = True
            except Nack:
                pass
        self._charge_rest(0)
        if acked:
            try:
                target.write(b"")
            except Nack:
                acked = False
        self._record(t0, address, "w", b"", acked)
        return acked

    def _write(self, address, data):
        t0 = self.clock.now()
        self._charge_address()
        if address == GENERAL_CALL:
            self._general_call(t0, data)
            return
        target = self._target(address)
        if target is None:
            self._no_device(t0, address, "w", data)
        try:
            target.ack_address("w")
        except Nack:
            self._nacked(t0, address, "w", data)
        self._charge_rest(len(data))
        try:
            target.write(data)
        except Nack:
            self._record(t0, address, "w", data, False)
            raise OSError(errno.EIO, "Input/output error") from None
        self.bytes_written += len(data)
        self._record(t0, address, "w", data, True)

    def _general_call(self, t0, data):
        self._charge_rest(len(data))
        answered = False
        for target in list(self.targets.values()):
            handler = getattr(target, "general_call", None)
            if handler is None or not target.present:
                continue
            try:
                handler(data)
                answered = True
            except Nack:
                pass
        if not answered:
            self._record(t0, GENERAL_CALL, "w", data, False)
            raise OSError(errno.ENODEV, "No such device")
        self.bytes_written += len(data)
        self._record(t0, GENERAL_CALL, "w", data, True)

    def _read_into(self, address, buffer, start, end):
        view = memoryview(buffer)[start:end]
        count = len(view)
        t0 = self.clock.now()
        self._charge_address()
        target = self._target(address)
        if target is None:
            self._no_device(t0, address, "r", b"")
        try:
            target.ack_address("r")
            answer = bytes(target.read(count))[:count]
        except Nack:
            self._nacked(t0, address, "r", b"")
        data = answer + b"\xff" * (count - len(answer))
        view[:] = data
        self._charge_rest(count)
        self.bytes_read += count
        self._record(t0, address, "r", data, True)
