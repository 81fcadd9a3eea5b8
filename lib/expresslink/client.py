"""Async ExpressLink client: configuration, connection, messages, events, shadow."""

from adafruit_ticks import ticks_add, ticks_diff, ticks_ms
from micropython import const

from expresslink.channel import CommandChannel, sleep_ms
from expresslink.commands import encode
from expresslink.errors import ProtocolError
from expresslink.events import parse_event
from expresslink.messages import (
    parse_conf,
    parse_connect,
    parse_connection_status,
    parse_get,
    parse_get_indexed,
    parse_shadow_result,
    parse_time,
)
from expresslink.timeouts import CONNECT_MS

_MAX_KEY_LENGTH = const(16)  # configuration keys: 1..16 alphanumeric characters


def _check_key(key):
    if not isinstance(key, str) or not 1 <= len(key) <= _MAX_KEY_LENGTH:
        raise ValueError("configuration key must be 1..16 characters")
    for char in key:
        if not (("0" <= char <= "9") or ("A" <= char <= "Z") or ("a" <= char <= "z")):
            raise ValueError("configuration key must be alphanumeric: %r" % key)


def _check_index(index, what):
    if not isinstance(index, int) or isinstance(index, bool) or index < 1:
        raise ValueError("%s index must be an int >= 1" % what)


def _shadow(index, parameter):
    """``SHADOW[#] {parameter}``; index None = the unnamed shadow."""
    if index is not None:
        _check_index(index, "shadow")
    return encode("SHADOW", index, parameter)


class ExpressLinkClient:
    """A handle on one ExpressLink module: its commands as methods, its replies parsed.

    ``uart``, ``event_pin`` and the other ``options`` build the ``channel`` (a
    CommandChannel: the link, resync, reset; its counters). ``pin_poll_ms``: EVENT pin
    check interval while waiting for an event (4/s by default); ``event_poll_ms``:
    ``EVENT?`` interval when there is no EVENT pin.
    """

    def __init__(self, uart, *, event_pin=None, pin_poll_ms=250, event_poll_ms=1000,
                 **options):
        self.channel = channel = CommandChannel(uart, event_pin=event_pin, **options)
        self.execute = channel.execute
        self.command = channel.command
        self.wait_ready = channel.wait_ready
        self.ping = channel.ping
        self._event_pin = event_pin
        self.pin_poll_ms = pin_poll_ms
        self.event_poll_ms = event_poll_ms
        self._undelivered = []  # events taken from the module, not yet returned

    # -- configuration --

    async def conf_get(self, key):
        """Value of configuration ``key`` as str (``""`` when empty)."""
        _check_key(key)
        return parse_conf(await self.execute(encode("CONF?", None, key)))

    async def conf_get_pem(self, key):
        """A certificate key (``Certificate``, ``RootCA``...) as multi-line PEM text."""
        _check_key(key)
        return parse_conf(await self.execute(encode("CONF?", None, key + " pem")))

    async def conf_set(self, key, value):
        """Set configuration ``key`` to ``value`` (str or bytes; ``""`` clears it)."""
        _check_key(key)
        if isinstance(value, str):
            value = value.encode()
        await self.execute(encode("CONF", None, key.encode() + b"=" + bytes(value)))

    # -- connection --

    async def connect(self, timeout_ms=CONNECT_MS):
        """Blocking ``CONNECT``; ModuleError 14 (with ``.hint``) when it fails."""
        if not parse_connect(await self.execute(encode("CONNECT"), timeout_ms)):
            raise ProtocolError("CONNECT answered without connecting")

    async def connect_async(self):
        """``CONNECT!``: returns at once; a CONNECT event (param = hint, 0 = success) follows."""
        await self.execute(encode("CONNECT!"))

    async def disconnect(self):
        """``DISCONNECT`` (also fine when already disconnected)."""
        await self.execute(encode("DISCONNECT"))

    async def connection_status(self):
        """``CONNECT?`` as a ConnectionStatus."""
        return parse_connection_status(await self.execute(encode("CONNECT?")))

    async def is_connected(self):
        """True when the module reports an active connection."""
        return (await self.connection_status()).connected

    # -- messaging --

    async def send(self, topic_index, message):
        """Publish ``message`` (str or bytes) on ``Topic{topic_index}`` with the QoS key's QoS."""
        _check_index(topic_index, "topic")
        await self.execute(encode("SEND", topic_index, message))

    async def subscribe(self, topic_index):
        """``SUBSCRIBE#``; SUBACK or SUBNACK arrives later as an event."""
        _check_index(topic_index, "topic")
        await self.execute(encode("SUBSCRIBE", topic_index))

    async def unsubscribe(self, topic_index):
        """``UNSUBSCRIBE#``."""
        _check_index(topic_index, "topic")
        await self.execute(encode("UNSUBSCRIBE", topic_index))

    async def get(self, topic_index=None):
        """Next queued Message or None: any topic (None), unassigned topics (0), or one topic."""
        if topic_index is None:
            return parse_get(await self.execute(encode("GET")))
        if not isinstance(topic_index, int) or isinstance(topic_index, bool) or topic_index < 0:
            raise ValueError("topic index must be an int >= 0")
        response = await self.execute(encode("GET", topic_index))
        if topic_index == 0:
            return parse_get(response, 0)
        return parse_get_indexed(response, topic_index)

    async def time(self):
        """``TIME?`` as ModuleTime (ModuleError 15 before the module has the time)."""
        return parse_time(await self.execute(encode("TIME?")))

    # -- events --

    async def _query_event(self):
        return parse_event(await self.execute(encode("EVENT?")))

    async def poll_event(self):
        """One Event, or None when the queue is empty; with an EVENT pin, None without
        asking the module while the pin is low."""
        if self._undelivered:
            return self._undelivered.pop(0)
        if self._event_pin is not None and not self._event_pin.value:
            return None
        return await self._query_event()

    async def poll_events(self, limit=32):
        """Every queued event (``EVENT?`` until a bare ``OK``, at most ``limit``), oldest first.

        If a query fails midway, the events already taken from the module are kept and
        returned first by the next call.
        """
        events = self._undelivered
        if self._event_pin is None or self._event_pin.value:
            while len(events) < limit:
                event = await self._query_event()
                if event is None:
                    break
                events.append(event)
        self._undelivered = []
        return events

    async def next_event(self, timeout_ms=None):
        """Wait for the next Event; None when ``timeout_ms`` passes first.

        With an EVENT pin: looks at the pin every ``pin_poll_ms`` and asks only while it
        is high. Without: asks ``EVENT?`` every ``event_poll_ms``.
        """
        deadline = None if timeout_ms is None else ticks_add(ticks_ms(), timeout_ms)
        pin = self._event_pin
        while True:
            if self._undelivered:
                return self._undelivered.pop(0)
            if pin is None or pin.value:
                event = await self._query_event()
                if event is not None:
                    return event
            pause = self.event_poll_ms if pin is None else self.pin_poll_ms
            if deadline is not None:
                left = ticks_diff(deadline, ticks_ms())
                if left <= 0:
                    return None
                pause = min(pause, left)
            await sleep_ms(pause)
            if deadline is not None and ticks_diff(ticks_ms(), deadline) >= 0:
                return None

    # -- module control --

    async def reset(self):
        """``RESET``, then wait until the module answers again (STARTUP stays queued)."""
        await self.channel.restart(encode("RESET"))

    async def factory_reset(self):
        """``FACTORY_RESET``, then wait until the module answers again."""
        await self.channel.restart(encode("FACTORY_RESET"))

    # -- device shadow (index None = unnamed shadow, n = key Shadow{n}) --

    async def shadow_init(self, index=None):
        """``SHADOW INIT``; SHADOW INIT / SHADOW INIT FAILED event follows."""
        await self.execute(_shadow(index, "INIT"))

    async def shadow_request_doc(self, index=None):
        """``SHADOW DOC``; a SHADOW DOC event says the document has arrived."""
        await self.execute(_shadow(index, "DOC"))

    async def shadow_get_doc(self, index=None):
        """``SHADOW GET DOC``: ShadowResult, or None while the answer has not arrived."""
        return parse_shadow_result(await self.execute(_shadow(index, "GET DOC")))

    async def shadow_update(self, document, index=None):
        """``SHADOW UPDATE {document}`` (JSON str or bytes); SHADOW UPDATE event follows."""
        if isinstance(document, str):
            document = document.encode()
        await self.execute(_shadow(index, b"UPDATE " + bytes(document)))

    async def shadow_get_update(self, index=None):
        """``SHADOW GET UPDATE``: ShadowResult, or None while pending."""
        return parse_shadow_result(await self.execute(_shadow(index, "GET UPDATE")))

    async def shadow_subscribe(self, index=None):
        """``SHADOW SUBSCRIBE`` to delta updates; SHADOW SUBACK / SUBNACK event follows."""
        await self.execute(_shadow(index, "SUBSCRIBE"))

    async def shadow_unsubscribe(self, index=None):
        """``SHADOW UNSUBSCRIBE``."""
        await self.execute(_shadow(index, "UNSUBSCRIBE"))

    async def shadow_get_delta(self, index=None):
        """``SHADOW GET DELTA``: the delta document (bytes), or None when there is none."""
        response = await self.execute(_shadow(index, "GET DELTA"))
        return response.detail or None
