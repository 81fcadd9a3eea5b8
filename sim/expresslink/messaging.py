"""The messaging commands (SEND, GET, SUBSCRIBE, UNSUBSCRIBE) and incoming messages.

A message belongs to the lowest N whose TopicN filter matches its topic (else index 0,
GET0); shadow replies the shadow service claims are queued only when a TopicN matches.
A SUBACK or SUBNACK is raised only for the connection, topic and SUBSCRIBE it answers.
"""

import asyncio
import json

from sim.expresslink.cloud import CLOUD_FAILURES, CLOUD_TIMEOUT_S
from sim.expresslink.codes import (
    ERR_NO_CONNECTION,
    ERR_OUT_OF_RANGE,
    ERR_PARAMETER,
    ERR_PARAMETER_UNDEFINED,
    EVENT_MSG,
    EVENT_OVERRUN,
    EVENT_SUBACK,
    EVENT_SUBNACK,
    ModuleError,
)
from sim.expresslink.context import CONNECTED
from sim.expresslink.parser import ok_line, ok_lines
from sim.expresslink.queues import Message, route


class Messaging:
    """TopicN messaging over the cloud session.

    ``ctx``: the module's ``ModuleContext``. ``drop(reason)``: end the connection (a
    failed publish, the staging policy). ``claim_reply(topic, payload) -> bool``: offered
    every incoming message first (the shadow service); True keeps it out of GET0.
    """

    def __init__(self, ctx, drop, claim_reply=None):
        self.ctx = ctx
        self.cloud = ctx.cloud
        self.session = ctx.session
        self._drop = drop
        self.claim_reply = claim_reply if claim_reply is not None else (lambda topic, payload: False)
        self.cloud_timeout_s = CLOUD_TIMEOUT_S  # a publish that takes longer has failed
        self._sub_generation = {}  # index -> number of the latest SUBSCRIBE
        self.cloud.on_message = self._on_message

    @property
    def connected(self):
        return self.session.state == CONNECTED

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
            self._drop("publish failed")
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
            self._drop("staging policy")  # the staging account's policy: it costs the connection
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

    def _staging_config(self, topic, payload):
        """Staging: ``{"Endpoint": ...}`` rewrites Endpoint, queues the message, disconnects."""
        self.enqueue(0, topic, payload)
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        if isinstance(doc, dict) and isinstance(doc.get("Endpoint"), str):
            self.ctx.config.set("Endpoint", doc["Endpoint"])
            self._drop("endpoint changed")
