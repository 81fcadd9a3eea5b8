"""A badge behind the page's server, and a page's WebSocket, for the tests in tests/web/.

``LiveBadge`` runs a badge (CPython engine on a paced virtual clock, or the
CircuitPython engine) on a thread of its own with its hub and web server, as
``python -m sim`` does on the main thread. ``PageClient`` is one page: it collects
every message and waits for one that matches, with a deadline on the *simulator's*
clock: waiting fails as soon as a message stamped later than the deadline arrives
first (the 4 Hz clock messages make sure one does). pytest-timeout is the backstop.

Each test's asyncio loop is made with ``asyncio.SelectorEventLoop()``: while the
CPython engine runs, its event loop policy would make any ``new_event_loop()`` the
badge's own.
"""

import asyncio
import concurrent.futures
import json
import threading
import traceback

import aiohttp

from sim.web.frames import Frame
from sim.web.hub import Hub
from sim.web.server import WebServer

WAIT_REAL_S = 60.0  # a wait that never sees its deadline: something is stuck


def run(coro):
    """Run ``coro`` on a fresh ordinary event loop (see the module docstring)."""
    loop = asyncio.SelectorEventLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


class LiveBadge:
    """``badge`` with a Hub and a WebServer; ``start()`` runs it on a thread."""

    def __init__(self, badge, pace=None, recorder=None, duration_s=None, **run_options):
        self.badge = badge
        self.pace = pace
        self.hub = Hub(badge, pace, bus=recorder is not None)
        self.server = WebServer(self.hub, recorder=recorder)
        self.duration_s = duration_s
        self.run_options = run_options
        self.url = None
        self.error = None
        self._thread = None

    def start(self):
        """Serve, run the badge, return once its loop runs (commands can reach it)."""
        looping = threading.Event()
        self.badge.on_loop(lambda loop: loop.call_soon(looping.set))
        self.url = self.server.start()
        self._thread = threading.Thread(target=self._run, name="badge", daemon=True)
        self._thread.start()
        assert looping.wait(WAIT_REAL_S) or self.error, "the badge's loop never started"
        assert self.error is None, self.error
        return self

    def _run(self):
        try:
            self.badge.run(self.duration_s, **self.run_options)
        except BaseException as error:  # the test reports it
            self.error = "".join(traceback.format_exception(error))

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def call(self, function, *args):
        """``function(*args)`` on the simulation's loop; returns its result."""
        done = concurrent.futures.Future()

        def job():
            try:
                done.set_result(function(*args))
            except BaseException as error:
                done.set_exception(error)

        assert self.hub.call(job), "the badge is not running"
        return done.result(WAIT_REAL_S)

    def stop(self):
        self.hub.call(self.badge.stop)
        if self._thread is not None:
            self._thread.join(WAIT_REAL_S)
        self.server.stop()
        assert not self.running, "the badge did not stop"
        assert self.error is None, self.error


class PageClient:
    """One page: ``async with PageClient(url) as page``; ``page.messages`` holds all
    text messages (dicts) and frames (:class:`Frame`) in arrival order."""

    def __init__(self, url):
        self.url = url
        self.messages = []
        self._seen = 0
        self._session = None
        self.ws = None

    async def __aenter__(self):
        self._session = aiohttp.ClientSession()
        self.ws = await self._session.ws_connect(self.url + "ws")
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        await self._session.close()

    async def send(self, **command):
        await self.ws.send_str(json.dumps(command))

    async def _receive(self):
        message = await asyncio.wait_for(self.ws.receive(), WAIT_REAL_S)
        if message.type == aiohttp.WSMsgType.BINARY:
            item = Frame.from_bytes(message.data)
        elif message.type == aiohttp.WSMsgType.TEXT:
            item = json.loads(message.data)
        else:
            raise AssertionError("the socket closed: %r" % (message,))
        self.messages.append(item)
        return item

    def mark(self):
        """Where the next message will go: ``wait(..., since=page.mark())``."""
        return len(self.messages)

    async def wait(self, match, until_t=None, what="a message", since=None):
        """The first message not looked at before (or from index ``since`` on) for which
        ``match(m)`` is true. Fails when a message stamped after ``until_t`` (simulated
        s) comes first."""
        if since is not None:
            self._seen = since
        while True:
            while self._seen < len(self.messages):
                item = self.messages[self._seen]
                self._seen += 1
                if match(item):
                    return item
                t = stamp(item)
                if until_t is not None and t is not None and t > until_t:
                    raise AssertionError("no %s by t=%.3f s (now %.3f s)" % (what, until_t, t))
            await self._receive()

    async def wait_type(self, kind, until_t=None, where=lambda m: True, since=None):
        if kind == "frame":
            return await self.wait(lambda m: isinstance(m, Frame) and where(m), until_t,
                                   kind, since)
        return await self.wait(lambda m: isinstance(m, dict) and m.get("type") == kind
                               and where(m), until_t, kind, since)

    def frames(self):
        return [m for m in self.messages if isinstance(m, Frame)]

    def of_type(self, kind):
        return [m for m in self.messages if isinstance(m, dict) and m.get("type") == kind]

    async def now(self):
        """The simulated time of the next clock message."""
        return (await self.wait_type("clock"))["t"]


def stamp(item):
    if isinstance(item, Frame):
        return item.t
    return item.get("t")
