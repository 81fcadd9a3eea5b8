"""A full-duplex UART wire between two simulated parts, with 8N1 wire time.

Each end transmits at ``baud``: a byte written at time t arrives at the peer one byte
time (10 bits) after the previous byte on that direction finished, so a burst of n
bytes takes n * 10 / baud seconds. Writing never blocks (the UART has a transmit FIFO
and DMA on the badge; the module has its own buffers); only arrival is delayed.

Readers either poll (``in_waiting`` / ``read``, as ``busio.UART`` does) or await
``wait_readable()`` (the emulated module's own task).
"""

import asyncio
from collections import deque

from sim.core.clock import UART_BAUD

_EARLY_NS = 1000  # 1 us, about 1 % of a byte time at 115200 baud


class SerialEnd:
    """One end of the link: ``write`` sends to the peer, ``read`` takes what arrived."""

    def __init__(self, link, name):
        self._link = link
        self.name = name
        self.peer = None
        self._tx_free_ns = 0  # when this end's transmitter finishes its current burst
        self._rx = deque()  # chunks [first_arrival_ns, data, consumed]
        self._rx_waiter = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.taps = []  # callables(now_s, direction_name, data) for logs and traces

    # -- sending ------------------------------------------------------------------
    def write(self, data):
        """Queue ``data`` for the wire; returns the count, never blocks."""
        data = bytes(data)
        if not data or not self._link.connected:
            return len(data)
        clock = self._link.clock
        now = clock.now_ns()
        start = max(now, self._tx_free_ns)
        byte_ns = self._link.byte_ns
        self._tx_free_ns = start + byte_ns * len(data)
        self.bytes_sent += len(data)
        for tap in self.taps:
            tap(clock.now(), self.name, data)
        self.peer._deliver(start + byte_ns, data)
        return len(data)

    def tx_idle_at_s(self):
        """Time (s) at which everything written so far has left the wire."""
        return max(self._tx_free_ns, self._link.clock.now_ns()) / 1e9

    # -- receiving ------------------------------------------------------------------
    def _deliver(self, first_ns, data):
        self._rx.append([first_ns, data, 0])
        self._wake_reader()

    def _arrived(self, chunk, now_ns):
        """How many bytes of ``chunk`` have arrived by ``now_ns``.

        A byte counts from ``_EARLY_NS`` before its arrival time: a timer set for the
        arrival (float seconds) may run a few ns early after rounding, and must then see
        the byte, or a reader waiting for it would wake again and again without time
        moving on.
        """
        first_ns, data, _ = chunk
        elapsed = now_ns - first_ns + _EARLY_NS
        if elapsed < 0:
            return 0
        return min(len(data), elapsed // self._link.byte_ns + 1)

    @property
    def in_waiting(self):
        now = self._link.clock.now_ns()
        count = 0
        for chunk in self._rx:
            got = self._arrived(chunk, now) - chunk[2]
            if got <= 0:
                break
            count += got
            if chunk[2] + got < len(chunk[1]):
                break
        return count

    def read(self, nbytes=None):
        """Up to ``nbytes`` bytes that have arrived (all of them if None)."""
        now = self._link.clock.now_ns()
        out = bytearray()
        while self._rx and (nbytes is None or len(out) < nbytes):
            chunk = self._rx[0]
            limit = self._arrived(chunk, now)
            if limit <= chunk[2]:
                break
            take = limit - chunk[2]
            if nbytes is not None:
                take = min(take, nbytes - len(out))
            out += chunk[1][chunk[2]:chunk[2] + take]
            chunk[2] += take
            if chunk[2] >= len(chunk[1]):
                self._rx.popleft()
            else:
                break
        self.bytes_received += len(out)
        return bytes(out)

    def reset_input_buffer(self):
        """Drop everything received so far, including bytes still on the wire."""
        self._rx.clear()

    def next_arrival_s(self):
        """When the next unread byte arrives (s), or None when nothing is coming."""
        if not self._rx:
            return None
        chunk = self._rx[0]
        return (chunk[0] + chunk[2] * self._link.byte_ns) / 1e9

    def burst_end_s(self):
        """When the last byte now on the wire arrives (s), or None when nothing is."""
        if not self._rx:
            return None
        chunk = self._rx[-1]
        return (chunk[0] + (len(chunk[1]) - 1) * self._link.byte_ns) / 1e9

    def _burst_pending(self):
        due = self.burst_end_s()
        return due is not None and self._link.clock.now() < due - _EARLY_NS / 1e9

    async def wait_readable(self, whole_burst=False):
        """Wait (on the simulator's clock) until at least one byte has arrived.

        ``whole_burst``: wait on until every byte now on the wire has arrived (one
        wake-up per burst instead of one per byte, for a reader that only acts on
        whole lines).
        """
        while self.in_waiting == 0 or (whole_burst and self._burst_pending()):
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            self._rx_waiter = waiter
            due = self.burst_end_s() if whole_burst else self.next_arrival_s()
            timer = loop.call_at(due, _resolve, waiter) if due is not None else None
            try:
                await waiter
            finally:
                self._rx_waiter = None
                if timer is not None:
                    timer.cancel()

    def _wake_reader(self):
        waiter = self._rx_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _resolve(future):
    if not future.done():
        future.set_result(None)


class SerialLink:
    """Two ``SerialEnd`` objects joined by a wire: ``host`` (the RP2040) and ``device``."""

    def __init__(self, clock, baud=UART_BAUD):
        self.clock = clock
        self.baud = baud
        self.byte_ns = int(round(10 * 1e9 / baud))
        self.connected = True
        self.host = SerialEnd(self, "host")
        self.device = SerialEnd(self, "device")
        self.host.peer = self.device
        self.device.peer = self.host
