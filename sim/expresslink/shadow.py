"""The SHADOW command family: the device side of the AWS IoT Device Shadow MQTT protocol.

``SHADOW`` (no suffix) is the classic shadow (events report index 0); ``SHADOW{n}`` the
named shadow whose name is in key ``Shadow{n}``. Requests carry ``clientToken`` =
ShadowToken; get/update/delete replies count only when they carry that token (all
replies count when ShadowToken is empty); deltas are never filtered by token.
"""

import json

from sim.expresslink.cloud import CLOUD_FAILURES
from sim.expresslink.codes import (
    ERR_NO_CONNECTION,
    ERR_OUT_OF_RANGE,
    ERR_PARAMETER,
    ERR_PARAMETER_UNDEFINED,
    ERR_SHADOW,
    EVENT_SHADOW_DELETE,
    EVENT_SHADOW_DELTA,
    EVENT_SHADOW_DOC,
    EVENT_SHADOW_INIT,
    EVENT_SHADOW_INIT_FAILED,
    EVENT_SHADOW_SUBACK,
    EVENT_SHADOW_SUBNACK,
    EVENT_SHADOW_UPDATE,
    ModuleError,
)
from sim.expresslink.parser import ok_line

# request kind -> (request topic suffix, event raised when its reply arrives)
_REQUESTS = {
    "DOC": ("get", EVENT_SHADOW_DOC),
    "UPDATE": ("update", EVENT_SHADOW_UPDATE),
    "DELETE": ("delete", EVENT_SHADOW_DELETE),
}
_REPLY_SUFFIXES = {}
for _kind, (_verb, _event) in _REQUESTS.items():
    _REPLY_SUFFIXES[_verb + "/accepted"] = (_kind, 1)
    _REPLY_SUFFIXES[_verb + "/rejected"] = (_kind, 0)
_DELTA_SUFFIX = "update/delta"

REQUEST_TIMEOUT_S = 10.0  # an unanswered request stops blocking a new one after this


def shadow_prefix(thing, name):
    """``$aws/things/{thing}/shadow`` or ``.../shadow/name/{name}``."""
    if name:
        return "$aws/things/%s/shadow/name/%s" % (thing, name)
    return "$aws/things/%s/shadow" % thing


class ShadowState:
    """What the module remembers about one shadow between commands."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.initialized = False
        self.subscribed = False
        self.pending_until = {}  # kind -> time (s) until which a request is outstanding
        self.results = {}  # kind -> (1 accepted / 0 rejected, payload bytes)
        self.delta = None


class ShadowService:
    """The SHADOW[#] commands and the routing of shadow replies to them.

    ``ctx``: the module's ``ModuleContext`` (configuration, session, cloud, events, spawn).
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.states = {}  # index -> ShadowState

    def reset(self):
        self.states.clear()

    def connection_lost(self):
        """INIT and subscriptions belong to one connection; unread results stay."""
        for state in self.states.values():
            state.initialized = False
            state.subscribed = False
            state.pending_until.clear()

    # -- the command ------------------------------------------------------------------------
    async def cmd_shadow(self, cmd):
        ctx = self.ctx
        config = ctx.config
        index = 0
        name = ""
        if cmd.suffix is not None:
            if not 1 <= cmd.suffix <= config.max_shadow:
                raise ModuleError(ERR_OUT_OF_RANGE)
            index = cmd.suffix
            name = config.shadow_name(index)
            if not name:
                raise ModuleError(ERR_PARAMETER_UNDEFINED)
        if not cmd.param:
            raise ModuleError(ERR_PARAMETER, "subcommand missing")
        head, _, rest = cmd.param.partition(b" ")
        verb = head.decode("latin-1").upper()
        if verb == "GET":
            what = rest.strip().decode("latin-1").upper()
            if what not in ("DOC", "UPDATE", "DELETE", "DELTA"):
                raise ModuleError(ERR_PARAMETER, "GET DOC, UPDATE, DELETE or DELTA")
        elif verb not in ("INIT", "DOC", "UPDATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE"):
            raise ModuleError(ERR_PARAMETER, "unknown SHADOW subcommand")
        elif verb != "UPDATE" and rest.strip():
            raise ModuleError(ERR_PARAMETER)
        if not config.shadow_enabled:
            raise ModuleError(ERR_SHADOW, "EnableShadow is 0")
        if not config.onboarded:
            raise ModuleError(ERR_SHADOW, "not onboarded")
        if verb == "GET":
            return self._get(index, what)
        if not ctx.session.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        prefix = shadow_prefix(config.thing_name, name)
        if verb == "INIT":
            state = self.states.get(index)
            if state is None or state.prefix != prefix:
                state = self.states[index] = ShadowState(prefix)
            state.initialized = False
            ctx.spawn(self._init(index, state, ctx.session.epoch))
            return ok_line()
        state = self.states.get(index)
        if state is None or not state.initialized:
            raise ModuleError(ERR_SHADOW, "not initialized")
        if verb == "SUBSCRIBE":
            ctx.spawn(self._subscribe_delta(index, state, ctx.session.epoch))
            return ok_line()
        if verb == "UNSUBSCRIBE":
            state.subscribed = False
            ctx.spawn(self._unsubscribe_delta(state))
            return ok_line()
        return await self._request(index, state, verb, rest)

    def _get(self, index, what):
        state = self.states.get(index)
        if what == "DELTA":
            if state is None or state.delta is None:
                return ok_line()
            delta, state.delta = state.delta, None
            return ok_line(delta)
        if state is None or what not in state.results:
            return ok_line()
        flag, payload = state.results.pop(what)
        return ok_line(b"%d " % flag + payload)

    async def _request(self, index, state, kind, body):
        ctx = self.ctx
        now = ctx.clock.now()
        if state.pending_until.get(kind, 0.0) > now:
            raise ModuleError(ERR_SHADOW, "request pending")
        token = ctx.config.get("ShadowToken")
        if kind == "UPDATE":
            try:
                doc = json.loads(body)
            except ValueError:
                raise ModuleError(ERR_PARAMETER, "invalid JSON") from None
            if not isinstance(doc, dict):
                raise ModuleError(ERR_PARAMETER, "JSON object expected")
            if "clientToken" in doc and token:
                raise ModuleError(ERR_SHADOW, "clientToken set by ShadowToken")
            if token:
                doc["clientToken"] = token
            payload = json.dumps(doc, separators=(",", ":")).encode("utf-8")
        else:
            payload = json.dumps({"clientToken": token}).encode("utf-8") if token else b""
        verb = _REQUESTS[kind][0]
        state.results.pop(kind, None)
        state.pending_until[kind] = now + REQUEST_TIMEOUT_S
        try:
            await ctx.cloud.publish(state.prefix + "/" + verb, payload, 1)
        except CLOUD_FAILURES:
            state.pending_until.pop(kind, None)
            raise ModuleError(ERR_NO_CONNECTION) from None
        return ok_line()

    # -- background work ----------------------------------------------------------------------
    async def _subscribe(self, index, state, epoch, suffixes):
        """Subscribe to ``suffixes`` of the shadow: True when all were granted, False when
        one was refused, None when the answer no longer counts (cloud failure, another
        connection, the shadow initialised again)."""
        granted = True
        for suffix in suffixes:
            try:
                granted = await self.ctx.cloud.subscribe(state.prefix + "/" + suffix, 1) and granted
            except CLOUD_FAILURES:
                return None
        if epoch != self.ctx.session.epoch or self.states.get(index) is not state:
            return None
        return granted

    async def _init(self, index, state, epoch):
        granted = await self._subscribe(index, state, epoch, _REPLY_SUFFIXES)
        if granted is not None:
            state.initialized = granted
            self.ctx.queue_event(EVENT_SHADOW_INIT if granted else EVENT_SHADOW_INIT_FAILED, index)

    async def _subscribe_delta(self, index, state, epoch):
        granted = await self._subscribe(index, state, epoch, (_DELTA_SUFFIX,))
        if granted is not None:
            state.subscribed = granted
            self.ctx.queue_event(EVENT_SHADOW_SUBACK if granted else EVENT_SHADOW_SUBNACK, index)

    async def _unsubscribe_delta(self, state):
        try:
            await self.ctx.cloud.unsubscribe(state.prefix + "/" + _DELTA_SUFFIX)
        except CLOUD_FAILURES:
            pass

    # -- replies ---------------------------------------------------------------------------------
    def on_message(self, topic, payload):
        """Handle a shadow reply or delta; True when ``topic`` belongs to a known shadow."""
        for index, state in self.states.items():
            if not topic.startswith(state.prefix + "/"):
                continue
            suffix = topic[len(state.prefix) + 1:]
            if suffix == _DELTA_SUFFIX:
                if state.subscribed:
                    state.delta = payload
                    self.ctx.queue_event(EVENT_SHADOW_DELTA, index)
                return True
            reply = _REPLY_SUFFIXES.get(suffix)
            if reply is None:
                continue
            kind, flag = reply
            if not self._token_matches(payload):
                return True
            state.results[kind] = (flag, payload)
            state.pending_until.pop(kind, None)
            self.ctx.queue_event(_REQUESTS[kind][1], index)
            return True
        return False

    def _token_matches(self, payload):
        token = self.ctx.config.get("ShadowToken")
        if not token:
            return True
        try:
            doc = json.loads(payload)
        except ValueError:
            return False
        return isinstance(doc, dict) and doc.get("clientToken") == token
