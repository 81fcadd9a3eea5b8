"""CircuitPython ``busio`` on the simulator: I2C and UART wired to emulated chips.

The objects returned here are the badge's view of buses that the simulator's World
owns. ``SPI`` exists because blinka_displayio refers to ``busio.SPI`` at import time;
the badge has no SPI parts. Arguments are checked as CircuitPython 9/10 on the RP2040
checks them, with the same exception types.
"""

from sim.engines.cpython import world as _world
from sim.core.clock import uart_wire_time_s
from sim.core.loop import ONE_TURN

_DEINITED = "Object has been deinitialized and can no longer be used."


def _claim_pins(world, names):
    for name in names:
        if world.pin(name).claimed:
            raise ValueError("%s in use" % name)
    for name in names:
        world.pin(name).claimed = True


def _pin_name(pin):
    return getattr(pin, "name", str(pin))


class I2C:
    """``busio.I2C(scl, sda, *, frequency=100000, timeout=255)``.

    As on the RP2040: pins already in use raise ValueError; a bus without pull-up
    resistors on SDA and SCL (nothing attached) raises RuntimeError; more than 1 MHz
    raises ValueError.
    """

    def __init__(self, scl, sda, *, frequency=100_000, timeout=255):
        world = _world.current()
        key = (_pin_name(scl), _pin_name(sda))
        bus = world.i2c_buses.get(key)
        if bus is None:
            raise ValueError("no I2C bus wired to SCL=%s SDA=%s" % key)
        for name in key:
            if world.pin(name).claimed:
                raise ValueError("%s in use" % name)
        if frequency > 1_000_000:
            raise ValueError("frequency must be <= 1000000")
        if not bus.has_pull_ups():
            raise RuntimeError("No pull up found on SDA or SCL; check your wiring")
        _claim_pins(world, key)
        self._pins = key
        self._bus = bus
        bus.frequency = frequency
        self._deinited = False
        world.claim(self)

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
            world.release(self)
            self._deinited = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()


class UART:
    """``busio.UART`` over the simulator's serial link.

    As on the RP2040 (``ports/raspberrypi/common-hal/busio/UART.c``):

    - ``write`` returns once all but the last 32 bytes (the hardware FIFO) are on the
      wire, so it blocks the loop for their wire time;
    - ``read(n)`` returns what the receive buffer holds, then waits for the rest while
      each next byte arrives within ``timeout`` seconds of the previous one (the
      timeout restarts at every byte, in whole ms of ``ticks_ms``); None when nothing
      came;
    - received bytes beyond ``receiver_buffer_size`` are lost;
    - a baud rate that differs from the link's garbles every byte;
    - arguments are checked (``timeout`` 0..100 s, ``bits`` 5..8, ``stop`` 1..2,
      ``receiver_buffer_size`` >= 1, not both pins None, pins not in use);
    - it can be polled: ``asyncio.core._io_queue.queue_read(uart)`` returns once a byte
      is waiting (see :mod:`sim.engines.cpython.cp_asyncio_core`).
    """

    _FIFO = 32

    class Parity:
        ODD = "ODD"
        EVEN = "EVEN"

    def __init__(self, tx=None, rx=None, *, rts=None, cts=None, rs485_dir=None,
                 rs485_invert=False, baudrate=9600, bits=8, parity=None, stop=1,
                 timeout=1, receiver_buffer_size=64):
        world = _world.current()
        if tx is None and rx is None:
            raise ValueError("tx and rx cannot both be None")
        if not 5 <= bits <= 9:
            raise ValueError("bits must be 5-9")
        if not 1 <= receiver_buffer_size <= 0xFFFF:
            raise ValueError("receiver_buffer_size must be 1-65535")
        if not 1 <= stop <= 2:
            raise ValueError("stop must be 1-2")
        _check_timeout(timeout)
        if bits > 8:  # the RP2040's UART
            raise ValueError("bits must be <= 8")
        if baudrate < 1:
            raise ValueError("baudrate must be >= 1")
        key = (_pin_name(tx), _pin_name(rx))
        end = world.uarts.get(key)
        if end is None:
            raise ValueError("no UART wired to TX=%s RX=%s" % key)
        # In the order CircuitPython checks them: rx first.
        self._pins = tuple(_pin_name(p) for p in (rx, tx, rts, cts, rs485_dir)
                           if p is not None)
        _claim_pins(world, self._pins)
        self._world = world
        self._end = end
        self._has_rx = rx is not None
        self._has_tx = tx is not None
        self.baudrate = baudrate
        self._timeout = float(timeout)
        self._capacity = receiver_buffer_size
        self._buffer = bytearray()
        self.overrun_bytes = 0
        self._deinited = False
        world.claim(self)

    def _live(self):
        if self._deinited:
            raise ValueError(_DEINITED)

    @property
    def timeout(self):
        return self._timeout

    @timeout.setter
    def timeout(self, value):
        _check_timeout(value)
        self._timeout = float(value)

    def _timeout_ms(self):
        return self._world.cp_version.sleep_ms(self._timeout)

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
        self._live()
        self._pull()
        return len(self._buffer)

    def _wait_for(self, nbytes):
        """Block (on the simulator's clock) until nbytes are buffered, or until no byte
        has come for the timeout (restarted at each byte, in whole ticks_ms)."""
        clock = self._world.clock
        timeout_ms = self._timeout_ms()
        self._pull()
        start_ms = clock.now_ns() // 1_000_000
        while len(self._buffer) < nbytes:
            give_up_s = (start_ms + timeout_ms) / 1000
            due = self._end.next_arrival_s()
            if timeout_ms == 0 or due is None or due >= give_up_s:
                clock.block(give_up_s - clock.now(), "uart")
                self._pull()
                return
            clock.block(max(due - clock.now(), 1e-6), "uart")
            before = len(self._buffer)
            self._pull()
            if len(self._buffer) > before:
                start_ms = clock.now_ns() // 1_000_000

    def read(self, nbytes=None):
        self._live()
        if not self._has_rx:
            raise ValueError("No rx pin")
        if nbytes is None:
            self._wait_for(1)
            nbytes = len(self._buffer)
        elif nbytes == 0:
            return b""
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
        self._live()
        if not self._has_rx:
            raise ValueError("No rx pin")
        self._pull()
        while b"\n" not in self._buffer:
            before = len(self._buffer)
            self._wait_for(before + 1)
            if len(self._buffer) == before:
                break
        idx = self._buffer.find(b"\n")
        if idx < 0:
            return self.read(len(self._buffer)) if self._buffer else None
        return self.read(idx + 1)

    def write(self, buf):
        self._live()
        if not self._has_tx:
            raise ValueError("No tx pin")
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
        self._live()
        self._pull()
        self._buffer = bytearray()
        self._end.reset_input_buffer()

    async def _sim_wait_readable(self):
        """Return once a byte is waiting (after one turn of the loop if one already
        is, as CircuitPython's poller takes one)."""
        self._live()
        if self.in_waiting:
            await ONE_TURN
            return
        await self._end.wait_readable()

    def deinit(self):
        if not self._deinited:
            for name in self._pins:
                self._world.pin(name).claimed = False
            self._world.release(self)
            self._deinited = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.deinit()


def _check_timeout(timeout):
    if not 0 <= int(timeout) <= 100:
        raise ValueError("timeout must be 0-100")


class SPI:
    """Present for blinka_displayio's import; no SPI parts are on the badge."""

    def __init__(self, clock, MOSI=None, MISO=None, half_duplex=False):
        raise ValueError("the simulated badge has no SPI bus")
