"""I2C0's chips, answering the RP2040's transactions at their emulated time.

The chips are the simulator's own :class:`~sim.core.i2c_bus.I2CTarget` objects, the same ones
the CPython engine uses: the address byte is offered to ``ack_address``; a write hands
the chip its data bytes at the transaction's end; a read asks the chip for its answer
right after the address byte. Wire time is paid on the RP2040's side (the Node host
completes each byte after its SCL periods); time a chip spends stretching the clock
(``clock.block`` inside ``read``) is returned as ``busy_ns`` and added there.
"""

import collections

from sim.core.i2c_bus import GENERAL_CALL, I2CRecord, Nack


class I2CRouter:
    """Chips by 7-bit address; ``log`` keeps the last ``log_size`` transactions."""

    def __init__(self, clock, *, log_size=10000):
        self.clock = clock
        self.targets = {}
        self.log = collections.deque(maxlen=log_size)
        self.taps = []  # callables(I2CRecord) told of every transaction (recordings)
        self.transactions = 0
        self.nacks = 0

    def attach(self, target):
        if target.address in self.targets:
            raise ValueError("address 0x%02x already in use" % target.address)
        self.targets[target.address] = target
        return target

    def _target(self, address):
        target = self.targets.get(address)
        return target if target is not None and target.present else None

    def _record(self, t0, address, direction, data, acked):
        self.transactions += 1
        if not acked:
            self.nacks += 1
        record = I2CRecord(t0, address, direction, bytes(data), acked)
        self.log.append(record)
        for tap in self.taps:
            tap(record)

    def address(self, address, direction, read_ahead):
        """The address byte: {"ack": bool, "data": hex (reads), "busy": ns}."""
        t0 = self.clock.now()
        start_ns = self.clock.now_ns()
        if address == GENERAL_CALL and direction == "w":
            answered = any(hasattr(t, "general_call") and t.present
                           for t in self.targets.values())
            return {"ack": answered, "busy": 0}
        target = self._target(address)
        acked = False
        data = b""
        if target is not None:
            try:
                target.ack_address(direction)
                acked = True
                if direction == "r":
                    data = bytes(target.read(read_ahead))[:read_ahead] if read_ahead else b""
            except Nack:
                acked = False
        if direction == "r" or not acked:
            self._record(t0, address, direction, data, acked)
        return {"ack": acked, "data": data.hex(), "busy": self.clock.now_ns() - start_ns}

    def write(self, address, data):
        """A write transaction's data bytes, at its end: {"ack": bool}."""
        t0 = self.clock.now()
        if address == GENERAL_CALL:
            acked = False
            for target in list(self.targets.values()):
                handler = getattr(target, "general_call", None)
                if handler is not None and target.present:
                    try:
                        handler(data)
                        acked = True
                    except Nack:
                        pass
            self._record(t0, address, "w", data, acked)
            return {"ack": acked}
        target = self._target(address)
        acked = target is not None
        if target is not None:
            try:
                target.write(bytes(data))
            except Nack:
                acked = False
        self._record(t0, address, "w", data, acked)
        return {"ack": acked}

    def records(self, address=None):
        if address is None:
            return list(self.log)
        return [r for r in self.log if r.address == address]
