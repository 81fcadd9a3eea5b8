"""A tiny scripted ExpressLink host for the emulator tests (independent of the badge driver).

The test_expresslink_emulator_* files import ``run``, ``Bench`` and ``ScriptedHost``
from here.
"""

import asyncio

from sim.core.clock import VirtualClock
from sim.cloud.memory_broker import MemoryBroker
from sim.cloud.memory_shadow import MemoryShadowService
from sim.expresslink.module import ExpressLinkModule
from sim.core.loop import SimEventLoop
from sim.core.serial_link import SerialLink

THING = "badge-test"
BYTE_S = 10 / 115200  # one 8N1 byte at 115200 baud


class ScriptedHost:
    """Writes command bytes to the host end of the UART and reads CR LF lines back."""

    def __init__(self, end, clock):
        self.end = end
        self.clock = clock
        self.buffer = bytearray()

    def write(self, data):
        self.end.write(data)

    async def _fill(self, deadline):
        """Wait for more bytes until ``deadline`` (s); False on timeout.

        Bytes already on the wire are collected in batches of up to 16 byte times, so a
        long reply does not cost one wake-up per byte.
        """
        now = self.clock.now()
        if now >= deadline:
            return False
        due = self.end.next_arrival_s()
        if due is None:
            try:
                await asyncio.wait_for(self.end.wait_readable(), deadline - now)
            except asyncio.TimeoutError:
                return False
        else:
            await asyncio.sleep(min(deadline, max(due, now) + 15 * BYTE_S) - now)
        self.buffer += self.end.read()
        return True

    async def read_line(self, timeout=5.0):
        """The next line without its CR LF; raises TimeoutError."""
        deadline = self.clock.now() + timeout
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 2]
                return line
            if not await self._fill(deadline):
                raise TimeoutError("no line; buffered %r" % bytes(self.buffer))

    async def read_for(self, seconds):
        """Everything that arrives within ``seconds`` (plus anything already buffered)."""
        deadline = self.clock.now() + seconds
        while await self._fill(deadline):
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    async def command(self, text, eol=b"\n", timeout=5.0):
        """Send ``AT+{text}`` (``AT`` alone for an empty text); return the first reply line."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        self.write((b"AT+" + text if text else b"AT") + eol)
        return await self.read_line(timeout)

    async def exchange(self, text, timeout=5.0):
        """Like ``command`` but returns all lines: ``OK{n}`` is followed by n more."""
        first = await self.command(text, timeout=timeout)
        lines = [first]
        if first[:2] == b"OK" and first[2:3].isdigit():
            count = int(first[2:].split(b" ", 1)[0])
            for _ in range(count):
                lines.append(await self.read_line(timeout))
        return lines

    async def events(self):
        """Drain the event queue with EVENT? until a bare OK; returns the lines after 'OK '."""
        out = []
        while True:
            line = await self.command("EVENT?")
            if line == b"OK":
                return out
            assert line.startswith(b"OK "), line
            out.append(line[3:].decode())

    async def boot(self, module):
        """Wait out the boot (garbage + silence), check STARTUP; returns the boot bytes."""
        garbage = await self.read_for(module.boot_time_s + 0.01)
        assert await self.command("") == b"OK"
        assert await self.command("EVENT?") == b"OK 2 0 STARTUP"
        return garbage


class Bench:
    """A module on a SerialLink, a MemoryBroker cloud and a scripted host."""

    def __init__(self, clock, shadow_service=False, **module_options):
        self.clock = clock
        self.link = SerialLink(clock)
        self.broker = MemoryBroker()
        self.cloud = self.broker.link()
        options = {"seed": 7}
        options.update(module_options)
        self.module = ExpressLinkModule(clock, self.link.device, self.cloud, THING, **options)
        self.host = ScriptedHost(self.link.host, clock)
        self.shadow_service = MemoryShadowService(self.broker) if shadow_service else None

    async def connect(self):
        assert await self.host.command("CONNECT") == b"OK 1 CONNECTED"

    async def settle(self, seconds=0.05):
        """Let background work (acks, deliveries) finish."""
        await asyncio.sleep(seconds)


def run(scenario, boot=True, **options):
    """Run ``scenario(bench)`` on a SimEventLoop with a VirtualClock; returns its result."""
    clock = VirtualClock()
    loop = SimEventLoop(clock)
    asyncio.set_event_loop(loop)
    bench = None

    async def main():
        nonlocal bench
        bench = Bench(clock, **options)
        bench.module.start()
        if boot:
            await bench.host.boot(bench.module)
        try:
            return await scenario(bench)
        finally:
            await bench.module.close()

    try:
        result = loop.run_until_complete(main())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert bench.module.internal_errors == []
    assert loop.errors == []
    return result
