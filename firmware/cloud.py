"""The cloud session: topics, connection, publishing the outbox, module events.

One task drives the ExpressLink module through its whole life: wait until it answers,
set the topics (``badge/<thing>/...``), connect (with backoff), subscribe, then publish
readings in order while handling the module's events. Any break (connection lost,
module reset, a broken exchange) starts the session over; readings wait in the outbox
meanwhile.
"""

import asyncio

from expresslink.errors import (
    CommandTimeout,
    ExpressLinkError,
    LineTooLong,
    ModuleError,
    StateError,
)
from expresslink.events import (
    CONLOST,
    MSG,
    OVERRUN,
    SHADOW_INIT,
    SHADOW_SUBNACK,
    STARTUP,
    SUBACK,
    SUBNACK,
)

from firmware.tasks import sleep_ms
from firmware.telemetry import telemetry_json

# Topic index -> suffix of badge/<thing>/<suffix>. Index 1 is published, the rest
# are subscribed.
TOPICS = ((1, "telemetry"), (2, "qr"), (3, "photo"), (4, "name"))
TELEMETRY = 1
SUBSCRIBED = (2, 3, 4)

_ERR_NO_CONNECTION = 6
_MAX_BACKOFF_S = 60
# ERR14 hint 1: the module refused to try, its own backoff window is still open. The
# badge then asks again this soon (s) instead of adding its own growing delay on top.
_HINT_MODULE_BACKOFF = 1
_MODULE_BACKOFF_RETRY_S = 5
# Without an EVENT pin the session asks ``EVENT?`` this often (s) while connected.
_QUERY_WITHOUT_PIN_S = 1.0
# The EVENT line still reads high after the module's queue was emptied (s): look again
# this soon. Usually the scanner has not seen the fall yet and an edge comes within
# one scan interval; if a new event came before that scan, no edge ever comes. Each
# further look that finds the line high doubles the pause, up to _QUERY_WITHOUT_PIN_S.
_RECHECK_HIGH_S = 0.01
_NOTICE_S = 4  # a refused message is noticed on the screen this long
# While connected and idle with an EVENT pin, the session says ``AT`` after this long (s)
# without news: a module that hung is found (and reset) without waiting for a reading.
_IDLE_CHECK_S = 30


class SessionEnded(Exception):
    """The module lost its connection or restarted: set everything up again."""


class CloudSession:
    """Runs forever (under ``supervise``); ``on_message(suffix, payload)`` gets content.

    ``wake`` (an asyncio.Event) is set by whoever has news for the session: the EVENT
    line's watcher when the line goes high, the sampler when a reading enters the
    outbox. While connected and idle the session sleeps on it, and says ``AT`` after
    ``_IDLE_CHECK_S`` without news: a hung module then fails its answer, as it would a
    publish, and is reset.
    ``event_pin``: the EVENT line (an :class:`~firmware.event_line.EventLine`), or None
    to ask ``EVENT?`` every ``_QUERY_WITHOUT_PIN_S``.

    ``shadow`` (a ShadowTwin, optional) is set up in every session and gets the
    module's SHADOW events.
    """

    def __init__(self, client, state, outbox, log, wake, on_message=None, event_pin=None,
                 shadow=None):
        self._client = client
        self._state = state
        self._outbox = outbox
        self._log = log
        self._on_message = on_message
        self._wake = wake
        self._event_pin = event_pin  # the EVENT input (``.value``), or None
        self._suffix_of_topic = {}  # "badge/<thing>/qr" -> "qr", set per session
        self._shadow = shadow
        self._backoff_s = 1
        self.published = 0
        self.overruns = 0
        self.sessions = 0

    def _set_link(self, status):
        if self._state.link_status != status:
            self._state.link_status = status
            self._state.changed()

    async def run(self):
        while True:
            try:
                await self._session()
            except SessionEnded as why:
                self._log("cloud", "%s; reconnecting" % why)
                self._set_link("offline")
            except CommandTimeout as error:
                self._log("cloud", "module not answering (%s)" % error)
                self._set_link("no module")
            except ModuleError as error:
                self._set_link("offline")
                if error.hint_code == _HINT_MODULE_BACKOFF:
                    self._log("cloud", "%s; retrying in %d s" % (error, _MODULE_BACKOFF_RETRY_S))
                    await sleep_ms(_MODULE_BACKOFF_RETRY_S * 1000)
                    continue
                self._log("cloud", "%s; retrying in %d s" % (error, self._backoff_s))
            except StateError:
                raise  # our own bug, not the link's: the supervisor logs its traceback
            except ExpressLinkError as error:
                self._log("cloud", "%s; retrying in %d s" % (error, self._backoff_s))
                self._set_link("offline")
            await sleep_ms(self._backoff_s * 1000)
            self._backoff_s = min(self._backoff_s * 2, _MAX_BACKOFF_S)

    async def _session(self):
        client = self._client
        await client.wait_ready()
        # Events queued before this session (the boot's STARTUP, a stale CONLOST)
        # describe a module that is being set up afresh now.
        await client.poll_events()
        thing = await client.conf_get("ThingName")
        if thing != self._state.thing_name:
            self._state.thing_name = thing
            self._state.changed()
        self._suffix_of_topic = {}
        for index, suffix in TOPICS:
            topic = "badge/%s/%s" % (thing, suffix)
            await client.conf_set("Topic%d" % index, topic)
            self._suffix_of_topic[topic] = suffix
        await client.conf_set("QoS", "1")
        if self._shadow is not None:
            await self._shadow.configure(client)
        self._set_link("connecting")
        await client.connect()
        self.sessions += 1
        self._backoff_s = 1
        self._log("cloud", "connected as %s" % thing)
        for index in SUBSCRIBED:
            await client.subscribe(index)
        if self._shadow is not None:
            await self._shadow.start(client)
        self._set_link("online")
        wake = self._wake
        recheck_s = _RECHECK_HIGH_S
        while True:
            wake.clear()
            await self._publish_outbox()
            if await self._handle_events():
                # New content: let the display task draw it before the shadow report
                # keeps the UART (and, while its bytes go out, the loop) busy.
                await sleep_ms(0)
            if self._shadow is not None:
                await self._shadow.sync(client)
            if len(self._outbox):
                continue
            pin = self._event_pin
            if pin is not None and not pin.value:
                recheck_s = _RECHECK_HIGH_S
                try:
                    await asyncio.wait_for(wake.wait(), _IDLE_CHECK_S)
                except asyncio.TimeoutError:
                    await client.ping()
                continue
            if pin is None:
                timeout_s = _QUERY_WITHOUT_PIN_S
            else:  # a line that stays high with nothing to read is looked at less often
                timeout_s = recheck_s
                recheck_s = min(recheck_s * 2, _QUERY_WITHOUT_PIN_S)
            try:
                await asyncio.wait_for(wake.wait(), timeout_s)
            except asyncio.TimeoutError:
                pass

    async def _publish_outbox(self):
        outbox = self._outbox
        while len(outbox):
            reading = outbox.peek()
            try:
                await self._client.send(TELEMETRY, telemetry_json(reading))
            except ModuleError as error:
                if error.code == _ERR_NO_CONNECTION:
                    raise SessionEnded("connection lost while publishing")
                raise
            outbox.pop()
            self.published += 1

    async def _handle_events(self):
        """Act on each queued event as it is read (a message is fetched before the
        rest of the queue is); True if content arrived.

        When the EVENT pin is high, the oldest message (if any) is fetched first with
        a plain ``GET``, which names its topic: content reaches the screen one
        ``EVENT?`` exchange sooner. Its MSG event later finds nothing left to fetch.
        """
        fetched = False
        pin = self._event_pin
        if pin is not None and pin.value:
            fetched = await self._fetch_oldest()
        while True:
            event = await self._client.poll_event()
            if event is None:
                if pin is not None:
                    pin.module_empty()
                return fetched
            if event.id == MSG:
                fetched = await self._fetch(event.param) or fetched
            elif event.id == CONLOST:
                raise SessionEnded("connection lost")
            elif event.id == STARTUP:
                raise SessionEnded("module restarted")
            elif event.id == OVERRUN:
                self.overruns += 1
                self._log("cloud", "module dropped an incoming message (queue full)")
            elif event.id == SUBNACK:
                self._log("cloud", "subscription to topic %d refused" % event.param)
            elif SHADOW_INIT <= event.id <= SHADOW_SUBNACK:
                if self._shadow is not None:
                    await self._shadow.on_event(self._client, event)
            elif event.id != SUBACK:
                self._log("cloud", "event %d %s" % (event.id, event.name))

    async def _get(self, index=None):
        """The next message (of topic ``index``), or None; a message longer than the
        badge's line buffer is refused (logged and noticed on the screen)."""
        try:
            return await self._client.get(index)
        except LineTooLong as error:
            self._log("cloud", "message refused: %s" % error)
            self._state.show_notice("not shown: message %s" % error, _NOTICE_S)
            return None

    async def _fetch_oldest(self):
        """``GET``: the oldest message of any topic, dispatched by its topic name."""
        message = await self._get()
        if message is None:
            return False
        suffix = self._suffix_of_topic.get(message.topic)
        if suffix is None or self._on_message is None:
            self._log("cloud", "message on %s ignored" % message.topic)
            return False
        self._on_message(suffix, message.payload)
        return True

    async def _fetch(self, index):
        message = await self._get(index)
        if message is None:  # the MSG event outlived a dropped message (OVERRUN)
            return False
        suffix = None
        for topic_index, name in TOPICS:
            if topic_index == index:
                suffix = name
        if suffix is None or self._on_message is None:
            self._log("cloud", "message on topic %d ignored" % index)
            return False
        self._on_message(suffix, message.payload)
        return True
