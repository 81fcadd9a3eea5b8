"""The emulated module's interface to the cloud: one MQTT session per module.

The module talks to the cloud only through a :class:`CloudLink`. Two implementations
exist: :class:`sim.cloud.memory_broker.MemoryCloudLink` (in memory, for fast tests)
and ``sim.cloud.mqtt_link.MqttCloudLink`` (MQTT 3.1.1 over TCP to a real broker).

Contract for implementations:

- Everything runs on the event loop the module runs on; callbacks are called from
  that loop's thread, never from a foreign thread, and never re-entrantly from inside
  ``publish`` (schedule delivery with ``loop.call_soon`` or deliver from a reader task).
- ``connect`` opens a *clean* session (no stored subscriptions, no queued messages):
  the module is stateless, after a reconnect the host subscribes again.
- ``client_id`` is the module's ThingName. ``will`` is ``(topic: str, payload: bytes,
  qos: int, retain: bool)`` built from the LWTConfig and LWTMessage keys, or None.
- ``on_connection_lost(reason)`` is called once when an established session ends for
  any reason other than a call to ``disconnect`` (broker gone, kicked by a second
  client with the same id, keep-alive timeout, policy violation).
- ``publish`` with qos 1 returns after the PUBACK; it raises ``CloudError`` (or
  ``ConnectionError``) when there is no session.
"""


class CloudError(Exception):
    """A failed connection attempt; ``hint`` is the ExpressLink CONNECT hint code.

    Hints are the ``HINT_*`` codes of :mod:`sim.expresslink.codes` (2 network access
    failed, 3 endpoint unreachable, 4 TLS failed, 5 MQTT login refused, 6 policy).
    """

    def __init__(self, hint, detail=""):
        super().__init__(hint, detail)
        self.hint = int(hint)
        self.detail = detail

    def __str__(self):
        return "hint %d: %s" % (self.hint, self.detail)


class CloudLink:
    """Base class: one module's MQTT session. Subclasses implement the coroutines."""

    connected = False
    on_message = None  # callable(topic: str, payload: bytes), set by the module
    on_connection_lost = None  # callable(reason: str), set by the module

    async def connect(self, client_id, keepalive_s=60, will=None):
        """Open a clean MQTT session; raises CloudError(hint, detail) on failure."""
        raise NotImplementedError

    async def disconnect(self):
        """Close the session (no will is sent); harmless when not connected."""
        raise NotImplementedError

    async def publish(self, topic, payload, qos=0):
        """Publish ``payload`` (bytes) on ``topic`` with QoS 0 or 1."""
        raise NotImplementedError

    async def subscribe(self, topic_filter, qos=1):
        """Subscribe; True when the broker granted it (SUBACK), False when refused."""
        raise NotImplementedError

    async def unsubscribe(self, topic_filter):
        """Unsubscribe; returns after the UNSUBACK."""
        raise NotImplementedError

    # -- helpers for implementations ----------------------------------------------------
    def _deliver(self, topic, payload):
        callback = self.on_message
        if callback is not None:
            callback(topic, payload)

    def _lost(self, reason):
        callback = self.on_connection_lost
        if callback is not None:
            callback(reason)


# What a cloud call may raise when the session is gone or the broker fails.
CLOUD_FAILURES = (CloudError, OSError, ConnectionError)

# A connect or publish without an answer for this long (s) has failed; below the
# specification's 120 s MaxExec.
CLOUD_TIMEOUT_S = 60.0
