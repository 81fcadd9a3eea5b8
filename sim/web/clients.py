"""The open pages: one send queue and one sender task per WebSocket, on the server's loop.

A queue holds serialised messages (str) and frames (bytes). A page that reads slower
than the badge changes loses frames first: once ``FRAME_SKIP_AFTER`` messages wait, a
new frame replaces the frames still waiting (the newest picture always arrives). Past
``MAX_PENDING`` the oldest half of the queue goes and the page gets a notice. A socket
that fails is dropped; the badge and the other pages go on.
"""

import asyncio
import collections
import json

FRAME_SKIP_AFTER = 64
MAX_PENDING = 5000


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.queue = collections.deque()  # (is_frame, data)
        self.ready = asyncio.Event()
        self.drained = asyncio.Event()  # set while nothing waits to be sent
        self.drained.set()
        self.dropped = 0
        self.closed = False
        self.task = asyncio.get_running_loop().create_task(self._sender(), name="page-sender")

    def send(self, data, frame=False):
        if self.closed:
            return
        queue = self.queue
        if frame and len(queue) >= FRAME_SKIP_AFTER:
            kept = [item for item in queue if not item[0]]
            self.dropped += len(queue) - len(kept)
            queue.clear()
            queue.extend(kept)
        queue.append((frame, data))
        self.drained.clear()
        if len(queue) > MAX_PENDING:
            for _ in range(MAX_PENDING // 2):
                queue.popleft()
            self.dropped += MAX_PENDING // 2
            queue.append((False, json.dumps({
                "type": "notice", "level": "error", "about": "pages",
                "text": "this page fell behind: %d messages were dropped" % self.dropped})))
        self.ready.set()

    def notice(self, level, text, about=None):
        self.send(json.dumps({"type": "notice", "level": level, "text": text, "about": about}))

    async def _sender(self):
        ws = self.ws
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                while self.queue:
                    frame, data = self.queue.popleft()
                    if frame:
                        await ws.send_bytes(data)
                    else:
                        await ws.send_str(data)
                self.drained.set()
        except (ConnectionError, RuntimeError):
            pass  # the page went away; its receive loop ends too
        finally:
            self.closed = True
            self.drained.set()

    async def flush_and_close(self, timeout_s=2.0):
        """Send what waits (up to ``timeout_s`` real seconds), then close the socket."""
        if not self.closed:
            try:
                await asyncio.wait_for(self.drained.wait(), timeout_s)
            except asyncio.TimeoutError:
                pass
        self.task.cancel()
        self.closed = True
        await self.ws.close()


class Pages:
    """The open pages; ``broadcast`` queues a message for every one."""

    def __init__(self):
        self._pages = []

    def __len__(self):
        return len(self._pages)

    def add(self, ws):
        page = Page(ws)
        self._pages.append(page)
        return page

    def remove(self, page):
        if page in self._pages:
            self._pages.remove(page)
        page.closed = True
        page.task.cancel()

    def broadcast(self, data, frame=False):
        for page in self._pages:
            page.send(data, frame)

    async def close_all(self):
        pages, self._pages = self._pages, []
        await asyncio.gather(*(page.flush_and_close() for page in pages),
                             return_exceptions=True)
