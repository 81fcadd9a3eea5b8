"""The UART side of the client: one command in flight, a non-blocking read pump, resync, reset."""

import asyncio

from adafruit_ticks import ticks_add, ticks_diff, ticks_ms
from micropython import const

from expresslink.commands import PING, command_word, encode_text
from expresslink.errors import CommandTimeout, ModuleError, ProtocolError
from expresslink.exchange import Exchange
from expresslink.lines import LINE_CAPACITY
from expresslink.timeouts import timeout_for

_READ_CHUNK = const(512)  # most bytes taken from the UART per read() call
_FAST_POLL_WINDOW_MS = const(16)  # poll every 1 ms while the last byte is this fresh
_SLOW_POLL_MAX_MS = const(50)  # longest pause between polls while a reply is due
_PING_ATTEMPTS = const(3)  # AT tries in one resync before a hardware reset
_PIN_WAIT_STEP_MS = const(10)  # EVENT pin check interval while waiting for STARTUP
_PING_RETRY_MS = const(100)  # pause between AT tries while the module boots
_DRAIN_LIMIT = const(65536)  # most stray bytes discarded in one drain
# busio.UART.write returns once everything but the last 32 bytes (the RP2040's
# transmit FIFO) is on the wire, holding the whole loop meanwhile. Longer lines go
# out 32 bytes at a time, with the loop free while each chunk drains: 32 bytes take
# 2.78 ms at 115200 baud, the ExpressLink's fixed rate.
_TX_CHUNK = const(32)
_TX_CHUNK_MS = const(3)


async def sleep_ms(ms):
    """Let the loop run for ``ms`` whole milliseconds.

    CircuitPython's ``asyncio.sleep(seconds)`` is ``sleep_ms(int(seconds * 1000))`` in
    single precision, which loses 2 bits on 9.x-10.1.x: ``sleep(0.001)`` would not
    sleep at all. ``asyncio.sleep_ms`` (CircuitPython's asyncio) takes the integer.
    """
    sleep = getattr(asyncio, "sleep_ms", None)
    if sleep is None:  # CPython's asyncio
        await asyncio.sleep(ms / 1000)
    else:
        await sleep(ms)


def poll_interval_ms(quiet_ms):
    """Pause (ms) before the next UART poll, ``quiet_ms`` after the last byte or the write.

    1 ms while a reply is fresh (an AT round trip costs at most ~1 ms above wire time),
    then an eighth of the silence so far, at most 50 ms (long CONNECTs poll ~20/s).
    """
    if quiet_ms < _FAST_POLL_WINDOW_MS:
        return 1
    return min(_SLOW_POLL_MAX_MS, quiet_ms >> 3)


class CommandChannel:
    """Sends commands over ``uart`` and awaits their replies, one at a time.

    ``uart``: ``write(bytes)``, ``in_waiting``, ``read(n)``, optional
    ``reset_input_buffer()``. Pins are objects with a ``.value``: ``event_pin`` (input,
    high while events are queued), ``reset_pin`` (output, active low), ``wake_pin``
    (output, active low; held low so the module stays awake). Times are in ms.

    After a timeout, a protocol error or a cancelled command the channel is out of
    step; the next command first resynchronises: drain, ``AT``, wait for a bare ``OK``,
    then ``settle_ms`` of silence (a second ``OK`` means the first one was a late reply:
    try again). After ``_PING_ATTEMPTS`` failures it pulses RST, when there is one, and
    waits for the module to start. The channel starts out of step.
    """

    def __init__(
        self,
        uart,
        *,
        event_pin=None,
        reset_pin=None,
        wake_pin=None,
        line_capacity=LINE_CAPACITY,
        ping_timeout_ms=1000,
        settle_ms=20,
        startup_timeout_ms=10000,
        reset_pulse_ms=20,
    ):
        self._uart = uart
        self._event_pin = event_pin
        self._reset_pin = reset_pin
        self._exchange = Exchange(line_capacity)
        self._lock = asyncio.Lock()
        self._in_step = False
        self._got_bytes = False
        self.ping_timeout_ms = ping_timeout_ms
        self.settle_ms = settle_ms
        self.startup_timeout_ms = startup_timeout_ms
        self.reset_pulse_ms = reset_pulse_ms
        # Diagnostics counters.
        self.commands = 0
        self.timeouts = 0
        self.module_errors = 0
        self.protocol_errors = 0
        self.resyncs = 0
        self.hard_resets = 0
        self.stray_bytes = 0
        self.stray_lines = 0
        if reset_pin is not None:
            reset_pin.value = True  # released: module running
        if wake_pin is not None:
            wake_pin.value = False  # asserted: module stays awake

    @property
    def in_step(self):
        """False when the next command will resynchronise first."""
        return self._in_step

    def counters(self):
        """Diagnostics as a dict of ints."""
        return {
            "commands": self.commands,
            "timeouts": self.timeouts,
            "module_errors": self.module_errors,
            "protocol_errors": self.protocol_errors,
            "resyncs": self.resyncs,
            "hard_resets": self.hard_resets,
            "stray_bytes": self.stray_bytes,
            "stray_lines": self.stray_lines,
        }

    async def command(self, text, timeout_ms=None):
        """Send ``AT+{text}`` (``"CONF? ThingName"``) and return its Response.

        Raises ModuleError (ERR reply), ProtocolError (bad bytes), CommandTimeout
        (no reply within ``timeout_ms``, default per command word), ValueError (bad text).
        """
        return await self.execute(encode_text(text), timeout_ms)

    async def execute(self, line, timeout_ms=None):
        """Send one encoded command line (bytes) and return its Response; see ``command``."""
        if timeout_ms is None:
            timeout_ms = timeout_for(command_word(line))
        async with self._lock:
            if not self._in_step:
                await self._resync_locked()
            return await self._exchange_locked(line, timeout_ms)

    async def ping(self, timeout_ms=None):
        """``AT`` -> ``OK``: the module's parser is alive."""
        await self.execute(PING, timeout_ms or self.ping_timeout_ms)

    async def resync(self):
        """Resynchronise now (drain, AT, OK, silence); RST pulse if that fails."""
        async with self._lock:
            await self._resync_locked()

    async def wait_ready(self, timeout_ms=15000):
        """Retry ``AT`` until the module answers (after power-up). A module still silent
        after ``timeout_ms`` is hung: with a reset pin it gets one RST pulse and another
        chance. CommandTimeout if it never answers."""
        async with self._lock:
            if await self._ping_until_locked(ticks_add(ticks_ms(), timeout_ms)):
                return
            if self._reset_pin is not None:
                await self._hard_reset_locked()
                if self._in_step:
                    return
            raise CommandTimeout("module not ready after %d ms" % timeout_ms)

    async def hard_reset(self):
        """Pulse RST low and wait until the module answers again (needs ``reset_pin``)."""
        if self._reset_pin is None:
            raise ValueError("no reset pin")
        async with self._lock:
            await self._hard_reset_locked()
            if not self._in_step:
                raise CommandTimeout("module silent after reset")

    # -- internals; the *_locked methods run with the lock held --

    def _drain(self):
        """Discard bytes waiting in the UART; count all but stray EOLs in ``stray_bytes``."""
        uart = self._uart
        waiting = uart.in_waiting
        dropped = 0
        while waiting and dropped < _DRAIN_LIMIT:
            if dropped and hasattr(uart, "reset_input_buffer"):
                self.stray_bytes += waiting
                uart.reset_input_buffer()
                return
            data = uart.read(min(waiting, _READ_CHUNK))
            if not data:
                return
            dropped += len(data)
            self.stray_bytes += len(data) - data.count(b"\r") - data.count(b"\n")
            waiting = uart.in_waiting

    def _read_into_exchange(self):
        """Feed waiting bytes to the exchange; return a Response as soon as one completes.

        Sets ``_got_bytes`` when anything was read.
        """
        uart = self._uart
        exchange = self._exchange
        waiting = uart.in_waiting
        while waiting:
            data = uart.read(min(waiting, _READ_CHUNK))
            if not data:
                break
            self._got_bytes = True
            exchange.receive(data)
            result = exchange.next_result()
            if result is not None:
                return result
            waiting = uart.in_waiting
        return None

    async def _send(self, line):
        """Write ``line`` without holding the loop for more than one FIFO's worth."""
        uart = self._uart
        if len(line) <= _TX_CHUNK:
            uart.write(line)
            return
        view = memoryview(line)
        for start in range(0, len(line), _TX_CHUNK):
            if start:
                await sleep_ms(_TX_CHUNK_MS)
            uart.write(view[start:start + _TX_CHUNK])

    async def _exchange_locked(self, line, timeout_ms):
        exchange = self._exchange
        self._drain()
        started = ticks_ms()
        exchange.start(line, started, timeout_ms)
        last_rx = started
        try:
            await self._send(line)
            self.commands += 1
            while True:
                self._got_bytes = False
                result = self._read_into_exchange()
                if result is not None:
                    return result
                now = ticks_ms()
                if self._got_bytes:
                    last_rx = now
                if exchange.expired(now):
                    exchange.abort()
                    self._in_step = False
                    self.timeouts += 1
                    raise CommandTimeout("no reply to %r in %d ms" % (line[:24], timeout_ms))
                await sleep_ms(poll_interval_ms(ticks_diff(now, last_rx)))
        except ModuleError:
            self.module_errors += 1
            raise
        except ProtocolError:
            self.protocol_errors += 1
            self._in_step = False
            raise
        except BaseException:  # timeout, cancellation, a failing UART
            if exchange.busy:
                exchange.abort()
            self._in_step = False
            raise

    async def _try_ping_locked(self):
        """One resync attempt: drain, AT, bare OK, then silence. True when in step."""
        uart = self._uart
        assembler = self._exchange.assembler
        self._drain()
        assembler.clear()
        assembler.drop_glitches = True
        uart.write(PING)
        sent = ticks_ms()
        deadline = ticks_add(sent, self.ping_timeout_ms)
        while True:
            waiting = uart.in_waiting
            if waiting:
                data = uart.read(min(waiting, _READ_CHUNK))
                if data:
                    assembler.receive(data)
            ok = False
            while True:
                try:
                    line = assembler.next_line()
                except ProtocolError:
                    self.stray_lines += 1
                    continue
                if line is None:
                    break
                if line == b"OK":
                    ok = True
                    break
                if line:
                    self.stray_lines += 1  # a late reply or garbage
            if ok:
                break
            now = ticks_ms()
            if ticks_diff(now, deadline) >= 0:
                return False
            await sleep_ms(poll_interval_ms(ticks_diff(now, sent)))
        return await self._settle_locked()

    async def _settle_locked(self):
        """After the resync ``OK``: nothing more may follow it, now or within ``settle_ms``."""
        uart = self._uart
        assembler = self._exchange.assembler
        while True:
            try:
                line = assembler.next_line()
            except ProtocolError:
                line = b"?"
            if line is None:
                break
            if not line:
                continue  # a stray EOL
            self.stray_lines += 1
            assembler.clear()
            return False
        extra = assembler.pending()
        assembler.clear()
        if extra:
            return False
        await sleep_ms(self.settle_ms)
        return not uart.in_waiting

    async def _ping_until_locked(self, deadline):
        while True:
            if await self._try_ping_locked():
                self._in_step = True
                return True
            if ticks_diff(ticks_ms(), deadline) >= 0:
                return False
            await sleep_ms(_PING_RETRY_MS)

    async def _resync_locked(self):
        self.resyncs += 1
        self._in_step = False
        for _ in range(_PING_ATTEMPTS):
            if await self._try_ping_locked():
                self._in_step = True
                return
        if self._reset_pin is not None:
            await self._hard_reset_locked()
            if self._in_step:
                return
        raise CommandTimeout("module does not answer AT")

    async def _hard_reset_locked(self):
        self.hard_resets += 1
        self._in_step = False
        self._exchange.abort()
        self._reset_pin.value = False
        await sleep_ms(self.reset_pulse_ms)
        self._reset_pin.value = True
        await self._await_startup_locked()

    async def _await_startup_locked(self):
        """After a reset: wait for the EVENT pin (STARTUP queued), then for ``AT`` -> ``OK``.

        STARTUP stays in the module's queue for the application's ``next_event``.
        """
        deadline = ticks_add(ticks_ms(), self.startup_timeout_ms)
        pin = self._event_pin
        if pin is not None:
            while not pin.value and ticks_diff(ticks_ms(), deadline) < 0:
                await sleep_ms(_PIN_WAIT_STEP_MS)
        await self._ping_until_locked(deadline)
