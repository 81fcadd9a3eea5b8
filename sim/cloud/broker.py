"""The embedded MQTT 3.1.1 broker: amqtt, running inside the caller's asyncio loop.

Configuration: one TCP listener on a loopback address (port 0 picks a free port; the
bound port is reported), anonymous clients allowed, no persistence (sessions live in
memory only, nothing is written to disk), no ``$SYS`` publisher, amqtt's own logging
quietened to errors unless the application configured the ``amqtt`` logger.

One change to amqtt's behaviour: since version 0.11.2 amqtt drops any client that
publishes to a topic starting with ``$`` (its reading of MQTT 3.1.1 section 4.7.2;
Yakifo/amqtt issue #245, and PR #314 to make it configurable was declined). AWS IoT
Core expects devices to publish to ``$aws/...`` topics (device shadow requests), so
``_AwsTopicsBroker`` routes client publishes to ``$aws/`` topics like any other topic.
Every other ``$`` topic is still refused, and wildcard-first filters (``#``, ``+/...``)
still never match ``$`` topics, as section 4.7.2 requires.
"""

import logging
import socket

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.events import BrokerEvents

ALLOWED_DOLLAR_PREFIX = "$aws/"


class _AwsTopicsBroker(Broker):
    """amqtt's broker, letting clients publish to ``$aws/...`` topics, and closing every
    connection it is done with."""

    async def stream_connected(self, reader, writer, listener_name):
        try:
            await super().stream_connected(reader, writer, listener_name)
        finally:
            # amqtt leaves a connection that closed before its CONNECT (a port probe)
            # open on its side; from Python 3.12 ``Server.wait_closed``, and so the
            # broker's shutdown, waits for every connection to close.
            writer.close()

    async def _handle_message_delivery(self, client_session, handler, wait_deliver):
        message = wait_deliver.result()
        topic = getattr(message, "topic", None)
        if not topic or not topic.startswith(ALLOWED_DOLLAR_PREFIX):
            return await super()._handle_message_delivery(client_session, handler, wait_deliver)
        await self.plugins_manager.fire_event(BrokerEvents.MESSAGE_RECEIVED,
                                              client_id=client_session.client_id, message=message)
        if "#" in topic or "+" in topic:
            return False  # wildcards in a topic name: protocol violation, drop the client
        if await self._topic_filtering(client_session, topic=topic, action=Action.PUBLISH):
            await self.plugins_manager.fire_event(BrokerEvents.MESSAGE_BROADCAST,
                                                  client_id=client_session.client_id, message=message)
            await self._broadcast_message(client_session, topic, message.data)
            packet = message.publish_packet
            if packet is not None and packet.retain_flag:
                await self.retain_message(client_session, topic, message.data, message.qos)
        return True


def _broker_config(host, port):
    bind_host = "[" + host + "]" if ":" in host else host
    return {
        "listeners": {"default": {"type": "tcp", "bind": bind_host + ":" + str(port)}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


def _quiet_amqtt_logging():
    for name in ("amqtt", "transitions"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


def _check_free(host, port):
    """Raise OSError (EADDRINUSE) if ``host:port`` cannot be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class EmbeddedBroker:
    """An MQTT broker on ``host:port`` in the running loop; ``url`` once started."""

    def __init__(self):
        self.host = None
        self.port = None
        self._broker = None

    @property
    def running(self):
        return self._broker is not None

    @property
    def url(self):
        if self._broker is None:
            raise RuntimeError("the broker is not running")
        host = "[" + self.host + "]" if ":" in self.host else self.host
        return "mqtt://" + host + ":" + str(self.port)

    async def start(self, host="127.0.0.1", port=0):
        """Listen on ``host:port`` (0 = any free port). Returns the bound (host, port)."""
        if self._broker is not None:
            raise RuntimeError("the broker is already running on " + self.url)
        if port:
            _check_free(host, port)  # a clear OSError instead of amqtt's logged traceback
        _quiet_amqtt_logging()
        broker = _AwsTopicsBroker(_broker_config(host, port))
        await broker.start()
        server = broker._servers["default"].instance  # amqtt keeps its asyncio.Server here
        bound_port = server.sockets[0].getsockname()[1]
        self._broker = broker
        self.host, self.port = host, bound_port
        return host, bound_port

    async def stop(self):
        """Disconnect every client and close the listener. Safe to call twice."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc_info):
        await self.stop()
