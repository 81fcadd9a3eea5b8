"""The UART side of the client: one command in flight, a non-blocking read pump, resync, reset."""

import asyncio

from adafruit_ticks import ticks_diff, ticks_ms
from micropython import const

from expresslink.commands import PING, command_word, encode_text
from expresslink.errors import CommandTimeout, ModuleError, ProtocolError
from expresslink.exchange import Exchange
from expresslink.lines import LINE_CAPACITY
from expresslink.resync import Resync
from expresslink.timeouts import RESTART_MS, timeout_for

# Resync's plans and actions: the numbers of expresslink.resync's public names, as
# private constants (they cost no RAM); tests/test_expresslink_resync.py checks them.
_RESYNC = const(1)
_READY = const(2)
_BOOT = const(4)
_SEND_PING = const(1)
_LISTEN = const(2)
_PAUSE = const(3)
_RESET_LOW = const(4)
_RESET_HIGH = const(5)
_IN_STEP = const(6)
_READ_CHUNK = const(512)  # most bytes taken from the UART per read() call
_FAST_POLL_WINDOW_MS = const(16)  # poll every 1 ms while the last byte is this fresh
_SLOW_POLL_MAX_MS = const(50)  # longest pause between polls while a reply is due
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
    step; the next command first resynchronises as ``resync`` (a Resync) decides:
    drain, ``AT``, a bare ``OK``, ``settle_ms`` of silence, an RST pulse after
    ``attempts`` failed tries. The channel starts out of step.
    """

    def __init__(
        self,
        uart,
        *,
        event_pin=None,
        reset_pin=None,
        wake_pin=None,
        line_capacity=LINE_CAPACITY,
        **timings
    ):
        self._uart = uart
        self._event_pin = event_pin
        self._reset_pin = reset_pin
        self._exchange = Exchange(line_capacity)
        self.resync = Resync(self._exchange.assembler, event_line=event_pin is not None,
                              reset_line=reset_pin is not None, **timings)
        self._lock = asyncio.Lock()
        self.in_step = False  # False: the next command resynchronises first
        # Diagnostics counters (and resync.stray_lines, resync.hard_resets).
        self.commands = 0
        self.timeouts = 0
        self.module_errors = 0
        self.protocol_errors = 0
        self.resyncs = 0
        self.stray_bytes = 0
        if reset_pin is not None:
            reset_pin.value = True  # released: module running
        if wake_pin is not None:
            wake_pin.value = False  # asserted: module stays awake

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
            if not self.in_step:
                await self._recover(_RESYNC)
            return await self._exchange_locked(line, timeout_ms)

    async def restart(self, line):
        """Send a command after which the module restarts (``RESET``), then wait until it
        answers ``AT`` again (its STARTUP event stays queued)."""
        async with self._lock:
            if not self.in_step:
                await self._recover(_RESYNC)
            await self._exchange_locked(line, RESTART_MS)
            await self._recover(_BOOT)

    async def ping(self, timeout_ms=None):
        """``AT`` -> ``OK``: the module's parser is alive."""
        await self.execute(PING, timeout_ms or self.resync.ping_timeout_ms)

    async def wait_ready(self, timeout_ms=15000):
        """Retry ``AT`` until the module answers (after power-up). A module still silent
        after ``timeout_ms`` is hung: with a reset pin it gets one RST pulse and another
        chance. CommandTimeout if it never answers."""
        await self.recover(_READY, timeout_ms)

    async def recover(self, plan=_RESYNC, timeout_ms=0):
        """Bring the link in step now, by a Resync ``plan``: RESYNC (drain, ``AT``, ``OK``,
        silence; an RST pulse when that fails), READY (``AT`` for ``timeout_ms``, then an
        RST pulse) or PULSE (an RST pulse first; ValueError without a reset pin).
        CommandTimeout when the module does not answer."""
        async with self._lock:
            await self._recover(plan, timeout_ms)

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
        exchange.start(line, ticks_ms(), timeout_ms)
        try:
            await self._send(line)
            self.commands += 1
            while True:
                result = exchange.next_result()
                if result is not None:
                    return result
                if exchange.expired(ticks_ms()):
                    self.timeouts += 1
                    raise CommandTimeout("no reply to %r in %d ms" % (line[:24], timeout_ms))
                await self._listen(exchange.deadline_ms(), exchange.receive)
        except ModuleError:
            self.module_errors += 1
            raise
        except ProtocolError:
            self.protocol_errors += 1
            self.in_step = False  # False: the next command resynchronises first
            raise
        except BaseException:  # timeout, cancellation, a failing UART
            if exchange.busy:
                exchange.abort()
            self.in_step = False  # False: the next command resynchronises first
            raise

    async def _recover(self, plan, timeout_ms=0):
        """Carry out the resync ``plan``'s actions; CommandTimeout when the module stays silent."""
        resync = self.resync
        pin = self._event_pin
        resync.start(ticks_ms(), plan, timeout_ms)
        self.in_step = False  # False: the next command resynchronises first
        if plan == _RESYNC:
            self.resyncs += 1
        while True:
            action = resync.next_action(ticks_ms(), pin is not None and pin.value)
            if action == _SEND_PING:
                self._drain()
                self._uart.write(PING)
            elif action == _LISTEN:
                await self._listen(resync.wake_ms, resync.receive)
            elif action == _RESET_LOW or action == _RESET_HIGH:
                self._reset_pin.value = action == _RESET_HIGH
            elif action == _PAUSE:
                await sleep_ms(max(0, ticks_diff(resync.wake_ms, ticks_ms())))
            elif action == _IN_STEP:
                self.in_step = True
                return
            else:
                raise CommandTimeout("module not ready: does not answer AT")

    async def _listen(self, wake_ms, receive):
        """Poll the UART until bytes arrive (given to ``receive``) or tick ``wake_ms``;
        1 ms apart at first, then further apart the longer it stays quiet."""
        uart = self._uart
        started = ticks_ms()
        while True:
            waiting = uart.in_waiting
            data = uart.read(min(waiting, _READ_CHUNK)) if waiting else None
            if data:
                receive(data)
                return
            now = ticks_ms()
            left = ticks_diff(wake_ms, now)
            if left <= 0:
                return
            await sleep_ms(min(left, poll_interval_ms(ticks_diff(now, started))))
