"""The badge page's web server: aiohttp on its own thread and asyncio loop, in real time.

``WebServer(hub=...)`` serves a live badge, ``WebServer(replay=(text, hello))`` a
recording. ``start()`` binds 127.0.0.1 (``port`` 0: a free one) and returns the URL;
``stop()`` tells the pages the run is over, closes their sockets and joins the thread.

Routes: ``/`` and ``/static/...`` (sim/web/static/), ``/static/vendor/...`` (the
``dist/`` folder of the npm package uplot, which ``npm ci`` installs in sim/web/),
``/ws`` (protocol.md), the photo endpoints
(:mod:`sim.web.photo_api`) and, in replay mode, ``GET /api/recording``.

Messages from the hub are serialised once and queued per page; a page that falls
behind loses frames first (the newest frame always stays), then, past
``MAX_PENDING`` messages, the oldest half of its queue, and is told so.
"""

import asyncio
import json
import threading
import time
from pathlib import Path

from aiohttp import WSMsgType, web

from sim.web import clients, photo_api
from sim.web.commands import BadCommand, check, parse, qr_fit
from sim.web.control import Control
from sim.web.frames import Frame

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = WEB_DIR / "node_modules" / "uplot" / "dist"
CLOCK_PERIOD_S = 0.25  # real seconds between clock messages
STATE_TYPES = ("climate", "module", "faults", "shadow", "clock", "ended")
RECORD_ONLY = ("i2c", "uart")  # bus traffic: in a recording, never sent to pages
_PLACEHOLDER = ("<!doctype html><title>Badge</title><p>The badge page is not built in "
                "this checkout (sim/web/static/index.html is missing); the WebSocket is at "
                "<code>/ws</code>.</p>")


def page_lines(text):
    """A recording without its bus traffic (``RECORD_ONLY``): what the page plays."""
    kept = [line for line in text.splitlines()
            if line.strip() and json.loads(line).get("type") not in RECORD_ONLY]
    return "\n".join(kept) + "\n"


class WebServer:
    def __init__(self, hub=None, *, replay=None, port=0, recorder=None,
                 static_dir=STATIC_DIR, vendor_dir=VENDOR_DIR):
        if (hub is None) == (replay is None):
            raise ValueError("a WebServer serves either a hub (live) or a replay")
        self.hub = hub
        self.control = Control(hub) if hub is not None else None
        self.replay_text, replay_hello = replay if replay is not None else (None, None)
        if self.replay_text is not None:
            self.replay_text = page_lines(self.replay_text)
        self.port = port
        self.recorder = recorder
        self.static_dir = Path(static_dir)
        self.vendor_dir = Path(vendor_dir)
        self.url = None
        self.loop = None
        self.pages = clients.Pages()
        self._hello = dict(hub.hello() if hub is not None else replay_hello)
        self._hello.pop("pages", None)
        if replay is not None:
            self._hello.update(mode="replay", time_control=False)
        self._latest = {}  # state message type -> serialised message, for new pages
        self._thread = None
        self._started = threading.Event()
        self._error = None
        self._runner = None
        self._ticker = None

    # -- the thread --------------------------------------------------------------------
    def start(self):
        """Serve on a thread of its own; returns the URL once listening."""
        if self.recorder is not None:
            self.recorder.write(self._hello)
        self._thread = threading.Thread(target=self._serve, name="badge-page", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self.url

    def stop(self):
        """End every page's socket (after what is queued), close the server, join."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            except (RuntimeError, TimeoutError):
                pass
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        if self.recorder is not None:
            self.recorder.close()

    def _serve(self):
        # Not asyncio.run nor new_event_loop: while the CPython engine runs, its policy
        # makes every new loop the badge's.
        loop = self.loop = asyncio.SelectorEventLoop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open())
        except Exception as error:  # start() raises it (OSError: the port is taken)
            self._error = error
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self):
        app = web.Application(client_max_size=photo_api.MAX_UPLOAD_BYTES + 1)
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/api/recording", self._recording)
        app.router.add_routes(photo_api.routes(self._send_photo))
        if self.vendor_dir.is_dir():
            app.router.add_static("/static/vendor/", self.vendor_dir)
        if self.static_dir.is_dir():
            app.router.add_static("/static/", self.static_dir)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.url = "http://127.0.0.1:%d/" % self.port
        if self.hub is not None:
            self.hub.attach(self._wake)
            self._drain()  # what the hub collected before the server was up
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _shutdown(self):
        if self.hub is not None:
            self._drain()
        if self._ticker is not None:
            self._ticker.cancel()
        await self.pages.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- from the hub --------------------------------------------------------------------
    def _wake(self):
        """Called on the simulation's thread when the hub's outbox fills."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._drain)
            except RuntimeError:
                pass

    def _drain(self):
        batch = self.hub.take()
        recorder = self.recorder
        for message in batch:
            if recorder is not None:
                recorder.write(message)
            if isinstance(message, Frame):
                data = message.to_bytes()
                self._latest["frame"] = data
                self.pages.broadcast(data, frame=True)
                continue
            if message["type"] in RECORD_ONLY:
                continue
            text = json.dumps(message, separators=(",", ":"))
            if message["type"] in STATE_TYPES:
                self._latest[message["type"]] = text
            self.pages.broadcast(text)
        if recorder is not None and batch:
            recorder.flush()

    async def _tick(self):
        while True:
            self.hub.call(self.hub.tick, time.monotonic())
            await asyncio.sleep(CLOCK_PERIOD_S)

    # -- HTTP ---------------------------------------------------------------------------
    async def _index(self, request):
        index = self.static_dir / "index.html"
        if index.is_file():
            return web.FileResponse(index)
        return web.Response(text=_PLACEHOLDER, content_type="text/html")

    async def _recording(self, request):
        if self.replay_text is None:
            return web.json_response({"error": "not a replay: run python -m sim replay FILE"},
                                     status=404)
        return web.Response(text=self.replay_text, content_type="application/x-ndjson")

    def _send_photo(self, payload):
        if self.hub is None:
            return False
        return self.hub.call(self.control.send_photo, payload)

    # -- the WebSocket ---------------------------------------------------------------------
    async def _websocket(self, request):
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024 * 1024)
        await ws.prepare(request)
        page = self.pages.add(ws)
        hello = dict(self._hello, pages=len(self.pages))
        page.send(json.dumps(hello))
        for kind in ("frame",) + STATE_TYPES:
            if kind in self._latest:
                page.send(self._latest[kind], frame=kind == "frame")
        self._tell_pages()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._command(page, message.data)
                elif message.type == WSMsgType.BINARY:
                    page.notice("error", "binary messages are not commands; send JSON text")
        finally:
            self.pages.remove(page)
            self._tell_pages()
        return ws

    def _tell_pages(self):
        count = len(self.pages)
        text = ("%d pages are open: each sees and controls the same badge" % count
                if count > 1 else "this is the only page open")
        self.pages.broadcast(json.dumps({"type": "notice", "level": "info", "text": text,
                                         "about": "pages", "pages": count}))

    def _command(self, page, raw):
        op = None
        try:
            message = parse(raw)
            op = message["op"]
            if self.hub is None:
                raise BadCommand("%s: this is a replay; there is no badge to control" % op, op)
            op, args = check(message, self._hello["time_control"])
        except BadCommand as error:
            page.notice("error", str(error), error.op or op)
            return
        if op == "qr_check":
            page.send(json.dumps(qr_fit(args["text"])))
            return
        if not self.hub.call(self.control.run, op, args):
            page.notice("error", "%s: the badge is not running (starting, or its run is "
                                 "over)" % op, op)
