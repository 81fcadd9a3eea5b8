"""The cloud side of the AWS IoT Device Shadow MQTT protocol, as an MQTT client of any broker.

Subscribes to the get/update/delete request topics of classic and named shadows,
answers on ``.../accepted`` and ``.../rejected``, and publishes ``update/delta`` and
``update/documents`` (in that order, then ``update/accepted``, as AWS's local shadow
manager does). Requests are handled one at a time in arrival order by one worker task.
Responses are compact one-line JSON, published with QoS 1 and not retained.

Time: with a simulator ``clock``, timestamps are ``epoch_s + clock.now()`` whole
seconds (deterministic); without one, the wall clock.

Choices where shared/shadow.md leaves things open ("[inf]"):
- requests beyond ``max_requests_per_s`` (20) per thing within one second get
  429 "Too Many Requests"; requests are answered one at a time as they arrive, so the
  10-requests-in-flight limit never comes into play;
- a get/delete body that is not a JSON object is ignored (answered without token);
- bad thing or shadow names get 400 with a "must match pattern" message;
- ``.../rejected`` documents carry a timestamp except for 404 and 409, as AWS's do;
- last-will messages on ``$aws`` topics are handled like any request (the service
  cannot tell them apart).
"""

import asyncio
import collections
import json
import time

from sim.cloud.errors import CloudError
from sim.cloud.shadow_document import (TOO_MANY_REQUESTS, ShadowError, ShadowStore, check_names,
                                       client_token, parse_request)

REQUEST_FILTERS = tuple("$aws/things/+/shadow/" + middle + operation
                        for middle in ("", "name/+/") for operation in ("get", "update", "delete"))
OPERATIONS = ("get", "update", "delete")
DEFAULT_EPOCH_S = 1_700_000_000


def shadow_topic(thing, name=None):
    """The topic prefix ``P`` of shadow.md: classic or named shadow of ``thing``."""
    prefix = "$aws/things/" + thing + "/shadow"
    return prefix if name is None else prefix + "/name/" + name


def parse_request_topic(topic):
    """``$aws/things/T/shadow[/name/N]/OP`` -> (thing, name or None, op), else None."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[:2] == ["$aws", "things"] and parts[3] == "shadow":
        thing, name, operation = parts[2], None, parts[4]
    elif (len(parts) == 7 and parts[:2] == ["$aws", "things"] and parts[3] == "shadow"
          and parts[4] == "name"):
        thing, name, operation = parts[2], parts[5], parts[6]
    else:
        return None
    return (thing, name, operation) if operation in OPERATIONS else None


def encode(document):
    return json.dumps(document, separators=(",", ":")).encode("ascii")


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
        self.store = store if store is not None else ShadowStore()
        self.rate_limit = _RateLimit(max_requests_per_s)
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

    def _monotonic(self):
        return self.clock.now() if self.clock is not None else time.monotonic()

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
        parsed = parse_request_topic(topic)
        if parsed is None:
            return []
        thing, name, operation = parsed
        prefix = shadow_topic(thing, name) + "/" + operation
        now = self.now()
        token = None
        try:
            if operation == "update":
                request = parse_request(payload)
                token = client_token(request)
            else:
                # get/delete: the body is optional and only its clientToken matters;
                # an unreadable body counts as none.
                try:
                    request = parse_request(payload) if payload else {}
                except ShadowError:
                    request = {}
                token = client_token(request)
            check_names(thing, name)
            if not self.rate_limit.admit(thing, self._monotonic()):
                raise ShadowError(429, TOO_MANY_REQUESTS)
            if operation == "get":
                return [(prefix + "/accepted", _with_token(self.store.get(thing, name, now), token))]
            if operation == "delete":
                return [(prefix + "/accepted", _with_token(self.store.delete(thing, name, now), token))]
            result = self.store.update(thing, name, request, now)
        except ShadowError as error:
            return [(prefix + "/rejected", error.document(now, token))]
        responses = []
        if result.delta is not None:
            responses.append((prefix + "/delta", _with_token(result.delta, token)))
        responses.append((prefix + "/documents", _with_token(result.documents, token)))
        responses.append((prefix + "/accepted", _with_token(result.accepted, token)))
        return responses

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
        try:
            return self.store.get(thing, name, self.now())
        except ShadowError:
            return None

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


def _with_token(document, token):
    if token is not None:
        document["clientToken"] = token
    return document
