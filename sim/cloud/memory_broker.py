"""An in-memory MQTT-like hub for fast tests: many clients, topic filters, no retained messages.

``MemoryBroker`` routes publishes to every session (and local listener) with a matching
filter, once per session, in a later loop step (never re-entrantly). ``MemoryCloudLink``
is one client's :class:`~sim.expresslink.cloud.CloudLink`. Knobs on the broker:
``unreachable`` (connect raises hint 3), ``refuse_all`` / ``refused_client_ids``
(hint 5), ``denied_filters`` (SUBSCRIBE refused), ``latency_s`` (per operation).
"""

import asyncio

from sim.expresslink.cloud import CloudError, CloudLink
from sim.expresslink.codes import HINT_MQTT_LOGIN, HINT_UNREACHABLE
from sim.expresslink.queues import topic_matches


def valid_filter(topic_filter):
    """MQTT 3.1.1 filter syntax: non-empty, ``#`` only as the whole last level, ``+`` whole."""
    if not topic_filter:
        return False
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def _check_qos(qos):
    """QoS 0 and 1 only, as on ``MqttCloudLink`` (and ExpressLink): anything else is a caller bug."""
    if qos not in (0, 1):
        raise ValueError("QoS must be 0 or 1, got " + repr(qos))


class MemoryBroker:
    """The hub. ``link()`` makes a client; ``listen()`` taps topics from the test side."""

    def __init__(self, latency_s=0.0):
        self.latency_s = latency_s
        self.sessions = {}  # client_id -> MemoryCloudLink
        self.listeners = []  # [topic_filter, callback(topic, payload)]
        self.log = []  # (client_id or None, topic, payload, qos) of every publish
        self.unreachable = False
        self.refuse_all = False
        self.refused_client_ids = set()
        self.denied_filters = set()
        self.connects = 0

    def link(self):
        return MemoryCloudLink(self)

    def listen(self, topic_filter, callback):
        """Call ``callback(topic, payload)`` for each matching publish; returns a handle."""
        entry = [topic_filter, callback]
        self.listeners.append(entry)
        return entry

    def unlisten(self, handle):
        if handle in self.listeners:
            self.listeners.remove(handle)

    def publish(self, topic, payload, qos=0, sender=None):
        """Route a message from ``sender`` (a client id, or None for the test side)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        payload = bytes(payload)
        self.log.append((sender, topic, payload, qos))
        loop = asyncio.get_running_loop()
        for link in list(self.sessions.values()):
            if any(topic_matches(f, topic) for f in link.filters):
                loop.call_soon(link._deliver_in, link.session, topic, payload)
        for topic_filter, callback in list(self.listeners):
            if topic_matches(topic_filter, topic):
                loop.call_soon(callback, topic, payload)

    def drop(self, client_id, reason="dropped by broker"):
        """End a session from the broker's side (its will is published)."""
        link = self.sessions.get(client_id)
        if link is not None:
            link._kick(reason)

    def published(self, topic_filter="#"):
        """[(topic, payload)] of logged publishes matching ``topic_filter``."""
        return [(t, p) for _, t, p, _ in self.log if topic_matches(topic_filter, t)]

    def _attach(self, link, client_id):
        old = self.sessions.get(client_id)
        if old is not None and old is not link:
            old._kick("session taken over by a new connection")
        self.sessions[client_id] = link
        self.connects += 1

    def _detach(self, link):
        if self.sessions.get(link.client_id) is link:
            del self.sessions[link.client_id]


class MemoryCloudLink(CloudLink):
    """One client session on a :class:`MemoryBroker` (clean session at each connect)."""

    def __init__(self, broker):
        self.broker = broker
        self.connected = False
        self.client_id = None
        self.filters = set()
        self.will = None
        self.keepalive_s = None
        self.session = 0  # bumps per connect: deliveries to an old session are dropped

    async def _pause(self):
        await asyncio.sleep(self.broker.latency_s)

    async def connect(self, client_id, keepalive_s=60, will=None):
        broker = self.broker
        await self._pause()
        if broker.unreachable:
            raise CloudError(HINT_UNREACHABLE, "broker unreachable")
        if broker.refuse_all or client_id in broker.refused_client_ids:
            raise CloudError(HINT_MQTT_LOGIN, "connection refused: not authorized")
        if self.connected:
            broker._detach(self)
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.will = will
        self.filters = set()
        self.session += 1
        self.connected = True
        broker._attach(self, client_id)

    async def disconnect(self):
        if self.connected:
            self.connected = False
            self.filters = set()
            self.broker._detach(self)
        await self._pause()

    async def abort(self):
        """An unclean end (network gone): the broker publishes the will."""
        if self.connected:
            self._end(publish_will=True)
        await self._pause()

    async def publish(self, topic, payload, qos=0):
        _check_qos(qos)
        self._require_session()
        await self._pause()
        self._require_session()
        self.broker.publish(topic, payload, qos, sender=self.client_id)

    async def subscribe(self, topic_filter, qos=1):
        _check_qos(qos)
        self._require_session()
        await self._pause()
        self._require_session()
        if not valid_filter(topic_filter) or topic_filter in self.broker.denied_filters:
            return False
        self.filters.add(topic_filter)
        return True

    async def unsubscribe(self, topic_filter):
        self._require_session()
        await self._pause()
        self.filters.discard(topic_filter)

    def _require_session(self):
        if not self.connected:
            raise CloudError(HINT_UNREACHABLE, "not connected")

    def _deliver_in(self, session, topic, payload):
        if self.connected and session == self.session:
            self._deliver(topic, payload)

    def _end(self, publish_will):
        self.connected = False
        self.filters = set()
        self.broker._detach(self)
        will = self.will
        if publish_will and will is not None:
            self.broker.publish(will[0], will[1], will[2], sender=None)

    def _kick(self, reason):
        if not self.connected:
            return
        self._end(publish_will=True)
        asyncio.get_running_loop().call_soon(self._lost, reason)
