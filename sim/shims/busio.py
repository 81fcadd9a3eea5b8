"""CircuitPython ``busio`` on the simulator: I2C and UART wired to emulated chips.

The objects returned here are the badge's view of buses that the simulator's World
owns. ``SPI`` exists because blinka_displayio refers to ``busio.SPI`` at import time;
the badge has no SPI parts.
"""

from sim import world as _world
from sim.clock import uart_wire_time_s


def _pin_name(pin):
    return getattr(pin, "name", str(pin))


class I2C:
    """``busio.I2C(scl, sda, *, frequency=100000, timeout=255)``."""

    def __init__(self, scl, sda, *, frequency=100_000, timeout=255):
        world = _world.current()
        key = (_pin_name(scl), _pin_name(sda))
        bus = world.i2c_buses.get(key)
        if bus is None:
            raise ValueError("no I2C bus wired to SCL=%s SDA=%s" % key)
        for name in key:
            pin = world.pin(name)
            if pin.claimed:
                raise ValueError("%s in use" % name)
            pin.claimed = True
        self._pins = key
        self._bus = bus
        bus.frequency = frequency
        self._deinited = False

    def _live(self):
        if self._deinited:
            raise ValueError("Object has been deinitialized and can no longer be used.")
        return self._bus

    def try_lock(self):
        return self._live().try_lock()

    def unlock(self):
        self._live().unlock()

    def scan(self):
        return self._live().scan()

    def writeto(self, address, buffer, *, start=0, end=None):
        self._live().writeto(address, buffer, start=start, end=end)

    def readfrom_into(self, address, buffer, *, start=0, end=None):
        self._live().readfrom_into(address, buffer, start=start, end=end)

    def writeto_then_readfrom(self, address, out_buffer, in_buffer, *, out_start=0,
                              out_end=None, in_start=0, in_end=None):
        self._live().writeto_then_readfrom(
            address, out_buffer, in_buffer, out_start=out_start, out_end=out_end,
            in_start=in_start, in_end=in_end)

    def deinit(self):
        if not self._deinited:
            world = _world.current()
            for name in self._pins:
                world.pin(name).claimed = False
            self._deinited = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()


class UART:
    """``busio.UART`` over the simulator's serial link.

    As on the RP2040: ``write`` returns once all but the last 32 bytes (the hardware
    FIFO) are on the wire, so it blocks the loop for their wire time; ``read(n)``
    waits up to ``timeout`` seconds for n bytes; received bytes beyond
    ``receiver_buffer_size`` are lost. A baud rate that differs from the link's
    garbles every byte, as on real hardware.
    """

    _FIFO = 32

    class Parity:
        ODD = "ODD"
        EVEN = "EVEN"

    def __init__(self, tx=None, rx=None, *, rts=None, cts=None, rs485_dir=None,
                 rs485_invert=False, baudrate=9600, bits=8, parity=None, stop=1,
                 timeout=1, receiver_buffer_size=64):
        world = _world.current()
        key = (_pin_name(tx), _pin_name(rx))
        end = world.uarts.get(key)
        if end is None:
            raise ValueError("no UART wired to TX=%s RX=%s" % key)
        self._world = world
        self._end = end
        self.baudrate = baudrate
        self.timeout = timeout
        self._capacity = receiver_buffer_size
        self._buffer = bytearray()
        self.overrun_bytes = 0
        self._deinited = False

    def _garbled(self):
        return self.baudrate != self._end._link.baud

    def _pull(self):
        """Move arrived bytes into the receive ring buffer, dropping overflow."""
        data = self._end.read()
        if not data:
            return
        if self._garbled():
            data = bytes(b ^ 0x55 for b in data)
        room = self._capacity - len(self._buffer)
        if len(data) > room:
            self.overrun_bytes += len(data) - max(room, 0)
            data = data[:max(room, 0)]
        self._buffer += data

    @property
    def in_waiting(self):
        self._pull()
        return len(self._buffer)

    def _wait_for(self, nbytes):
        """Block (on the simulator's clock) until nbytes are buffered or timeout."""
        clock = self._world.clock
        waited = 0.0
        self._pull()
        while len(self._buffer) < nbytes and waited < self.timeout:
            due = self._end.next_arrival_s()
            step = self.timeout - waited
            if due is not None:
                step = min(step, max(due - clock.now(), 1e-6))
            clock.block(step, "uart")
            waited += step
            self._pull()

    def read(self, nbytes=None):
        if nbytes is None:
            self._wait_for(1)
            nbytes = len(self._buffer)
        else:
            self._wait_for(nbytes)
        if not self._buffer:
            return None
        out = bytes(self._buffer[:nbytes])
        del self._buffer[:nbytes]
        return out

    def readinto(self, buf):
        data = self.read(len(buf))
        if not data:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        self._pull()
        clock = self._world.clock
        waited = 0.0
        while b"\n" not in self._buffer and waited < self.timeout:
            step = min(self.timeout - waited, 0.001)
            clock.block(step, "uart")
            waited += step
            self._pull()
        idx = self._buffer.find(b"\n")
        if idx < 0:
            return self.read(len(self._buffer)) if self._buffer else None
        return self.read(idx + 1)

    def write(self, buf):
        data = bytes(buf)
        if self._garbled():
            data = bytes(b ^ 0x55 for b in data)
        self._end.write(data)
        # The call returns once the FIFO holds the tail of everything queued.
        clock = self._world.clock
        fifo_s = uart_wire_time_s(self._FIFO, self._end._link.baud)
        clock.block(self._end.tx_idle_at_s() - fifo_s - clock.now(), "uart")
        return len(buf)

    def reset_input_buffer(self):
        self._pull()
        self._buffer = bytearray()
        self._end.reset_input_buffer()

    def deinit(self):
        self._deinited = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()


class SPI:
    """Present for blinka_displayio's import; no SPI parts are on the badge."""

    def __init__(self, clock, MOSI=None, MISO=None, half_duplex=False):
        raise ValueError("the simulated badge has no SPI bus")
