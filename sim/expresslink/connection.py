"""The module's connection model and messaging commands: CONNECT, SEND, GET, SUBSCRIBE.

States: disconnected -> connecting (blocking CONNECT or CONNECT!) -> connected. A failed
attempt starts a backoff window that doubles with each consecutive failure; an attempt
inside the window fails at once with hint 1. Every connected -> disconnected transition
queues CONLOST. Subscriptions belong to one connection: none survive a reconnect.
"""

import asyncio
import json

from sim.expresslink.cloud import CloudError
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
    HINT_MQTT_LOGIN,
    HINT_NETWORK,
    HINT_UNREACHABLE,
    ConnectError,
    ModuleError,
)
from sim.expresslink.parser import ok_line, ok_lines
from sim.expresslink.queues import Message, route

DISCONNECTED = "disconnected"
CONNECTING = "connecting"
CONNECTED = "connected"


class Connection:
    """Connection state, backoff, the cloud callbacks and the messaging commands."""

    def __init__(self, module):
        self.module = module
        self.cloud = module.cloud
        self.state = DISCONNECTED
        self.epoch = 0  # bumps at every connect and disconnect; stale acks compare it
        self.async_connect = False  # a CONNECT! is running
        self.failures = 0
        self.backoff_until_s = 0.0
        self.backoff_base_s = 2.0
        self.backoff_max_s = 64.0
        self.cloud_timeout_s = 60.0  # a cloud call that takes longer counts as failed
        self._sub_generation = {}
        self.cloud.on_message = self._on_message
        self.cloud.on_connection_lost = self._on_connection_lost

    @property
    def connected(self):
        return self.state == CONNECTED

    # -- transitions ----------------------------------------------------------------------
    async def attempt(self):
        """One connection attempt (or the backoff refusal): returns (hint, detail)."""
        module = self.module
        now = module.clock.now()
        if now < self.backoff_until_s:
            return HINT_BACKOFF, "retry in %.1f s" % (self.backoff_until_s - now)
        self.state = CONNECTING
        try:
            await asyncio.sleep(module.connect_time_s)
            hint, detail = module.forced_connect_failure()
            if not hint:
                try:
                    await asyncio.wait_for(
                        self.cloud.connect(module.config.thing_name,
                                           module.config.keepalive_s(),
                                           module.config.will()),
                        self.cloud_timeout_s)
                except CloudError as exc:
                    hint, detail = (exc.hint or HINT_UNREACHABLE), exc.detail
                except (OSError, asyncio.TimeoutError) as exc:
                    hint, detail = HINT_UNREACHABLE, str(exc) or "no answer from the endpoint"
        except BaseException:
            self.state = DISCONNECTED
            raise
        if hint:
            self.state = DISCONNECTED
            self.failures += 1
            delay = min(self.backoff_base_s * 2 ** (self.failures - 1), self.backoff_max_s)
            self.backoff_until_s = module.clock.now() + delay
            return hint, detail
        self.failures = 0
        self.backoff_until_s = 0.0
        self.state = CONNECTED
        self.epoch += 1
        module.time_synced = True
        if not module.config.onboarded:
            module.spawn(self._subscribe_staging_config(self.epoch))
        return 0, ""

    def lose(self, reason=""):
        """Connected -> disconnected for any reason: CONLOST, shadows forget their state."""
        if self.state != CONNECTED:
            return False
        self.state = DISCONNECTED
        self.epoch += 1
        self.module.queue_event(EVENT_CONLOST)
        self.module.shadows.connection_lost()
        return True

    def forget(self):
        """Reset/RST: drop the connection without an event (the queues are being emptied)."""
        was_online = self.state != DISCONNECTED
        self.state = DISCONNECTED
        self.async_connect = False
        self.epoch += 1
        self._sub_generation.clear()
        return was_online

    def _on_connection_lost(self, reason):
        self.lose(reason)

    # -- commands -------------------------------------------------------------------------
    def _check_may_connect(self, cmd):
        """CONNECT and CONNECT! refuse a parameter, CONFMODE and a running CONNECT!."""
        module = self.module
        module.require_no_param(cmd)
        if module.confmode:
            raise ModuleError(ERR_NOT_ALLOWED, "CONFMODE active")
        if self.async_connect:
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
        module = self.module
        self._check_may_connect(cmd)
        if self.connected:
            module.queue_event(EVENT_CONNECT, 0)
            return ok_line()
        self.async_connect = True
        module.spawn(self._connect_in_background())
        return ok_line()

    async def _connect_in_background(self):
        try:
            hint, detail = await self.attempt()
        finally:
            self.async_connect = False
        self.module.queue_event(EVENT_CONNECT, hint, detail)

    async def cmd_connect_query(self, cmd):
        self.module.require_no_param(cmd)
        online = self.connected
        onboarded = self.module.config.onboarded
        return ok_line("%d %d %s %s" % (
            online, onboarded, "CONNECTED" if online else "DISCONNECTED",
            "CUSTOMER" if onboarded else "STAGING"))

    async def cmd_disconnect(self, cmd):
        self.module.require_no_param(cmd)
        if self.async_connect:
            raise ModuleError(ERR_NOT_ALLOWED, "CONNECT! in progress")
        if self.lose("DISCONNECT"):
            try:
                await self.cloud.disconnect()
            except Exception:  # the session is gone either way
                pass
        return ok_line("0 DISCONNECTED")

    def _topic_for(self, index):
        """TopicN for a command suffix: ERR7 outside 1..MaxTopic, ERR8 when empty."""
        config = self.module.config
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
            await asyncio.wait_for(self.cloud.publish(topic, cmd.param, self.module.config.qos),
                                   self.cloud_timeout_s)
        except (CloudError, OSError, ConnectionError, asyncio.TimeoutError):
            if self.lose("publish failed"):
                self.module.spawn(self._quiet_disconnect())
            raise ModuleError(ERR_NO_CONNECTION) from None
        return ok_line()

    async def cmd_get(self, cmd):
        queue = self.module.messages
        if cmd.suffix is None or cmd.suffix == 0:
            self.module.require_no_param(cmd)
            message = queue.pop(cmd.suffix)
            if message is None:
                return ok_line()
            return ok_lines(message.topic, [message.payload])
        self._topic_for(cmd.suffix)
        self.module.require_no_param(cmd)
        message = queue.pop(cmd.suffix)
        if message is None:
            return ok_line()
        return ok_line(message.payload)

    async def cmd_subscribe(self, cmd):
        topic = self._topic_for(cmd.suffix)
        self.module.require_no_param(cmd)
        if not self.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        generation = self._sub_generation.get(cmd.suffix, 0) + 1
        self._sub_generation[cmd.suffix] = generation
        self.module.spawn(self._subscribe(cmd.suffix, topic, generation, self.epoch))
        return ok_line()

    async def _subscribe(self, index, topic, generation, epoch):
        try:
            granted = await self.cloud.subscribe(topic, 1)
        except (CloudError, OSError, ConnectionError):
            return
        if epoch != self.epoch or self._sub_generation.get(index) != generation:
            return  # re-subscribed, reconnected or reset meanwhile: no event
        if self.module.config.topic(index) != topic:
            return  # TopicN changed before the ack: no event
        config = self.module.config
        if not config.onboarded and not topic.startswith(config.thing_name + "/"):
            # The staging account's policy: a foreign topic costs the connection.
            if self.lose("staging policy"):
                self.module.spawn(self._quiet_disconnect())
            return
        self.module.queue_event(EVENT_SUBACK if granted else EVENT_SUBNACK, index)

    async def cmd_unsubscribe(self, cmd):
        topic = self._topic_for(cmd.suffix)
        self.module.require_no_param(cmd)
        if not self.connected:
            raise ModuleError(ERR_NO_CONNECTION)
        self.module.spawn(self._unsubscribe(topic))
        return ok_line()

    async def _unsubscribe(self, topic):
        try:
            await self.cloud.unsubscribe(topic)
        except (CloudError, OSError, ConnectionError):
            pass

    async def _quiet_disconnect(self):
        abort = getattr(self.cloud, "abort", None)
        try:
            if abort is not None:
                await abort()
            else:
                await self.cloud.disconnect()
        except Exception:
            pass

    # -- incoming messages -----------------------------------------------------------------
    def _on_message(self, topic, payload):
        if self.state != CONNECTED or not self.module.powered:
            return
        payload = bytes(payload)
        config = self.module.config
        if not config.onboarded and topic == config.thing_name + "/expresslink_config":
            self._staging_config(topic, payload)
            return
        consumed = self.module.shadows.on_message(topic, payload)
        index = route(topic, [config.topic(i) for i in range(1, config.max_topic + 1)])
        if consumed and index == 0:
            return
        self.enqueue(index, topic, payload)

    def enqueue(self, index, topic, payload):
        """Queue a received message: MSG event, plus OVERRUN when the queue is full."""
        module = self.module
        module.queue_event(EVENT_MSG, index)
        if not module.messages.put(Message(index, topic, payload)):
            module.queue_event(EVENT_OVERRUN, 0, topic)

    async def _subscribe_staging_config(self, epoch):
        topic = self.module.config.thing_name + "/expresslink_config"
        try:
            await self.cloud.subscribe(topic, 1)
        except (CloudError, OSError, ConnectionError):
            pass

    def _staging_config(self, topic, payload):
        """Staging: ``{"Endpoint": ...}`` rewrites Endpoint, queues the message, disconnects."""
        self.enqueue(0, topic, payload)
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        if isinstance(doc, dict) and isinstance(doc.get("Endpoint"), str):
            self.module.config.set("Endpoint", doc["Endpoint"])
            if self.lose("endpoint changed"):
                self.module.spawn(self._quiet_disconnect())


# Hints a knob can force (used by ExpressLinkModule.forced_connect_failure).
KNOB_HINTS = (("network_down", HINT_NETWORK, "network access failed"),
              ("unreachable", HINT_UNREACHABLE, "endpoint unreachable"),
              ("refuse_connections", HINT_MQTT_LOGIN, "MQTT device authentication failure"))
