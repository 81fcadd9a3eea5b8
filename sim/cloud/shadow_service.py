"""The cloud side of the AWS IoT Device Shadow MQTT protocol, as an MQTT client of any broker.

Subscribes to the get/update/delete request topics of classic and named shadows,
answers on ``.../accepted`` and ``.../rejected``, and publishes ``update/delta`` and
``update/documents`` (in that order, then ``update/accepted``, as AWS's local shadow
manager does). Requests are handled one at a time in arrival order by one worker task.
Responses are compact one-line JSON, published with QoS 1 and not retained; what they
say comes from ``shadow_requests.ShadowResponder``.

Time: with a simulator ``clock``, timestamps are ``epoch_s + clock.now()`` whole
seconds (deterministic); without one, the wall clock.

Choices where AWS's Device Shadow documentation leaves things open:
- requests beyond ``max_requests_per_s`` (20) per thing within one second get
  429 "Too Many Requests"; requests are answered one at a time as they arrive, so the
  10-requests-in-flight limit never comes into play;
- last-will messages on ``$aws`` topics are handled like any request (the service
  cannot tell them apart).
"""

import asyncio
import collections
import time

from sim.cloud.shadow_document import ShadowError
from sim.cloud.shadow_requests import (REQUEST_FILTERS, ShadowResponder, encode,
                                       parse_request_topic, shadow_topic)
from sim.expresslink.cloud import CloudError

__all__ = ["DEFAULT_EPOCH_S", "ShadowService", "parse_request_topic", "shadow_topic"]

DEFAULT_EPOCH_S = 1_700_000_000


class _RateLimit:
    """At most ``limit`` requests per thing in any one-second window."""

    def __init__(self, limit):
        self.limit = limit
        self._recent = collections.defaultdict(collections.deque)

    def admit(self, thing, now_s):
        if not self.limit:
            return True
        recent = self._recent[thing]
        while recent and now_s - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now_s)
        return True


class ShadowService:
    """Device shadows for every thing on one broker.

    ``link``: a broker URL (``mqtt://``/``mqtts://``) or a factory returning a fresh
    CloudLink. ``clock``: the simulator's clock (timestamps and rate limit), or None.
    """

    def __init__(self, link, *, clock=None, epoch_s=DEFAULT_EPOCH_S, client_id="shadow-service",
                 store=None, max_requests_per_s=20, reconnect_max_s=30.0):
        if isinstance(link, str):
            from sim.cloud.mqtt_link import MqttCloudLink
            url = link
            link = lambda: MqttCloudLink(url)  # noqa: E731
        self._link_factory = link
        self.clock = clock
        self.epoch_s = epoch_s
        self.client_id = client_id
        self.rate_limit = _RateLimit(max_requests_per_s)
        self.responder = ShadowResponder(self.now, store, self._admit)
        self.store = self.responder.store
        self.reconnect_max_s = reconnect_max_s
        self.link = None
        self._queue = None
        self._worker = None
        self._reconnector = None
        self._running = False

    # -- time ---------------------------------------------------------------------------
    def now(self):
        """Epoch seconds (int) for timestamps."""
        if self.clock is not None:
            return int(self.epoch_s + self.clock.now())
        return int(time.time())

    def _admit(self, thing):
        now_s = self.clock.now() if self.clock is not None else time.monotonic()
        return self.rate_limit.admit(thing, now_s)

    # -- life cycle -----------------------------------------------------------------------
    async def start(self):
        """Connect, subscribe to every request topic, start answering. Raises CloudError."""
        if self._running:
            raise RuntimeError("the shadow service is already running")
        self._queue = asyncio.Queue()
        await self._connect()
        self._running = True
        self._worker = asyncio.get_running_loop().create_task(self._work(), name="shadow-service")

    async def stop(self):
        self._running = False
        for task in (self._worker, self._reconnector):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._worker = self._reconnector = None
        if self.link is not None:
            await self.link.disconnect()

    async def _connect(self):
        link = self._link_factory()
        link.on_message = self._received
        link.on_connection_lost = self._lost
        await link.connect(self.client_id, keepalive_s=60)
        for topic_filter in REQUEST_FILTERS:
            if not await link.subscribe(topic_filter, 1):
                await link.disconnect()
                raise CloudError(5, "the broker refused the subscription to " + topic_filter)
        self.link = link

    def _lost(self, reason):
        if self._running and self._reconnector is None:
            self._reconnector = asyncio.get_running_loop().create_task(
                self._reconnect(), name="shadow-service reconnect")

    async def _reconnect(self):
        delay = 1.0
        while self._running:
            await asyncio.sleep(delay)
            try:
                await self._connect()
                break
            except CloudError:
                delay = min(delay * 2, self.reconnect_max_s)
        self._reconnector = None

    # -- requests ---------------------------------------------------------------------------
    def _received(self, topic, payload):
        self._queue.put_nowait((topic, bytes(payload), None))

    async def _work(self):
        while True:
            topic, payload, done = await self._queue.get()
            try:
                responses = self.handle_request(topic, payload)
                await self._publish_all(responses)
                if done is not None and not done.done():
                    done.set_result(responses)
            except Exception as exc:  # keep answering; report the failure
                if done is not None and not done.done():
                    done.set_exception(exc)
                elif not isinstance(exc, CloudError):
                    asyncio.get_running_loop().call_exception_handler(
                        {"message": "shadow request on " + topic + " failed", "exception": exc})

    async def _publish_all(self, responses):
        link = self.link
        for topic, document in responses:
            if link is None or not link.connected:
                return
            await link.publish(topic, encode(document), 1)

    def handle_request(self, topic, payload):
        """Answer one request -> [(topic, document), ...] in publication order. No I/O."""
        return self.responder.answer(topic, payload)

    async def submit(self, topic, payload):
        """Handle a request as if it arrived over MQTT (in order with the others) and
        publish its answers; returns [(topic, document), ...]. Before ``start`` (or
        after ``stop``) the request is handled at once and nothing is published."""
        if not self._running:
            responses = self.handle_request(topic, payload)
            return responses
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((topic, bytes(payload), done))
        return await done

    # -- direct access for tests and cloud tools ----------------------------------------
    def document(self, thing, name=None):
        """The shadow as ``get/accepted`` would show it, or None when it does not exist."""
        return self.responder.document(thing, name)

    async def update_desired(self, thing, desired, name=None, client_token=None):
        """Write ``desired`` as an app would; returns the ``update/accepted`` document.

        The delta and documents messages go out over MQTT like for any update.
        Raises ShadowError when the update is rejected.
        """
        request = {"state": {"desired": desired}}
        if client_token is not None:
            request["clientToken"] = client_token
        topic = shadow_topic(thing, name) + "/update"
        responses = await self.submit(topic, encode(request))
        reply_topic, document = responses[-1]
        if reply_topic.endswith("/rejected"):
            raise ShadowError(document["code"], document["message"])
        return document

