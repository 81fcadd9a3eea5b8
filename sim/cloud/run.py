"""The embedded cloud: broker plus device shadow service, for ``python -m sim broker`` and runs.

``async with EmbeddedCloud(clock=...) as cloud: ... cloud.url ...`` serves in the
running loop; ``run_broker("127.0.0.1:1883")`` does the same until cancelled and
prints the URL.
"""

import asyncio
import sys

from sim.cloud.broker import EmbeddedBroker
from sim.cloud.shadow_service import ShadowService


def parse_listen(listen):
    """``HOST:PORT``, ``[v6]:PORT``, ``:PORT`` or ``PORT`` -> (host, port); ValueError if bad."""
    text = str(listen).strip()
    host, _, port_text = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError("listen address must look like HOST:PORT, got " + repr(listen)) from None
    if not 0 <= port <= 65535:
        raise ValueError("port must be 0-65535 in " + repr(listen))
    return host, port


class EmbeddedCloud:
    """The embedded broker and a shadow service connected to it, in the running loop."""

    def __init__(self, host="127.0.0.1", port=0, clock=None, **service_options):
        self.host = host
        self.port = port
        self.broker = EmbeddedBroker()
        self.clock = clock
        self.service_options = service_options
        self.shadows = None

    @property
    def url(self):
        return self.broker.url

    async def start(self):
        await self.broker.start(self.host, self.port)
        self.shadows = ShadowService(self.broker.url, clock=self.clock, **self.service_options)
        try:
            await self.shadows.start()
        except BaseException:
            await self.broker.stop()
            raise
        return self

    async def stop(self):
        if self.shadows is not None:
            await self.shadows.stop()
        await self.broker.stop()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc_info):
        await self.stop()


async def run_broker(listen="127.0.0.1:1883", out=sys.stdout, *, clock=None, started=None):
    """Serve the broker and the shadow service on ``listen`` until cancelled.

    Prints one line with the broker URL. ``started``: an optional future that receives
    the URL once serving.
    """
    host, port = parse_listen(listen)
    async with EmbeddedCloud(host, port, clock=clock) as cloud:
        out.write("broker listening on " + cloud.url + " (device shadow service running)\n")
        out.flush()
        if started is not None and not started.done():
            started.set_result(cloud.url)
        await asyncio.get_running_loop().create_future()  # until cancelled
