"""The module's connection model and messaging commands: CONNECT, SEND, GET, SUBSCRIBE.

States: disconnected -> connecting (blocking CONNECT or CONNECT!) -> connected. A failed
attempt starts a backoff window that doubles with each consecutive failure; an attempt
inside the window fails at once with hint 1. Every connected -> disconnected transition
queues CONLOST. Subscriptions belong to one connection: none survive a reconnect.
The state the other services read is the context's ``Session``; only this class changes it.
"""

import asyncio
import json

from sim.expresslink.cloud import CLOUD_FAILURES, CloudError
from sim.expresslink.codes import (
    ERR_NO_CONNECTION,
    ERR_NOT_ALLOWED,
    ERR_OUT_OF_RANGE,
    ERR_PARAMETER,
    ERR_PARAMETER_UNDEFINED,
    EVENT_CONLOST,
    EVENT_CONNECT,
    EVENT_MSG,
    EVENT_OVERRUN,
    EVENT_SUBACK,
    EVENT_SUBNACK,
    HINT_BACKOFF,
    HINT_UNREACHABLE,
    ConnectError,
    ModuleError,
)
from sim.expresslink.context import CONNECTED, CONNECTING, DISCONNECTED
from sim.expresslink.parser import ok_line, ok_lines
from sim.expresslink.queues import Message, route


class Connection:
    """Connection state, backoff, the cloud callbacks and the messaging commands.

    ``ctx``: the module's ``ModuleContext``. ``connect_time_s``: the module's own time
    per attempt (s). ``claim_reply(topic, payload) -> bool``: offered every incoming
    message first (the shadow service); True keeps it out of GET0. ``on_lost()``: called
    at every connected -> disconnected transition.
    """

    def __init__(self, ctx, connect_time_s=1.5, claim_reply=None, on_lost=None):
        self.ctx = ctx
        self.cloud = ctx.cloud
        self.session = ctx.session
        self.connect_time_s = connect_time_s
        self.claim_reply = claim_reply if claim_reply is not None else (lambda topic, payload: False)
        self.on_lost = on_lost if on_lost is not None else (lambda: None)
        self.failures = 0
        self.backoff_until_s = 0.0
        self.backoff_base_s = 2.0
        self.backoff_max_s = 64.0
        self.cloud_timeout_s = 60.0  # a cloud call that takes longer counts as failed
        self._sub_generation = {}
        self.cloud.on_message = self._on_message
        self.cloud.on_connection_lost = self._on_connection_lost

    @property
    def state(self):
        return self.session.state

    @property
    def epoch(self):
        return self.session.epoch

    @property
    def async_connect(self):
        return self.session.async_connect

    @property
    def connected(self):
        return self.session.state == CONNECTED

    # -- transitions ----------------------------------------------------------------------
    async def attempt(self):
        """One connection attempt (or the backoff refusal): returns (hint, detail)."""
        ctx = self.ctx
        session = self.session
        now = ctx.clock.now()
        if now < self.backoff_until_s:
            return HINT_BACKOFF, "retry in %.1f s" % (self.backoff_until_s - now)
        session.state = CONNECTING
        try:
            await asyncio.sleep(self.connect_time_s)
            hint, detail = ctx.knobs.forced_connect_failure()
            if not hint:
                config = ctx.config
                try:
                    await asyncio.wait_for(
                        self.cloud.connect(config.thing_name, config.keepalive_s(), config.will()),
                        self.cloud_timeout_s)
                except CloudError as exc:
                    hint, detail = (exc.hint or HINT_UNREACHABLE), exc.detail
                except (OSError, asyncio.TimeoutError) as exc:
                    hint, detail = HINT_UNREACHABLE, str(exc) or "no answer from the endpoint"
        except BaseException:
            session.state = DISCONNECTED
            raise
        if hint:
            session.state = DISCONNECTED
            self.failures += 1
            delay = min(self.backoff_base_s * 2 ** (self.failures - 1), self.backoff_max_s)
            self.backoff_until_s = ctx.clock.now() + delay
            return hint, detail
        self.failures = 0
        self.backoff_until_s = 0.0
        session.state = CONNECTED
        session.epoch += 1
        ctx.wall_clock.synced = True
        if not ctx.config.onboarded:
            ctx.spawn(self._subscribe_staging_config())
        return 0, ""

    def lose(self, reason=""):
        """Connected -> disconnected for any reason: CONLOST, ``on_lost()``."""
        session = self.session
        if session.state != CONNECTED:
            return False
        session.state = DISCONNECTED
        session.epoch += 1
        self.ctx.queue_event(EVENT_CONLOST)
        self.on_lost()
        return True

    def drop(self, reason):
        """Lose the connection and end the cloud session uncleanly (its will is sent)."""
        if self.lose(reason):
            self.ctx.spawn(self._quiet_disconnect())

    def forget(self):
        """Reset/RST: drop the connection without an event (the queues are being emptied).
        True when a cloud session may still be open."""
        session = self.session
        was_online = session.state != DISCONNECTED
        session.state = DISCONNECTED
        session.async_connect = False
        session.epoch += 1
        self._sub_generation.clear()
        return was_online

    def _on_connection_lost(self, reason):
        self.lose(reason)

    # -- commands -------------------------------------------------------------------------
    def _check_may_connect(self, cmd):
        """CONNECT and CONNECT! refuse a parameter, CONFMODE and a running CONNECT!."""
        cmd.require_no_param()
        if self.ctx.power.confmode:
            raise ModuleError(ERR_NOT_ALLOWED, "CONFMODE active")
        if self.session.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED, "CONNECT! in progress")

    async def cmd_connect(self, cmd):
        self._check_may_connect(cmd)
        if self.connected:
            return ok_line("1 CONNECTED")
        hint, detail = await self.attempt()
        if hint:
            raise ConnectError(hint, detail)
        return ok_line("1 CONNECTED")

    async def cmd_connect_async(self, cmd):
        self._check_may_connect(cmd)
        if self.connected:
            self.ctx.queue_event(EVENT_CONNECT, 0)
            return ok_line()
        self.session.async_connect = True
        self.ctx.spawn(self._connect_in_background())
        return ok_line()

    async def _connect_in_background(self):
        try:
            hint, detail = await self.attempt()
        finally:
            self.session.async_connect = False
        self.ctx.queue_event(EVENT_CONNECT, hint, detail)

    async def cmd_connect_query(self, cmd):
        cmd.require_no_param()
        online = self.connected
        onboarded = self.ctx.config.onboarded
        return ok_line("%d %d %s %s" % (
            online, onboarded, "CONNECTED" if online else "DISCONNECTED",
            "CUSTOMER" if onboarded else "STAGING"))

    async def cmd_disconnect(self, cmd):
        cmd.require_no_param()
        if self.session.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED, "CONNECT! in progress")
        if self.lose("DISCONNECT"):
            try:
                await self.cloud.disconnect()
            except Exception:  # the session is gone either way
                pass
        return ok_line("0 DISCONNECTED")

    def _topic_for(self, index):
        """TopicN for a command suffix: ERR7 outside 1..MaxTopic, ERR8 when empty."""
        config = self.ctx.config
        if index is None or not 1 <= index <= config.max_topic:
            raise ModuleError(ERR_OUT_OF_RANGE)
        topic = config.topic(index)
        if not topic:
            raise ModuleError(ERR_PARAMETER_UNDEFINED)
        return topic

    async def cmd_send(self, cmd):
        topic = self._topic_for(cmd.suffix)
        if cmd.param is None:
            raise ModuleError(ERR_PARAMETER, "message missing")
        if not self.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        if "+" in topic or "#" in topic:
            raise ModuleError(ERR_PARAMETER, "wildcard in topic")
        try:
            await asyncio.wait_for(self.cloud.publish(topic, cmd.param, self.ctx.config.qos),
                                   self.cloud_timeout_s)
        except CLOUD_FAILURES + (asyncio.TimeoutError,):
            self.drop("publish failed")
            raise ModuleError(ERR_NO_CONNECTION) from None
        return ok_line()

    async def cmd_get(self, cmd):
        queue = self.ctx.messages
        if cmd.suffix is None or cmd.suffix == 0:
            cmd.require_no_param()
            message = queue.pop(cmd.suffix)
            if message is None:
                return ok_line()
            return ok_lines(message.topic, [message.payload])
        self._topic_for(cmd.suffix)
        cmd.require_no_param()
        message = queue.pop(cmd.suffix)
        if message is None:
            return ok_line()
        return ok_line(message.payload)

    async def cmd_subscribe(self, cmd):
        topic = self._topic_for(cmd.suffix)
        cmd.require_no_param()
        if not self.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        generation = self._sub_generation.get(cmd.suffix, 0) + 1
        self._sub_generation[cmd.suffix] = generation
        self.ctx.spawn(self._subscribe(cmd.suffix, topic, generation, self.session.epoch))
        return ok_line()

    async def _subscribe(self, index, topic, generation, epoch):
        try:
            granted = await self.cloud.subscribe(topic, 1)
        except CLOUD_FAILURES:
            return
        if epoch != self.session.epoch or self._sub_generation.get(index) != generation:
            return  # re-subscribed, reconnected or reset meanwhile: no event
        config = self.ctx.config
        if config.topic(index) != topic:
            return  # TopicN changed before the ack: no event
        if not config.onboarded and not topic.startswith(config.thing_name + "/"):
            self.drop("staging policy")  # the staging account's policy: it costs the connection
            return
        self.ctx.queue_event(EVENT_SUBACK if granted else EVENT_SUBNACK, index)

    async def cmd_unsubscribe(self, cmd):
        topic = self._topic_for(cmd.suffix)
        cmd.require_no_param()
        if not self.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        self.ctx.spawn(self._unsubscribe(topic))
        return ok_line()

    async def _unsubscribe(self, topic):
        try:
            await self.cloud.unsubscribe(topic)
        except CLOUD_FAILURES:
            pass

    async def _quiet_disconnect(self):
        abort = getattr(self.cloud, "abort", None)
        try:
            if abort is not None:
                await abort()
            else:
                await self.cloud.disconnect()
        except Exception:  # a dead session is as good as a closed one
            pass

    # -- incoming messages -----------------------------------------------------------------
    def _on_message(self, topic, payload):
        ctx = self.ctx
        if self.session.state != CONNECTED or not ctx.power.powered:
            return
        payload = bytes(payload)
        config = ctx.config
        if not config.onboarded and topic == config.thing_name + "/expresslink_config":
            self._staging_config(topic, payload)
            return
        consumed = self.claim_reply(topic, payload)
        index = route(topic, [config.topic(i) for i in range(1, config.max_topic + 1)])
        if consumed and index == 0:
            return
        self.enqueue(index, topic, payload)

    def enqueue(self, index, topic, payload):
        """Queue a received message: MSG event, plus OVERRUN when the queue is full."""
        ctx = self.ctx
        ctx.queue_event(EVENT_MSG, index)
        if not ctx.messages.put(Message(index, topic, payload)):
            ctx.queue_event(EVENT_OVERRUN, 0, topic)

    async def _subscribe_staging_config(self):
        topic = self.ctx.config.thing_name + "/expresslink_config"
        try:
            await self.cloud.subscribe(topic, 1)
        except CLOUD_FAILURES:
            pass

    def _staging_config(self, topic, payload):
        """Staging: ``{"Endpoint": ...}`` rewrites Endpoint, queues the message, disconnects."""
        self.enqueue(0, topic, payload)
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        if isinstance(doc, dict) and isinstance(doc.get("Endpoint"), str):
            self.ctx.config.set("Endpoint", doc["Endpoint"])
            self.drop("endpoint changed")
