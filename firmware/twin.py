"""The badge's device shadow over the ExpressLink module: apply desired, report shown.

Per connection (the module forgets shadow set-up when it reconnects): ``EnableShadow``
before CONNECT, then ``SHADOW INIT``; on the INIT event ``SHADOW SUBSCRIBE`` (deltas)
and ``SHADOW DOC`` (desired state set while the badge was away). The document's
desired keys and every later delta are checked and applied, then one ``SHADOW UPDATE``
reports what the badge shows and sets the handled desired keys to null. Deltas whose
version is not newer than the last document or delta are stale and ignored. One update
is in flight at a time; changes meanwhile are merged into the next report.
"""

from adafruit_ticks import ticks_diff, ticks_ms
from expresslink.errors import ModuleError
from expresslink.events import (
    SHADOW_DELTA,
    SHADOW_DOC,
    SHADOW_INIT,
    SHADOW_INIT_FAILED,
    SHADOW_SUBNACK,
    SHADOW_UPDATE,
)
from micropython import const

from firmware.shadow_doc import (
    ShadowDocError,
    desired_requests,
    read_delta,
    read_document,
    unknown_keys,
    update_json,
)

_ERR_SHADOW = const(24)
# An update whose answer has not come after this long counts as lost (ms).
_UPDATE_TIMEOUT_MS = const(15000)


class ShadowTwin:
    """``content``: the ContentManager; ``log(topic, message)``."""

    def __init__(self, content, log):
        self._content = content
        self._log = log
        self._enabled = True  # False when the module refused the shadow this session
        self._ready = False  # the document of this session has been handled
        self._report_wanted = True
        self._done_keys = []  # desired keys to set to null in the next update
        self._update_sent_ms = None  # ticks_ms of the update in flight, if any
        self._version = -1  # of the last document or delta
        self.reports = 0
        self.applied = 0

    def request_report(self):
        """Report again at the next chance (what is shown has changed)."""
        self._report_wanted = True

    # -- session set-up ------------------------------------------------------------------
    async def configure(self, client):
        """Before CONNECT: the shadow commands need ``EnableShadow=1``. A module that
        refuses it gets no shadow in this session; content over MQTT still works."""
        self._enabled = False
        try:
            await client.conf_set("EnableShadow", "1")
        except ModuleError as error:
            self._log("shadow", "not available (%s); carrying on without it" % error)
            return
        self._enabled = True

    async def start(self, client):
        """After CONNECT: ``SHADOW INIT``; the rest follows its event."""
        self._ready = False
        self._update_sent_ms = None
        self._report_wanted = True
        self._version = -1  # a shadow deleted long ago may start again from 0
        if not self._enabled:
            return
        try:
            await client.shadow_init()
        except ModuleError as error:
            if error.code != _ERR_SHADOW:
                raise
            self._enabled = False  # e.g. not onboarded: no shadow on this connection
            self._log("shadow", "not available (%s); carrying on without it" % error)

    # -- events --------------------------------------------------------------------------
    async def on_event(self, client, event):
        """Handle one SHADOW event (ids 20..27) from the module's queue."""
        eid = event.id
        try:
            if eid == SHADOW_INIT:
                await client.shadow_subscribe()
                await client.shadow_request_doc()
            elif eid == SHADOW_INIT_FAILED:
                self._log("shadow", "the module could not set up the shadow")
            elif eid == SHADOW_DOC:
                await self._read_document(client)
            elif eid == SHADOW_DELTA:
                await self._read_delta(client)
            elif eid == SHADOW_UPDATE:
                await self._read_update_result(client)
            elif eid == SHADOW_SUBNACK:
                self._log("shadow", "the subscription to deltas was refused")
        except ModuleError as error:
            if error.code != _ERR_SHADOW:
                raise
            self._log("shadow", "%s refused: %s" % (event.name, error))

    async def _read_document(self, client):
        result = await client.shadow_get_doc()
        if result is None:
            return
        if result.accepted:
            try:
                version, desired = read_document(result.document)
            except ShadowDocError as why:
                self._content.reject("shadow", str(why), "shadow document")
                desired = {}
                version = None
            if version is not None and version < self._version:
                desired = {}  # older than a delta already applied
            elif version is not None:
                self._version = version
            self._apply(desired, "shadow document")
        elif result.document and b'"code":404' in result.document:
            # A new badge has no shadow yet: the first report creates it.
            self._log("shadow", "none yet; the first report creates it")
        else:
            self._log("shadow", "document refused (%s)" % _short(result.document))
        self._ready = True
        self._report_wanted = True

    async def _read_delta(self, client):
        raw = await client.shadow_get_delta()
        if raw is None:
            return
        try:
            version, delta = read_delta(raw)
        except ShadowDocError as why:
            self._content.reject("shadow", str(why), "shadow delta")
            return
        if version is not None:
            if version <= self._version:
                return  # stale: already covered by a newer document or delta
            self._version = version
        self._apply(delta, "shadow delta")

    async def _read_update_result(self, client):
        result = await client.shadow_get_update()
        if result is None:
            return
        self._update_sent_ms = None
        if not result.accepted:
            self._log("shadow", "report refused: %s" % _short(result.document))

    def _apply(self, desired, source):
        content = self._content
        for key, value, error in desired_requests(desired):
            if key not in self._done_keys:
                self._done_keys.append(key)
            self.applied += 1
            if error is not None:
                content.reject(key, error, source)
            elif key == "screen":
                content.choose_screen(value, source)
            else:
                content.receive(key, value, source)
        unknown = unknown_keys(desired)
        if unknown:
            self._log("shadow", "desired %s: not for the badge, left alone" % ", ".join(unknown))
        if self._done_keys:
            self._report_wanted = True

    # -- reporting -----------------------------------------------------------------------
    async def sync(self, client):
        """Send the report if one is wanted and the shadow is ready for it."""
        if not self._ready or not self._report_wanted:
            return
        sent = self._update_sent_ms
        if sent is not None:
            if ticks_diff(ticks_ms(), sent) < _UPDATE_TIMEOUT_MS:
                return
            self._log("shadow", "no answer to the last report; sending it again")
        document = update_json(self._content.reported(), self._done_keys)
        try:
            await client.shadow_update(document)
        except ModuleError as error:
            if error.code != _ERR_SHADOW:
                raise
            self._log("shadow", "report not sent: %s" % error)
            return
        self._update_sent_ms = ticks_ms()
        self._report_wanted = False
        self._done_keys = []
        self.reports += 1


def _short(raw, limit=80):
    """A response document for the console, cut to ``limit`` bytes."""
    if isinstance(raw, str):
        return raw[:limit]
    try:
        return str(bytes(raw[:limit]), "utf-8")
    except ValueError:  # cut inside a character
        return repr(bytes(raw[:limit]))
