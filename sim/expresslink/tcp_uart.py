"""The emulated module's UART as a TCP byte stream (pyserial ``socket://`` URLs work).

One module stays powered for the life of the server; one TCP client at a time is its
host (a new client replaces the previous one). Bytes still take their 115200-baud wire
time on the module's side; bytes the module sends while no client is attached are lost,
as on an unplugged UART. Pins (RST, WAKE, EVENT) are not exposed: use RESET and EVENT?.
"""

import asyncio
import time

from sim.core.serial_link import SerialLink

DEFAULT_THING = "badge-sim-0001"


class LoopClock:
    """A clock that reads the running event loop's time (for plain asyncio loops)."""

    virtual = False

    def __init__(self, loop):
        from sim.core.clock import StallLog

        self._loop = loop
        self.stalls = StallLog()

    def now(self):
        return self._loop.time()

    def now_ns(self):
        return int(self._loop.time() * 1e9)

    def advance(self, seconds):
        """Real time cannot be pushed."""

    def advance_to(self, t_s):
        pass

    def block(self, seconds, kind="sleep"):
        if seconds > 0:
            self.stalls.add(kind, seconds)
            time.sleep(seconds)


def loop_clock(loop):
    """The simulator clock of a SimEventLoop, or a LoopClock for any other loop."""
    clock = getattr(loop, "clock", None)
    return clock if clock is not None else LoopClock(loop)


class UartBridge:
    """Copies bytes between the current TCP client and the host end of the UART."""

    def __init__(self, host_end):
        self.host_end = host_end
        self.writer = None
        self.clients = 0
        self._pump = asyncio.get_running_loop().create_task(self._pump_to_client())

    async def _pump_to_client(self):
        while True:
            await self.host_end.wait_readable()
            data = self.host_end.read()
            writer = self.writer
            if writer is not None and not writer.is_closing():
                writer.write(data)

    async def handle_client(self, reader, writer):
        previous = self.writer
        if previous is not None:
            previous.close()
        self.writer = writer
        self.clients += 1
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                self.host_end.write(data)
        except (ConnectionError, OSError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
            writer.close()

    def close(self):
        self._pump.cancel()
        if self.writer is not None:
            self.writer.close()


async def serve_module(listen_host, listen_port, module_factory, clock=None):
    """Start a TCP server whose byte stream is the UART of ``module_factory(clock, uart_end)``.

    Returns the started ``asyncio.Server`` with ``.module`` and ``.bridge`` attached;
    port 0 picks a free port (``server.sockets[0].getsockname()[1]``).
    """
    loop = asyncio.get_running_loop()
    if clock is None:
        clock = loop_clock(loop)
    link = SerialLink(clock)
    module = module_factory(clock, link.device)
    module.start()
    bridge = UartBridge(link.host)
    server = await asyncio.start_server(bridge.handle_client, listen_host, listen_port)
    server.module = module
    server.bridge = bridge
    server.link = link
    return server


def parse_listen(listen):
    """``"HOST:PORT"`` -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError("--listen wants HOST:PORT, got %r" % (listen,))
    if int(port) > 65535:
        raise ValueError("--listen: the port must be 0-65535, got %r" % (listen,))
    return host or "127.0.0.1", int(port)


async def run_expresslink_server(listen, broker_url, thing, clock=None, *, on_ready=None,
                                 module_options=None):
    """``python -m sim expresslink``: serve one emulated module on ``listen`` until cancelled.

    ``on_ready(server)`` is called once the socket listens (tests use it with port 0);
    ``module_options`` are extra ExpressLinkModule keyword arguments.
    """
    from sim.expresslink.module import ExpressLinkModule

    from sim.cloud.link_for_url import cloud_link_for

    host, port = parse_listen(listen)
    cloud = cloud_link_for(broker_url)
    options = dict(module_options or {})

    def factory(module_clock, uart_end):
        module = ExpressLinkModule(module_clock, uart_end, cloud, thing or DEFAULT_THING, **options)
        if not getattr(module_clock, "virtual", False):
            module.set_wall_clock(time.time())
        return module

    server = await serve_module(host, port, factory, clock)
    bound = server.sockets[0].getsockname()
    print("ExpressLink module %s: UART on %s:%d (socket://%s:%d), cloud %s" % (
        server.module.config.thing_name, bound[0], bound[1], bound[0], bound[1],
        broker_url or "in-memory"), flush=True)
    if on_ready is not None:
        on_ready(server)
    try:
        async with server:
            await server.serve_forever()
    finally:
        server.bridge.close()
        await server.module.close()
