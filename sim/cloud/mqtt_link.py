"""MqttCloudLink: one MQTT 3.1.1 client session over asyncio streams, on the loop's clock.

No threads and no clock of its own: keepalive pings and answer timeouts are timers of
the running loop, so on a ``SimEventLoop`` with a ``VirtualClock`` they run on virtual
time. While it waits for a broker's answer (CONNACK, SUBACK, PUBACK, UNSUBACK,
PINGRESP) it tells such a loop ``expect_io()`` / ``io_arrived()``, so an answer from
another process (mosquitto, AWS IoT Core) is waited for in real time; on a virtual
clock an answer counts as missing only once ``answer_timeout_s`` has passed both on the
loop's clock and in real time.
"""

import asyncio
import inspect
import ssl

from sim.cloud import mqtt_codec as codec
from sim.cloud.broker_url import parse_broker_url
from sim.cloud.waiting import wait_for_answer
from sim.expresslink.cloud import CloudError, CloudLink
from sim.expresslink.codes import HINT_MQTT_LOGIN, HINT_TLS, HINT_UNREACHABLE

__all__ = ["MqttCloudLink", "parse_broker_url", "wait_for_answer"]


def _will_tuple(will):
    """(topic, payload[, qos[, retain]]) -> (topic, payload bytes, qos, retain)."""
    if will is None:
        return None
    if not isinstance(will, (tuple, list)) or not 2 <= len(will) <= 4:
        raise ValueError("will must be (topic, payload[, qos[, retain]])")
    topic, payload = will[0], will[1]
    qos = will[2] if len(will) > 2 else 0
    retain = bool(will[3]) if len(will) > 3 else False
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return topic, bytes(payload), qos, retain


class MqttCloudLink(CloudLink):
    """An MQTT 3.1.1 client for one broker URL; clean sessions, QoS 0 and 1.

    ``ca``, ``cert``, ``key``: PEM file paths for ``mqtts://`` (AWS IoT Core needs all
    three). ``connect_timeout_s``: TCP/TLS set-up plus CONNACK. ``answer_timeout_s``:
    longest wait for any other answer before the connection counts as lost.
    ``taps``: callables(direction, topic, payload bytes) told of every message sent
    ("out", as it goes on the wire) and received ("in"), for views and logs.
    """

    def __init__(self, broker_url, *, ca=None, cert=None, key=None,
                 connect_timeout_s=10.0, answer_timeout_s=10.0):
        self.scheme, self.host, self.port, self._user, self._password = parse_broker_url(broker_url)
        if self.scheme == "mqtt" and (ca or cert or key):
            raise ValueError("CA, certificate and key files need an mqtts:// broker URL")
        if (cert is None) != (key is None):
            raise ValueError("a client certificate needs its key, and a key its certificate")
        self.broker_url = broker_url
        self.ca, self.cert, self.key = ca, cert, key
        self.connect_timeout_s = connect_timeout_s
        self.answer_timeout_s = answer_timeout_s
        self.connected = False
        self.on_message = None
        self.on_connection_lost = None
        self.taps = []
        self.client_id = None
        self._writer = None
        self._reader_task = None
        self._keepalive_task = None
        self._connack = None
        self._pingresp = None
        self._pending = {}          # packet id -> Future of its acknowledgement
        self._qos2_incoming = set()  # packet ids of QoS 2 messages awaiting PUBREL
        self._last_packet_id = 0
        self._last_sent = 0.0
        self._ended = True
        self._tls_failed = False

    # -- connection ---------------------------------------------------------------
    async def connect(self, client_id, keepalive_s=60, will=None):
        """Open a clean session as ``client_id``. Raises CloudError(hint, detail)."""
        if self.connected:
            raise RuntimeError("already connected to " + self.broker_url)
        will_tuple = _will_tuple(will)
        connect_bytes = codec.connect_packet(client_id, keepalive_s, True, will_tuple,
                                             self._user, self._password)
        loop = asyncio.get_running_loop()
        ssl_context = self._ssl_context() if self.scheme == "mqtts" else None
        where = self.host + ":" + str(self.port)
        opening = asyncio.ensure_future(asyncio.open_connection(
            self.host, self.port, ssl=ssl_context,
            server_hostname=self.host if ssl_context else None))
        try:
            reader, writer = await wait_for_answer(opening, self.connect_timeout_s)
        except asyncio.CancelledError:
            opening.cancel()
            raise
        except asyncio.TimeoutError:
            opening.cancel()
            raise CloudError(HINT_UNREACHABLE, "no answer from " + where + " within "
                             + str(self.connect_timeout_s) + " s") from None
        except ssl.SSLError as exc:
            raise CloudError(HINT_TLS, "TLS with " + where + " failed: " + str(exc)) from exc
        except OSError as exc:
            raise CloudError(HINT_UNREACHABLE,
                             "cannot reach " + where + ": " + (exc.strerror or str(exc))) from exc

        self._writer = writer
        self._ended = False
        self._tls_failed = False
        self._pending.clear()
        self._qos2_incoming.clear()
        self._connack = loop.create_future()
        self._reader_task = loop.create_task(self._read_packets(reader), name="mqtt-read " + client_id)
        try:
            self._send(connect_bytes)
        except CloudError:
            pass  # closed already (e.g. a TLS alert): the reader task tells why
        try:
            _, code = await wait_for_answer(self._connack, self.connect_timeout_s)
        except asyncio.CancelledError:
            self._end("connect cancelled", notify=False)
            raise
        except asyncio.TimeoutError:
            self._end("no CONNACK", notify=False)
            raise CloudError(HINT_MQTT_LOGIN, "no CONNACK from " + where + " within "
                             + str(self.connect_timeout_s) + " s") from None
        except CloudError as exc:
            self._end(exc.detail, notify=False)
            # With TLS 1.3 a refused client certificate shows up after the handshake.
            hint = HINT_TLS if self._tls_failed else HINT_MQTT_LOGIN
            raise CloudError(hint, where + " closed the connection before CONNACK ("
                             + exc.detail + ")") from None
        if code != 0:
            self._end("login refused", notify=False)
            reason = codec.CONNACK_REASONS.get(code, "unknown reason")
            raise CloudError(HINT_MQTT_LOGIN, "broker refused the login: " + reason
                             + " (CONNACK " + str(code) + ")")
        self.client_id = client_id
        self.connected = True
        if keepalive_s > 0:
            self._keepalive_task = loop.create_task(self._keep_alive(keepalive_s),
                                                    name="mqtt-ping " + client_id)

    async def disconnect(self):
        """Send DISCONNECT and close; no ``on_connection_lost`` call. Safe when not connected."""
        if self._ended:
            return
        if self.connected:
            try:
                self._send(codec.DISCONNECT_PACKET)
                await self._writer.drain()
            except (OSError, RuntimeError, CloudError):
                pass  # the connection is going away anyway
        self._end("disconnected", notify=False)
        if self._reader_task is not None and self._reader_task is not asyncio.current_task():
            await asyncio.gather(self._reader_task, return_exceptions=True)

    # -- messages -----------------------------------------------------------------
    async def publish(self, topic, payload, qos=0, retain=False):
        """Send one message (QoS 0 or 1); QoS 1 returns when the PUBACK has arrived.

        ``retain``: the broker keeps it as the topic's last message and hands it to
        every later subscriber."""
        if qos not in (0, 1):
            raise ValueError("QoS must be 0 or 1, got " + repr(qos))
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        self._require_connected()
        for tap in self.taps:
            tap("out", topic, payload)
        if qos == 0:
            self._send(codec.publish_packet(topic, payload, retain=retain))
            await self._drain()
            return
        packet_id, answer = self._expect_ack()
        try:
            self._send(codec.publish_packet(topic, payload, 1, packet_id, retain=retain))
            await self._drain()
            await self._answer_or_lost(answer, "PUBACK")
        finally:
            self._pending.pop(packet_id, None)

    async def subscribe(self, topic_filter, qos=1):
        """True when granted, False when the broker answered 0x80 (refused)."""
        if qos not in (0, 1):
            raise ValueError("QoS must be 0 or 1, got " + repr(qos))
        self._require_connected()
        packet_id, answer = self._expect_ack()
        try:
            self._send(codec.subscribe_packet(packet_id, [(topic_filter, qos)]))
            await self._drain()
            codes = await self._answer_or_lost(answer, "SUBACK")
        finally:
            self._pending.pop(packet_id, None)
        return codes[0] != codec.SUBACK_FAILURE

    async def unsubscribe(self, topic_filter):
        self._require_connected()
        packet_id, answer = self._expect_ack()
        try:
            self._send(codec.unsubscribe_packet(packet_id, [topic_filter]))
            await self._drain()
            await self._answer_or_lost(answer, "UNSUBACK")
        finally:
            self._pending.pop(packet_id, None)

    # -- internals: sending ---------------------------------------------------------
    def _require_connected(self):
        if not self.connected:
            raise CloudError(HINT_UNREACHABLE, "not connected to " + self.broker_url)

    def _send(self, data):
        if self._writer is None or self._writer.is_closing():
            raise CloudError(HINT_UNREACHABLE, "connection to " + self.broker_url + " is closed")
        self._writer.write(data)
        self._last_sent = asyncio.get_running_loop().time()

    async def _drain(self):
        try:
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            self._end("write failed: " + str(exc))
            raise CloudError(HINT_UNREACHABLE, "connection lost: " + str(exc)) from exc

    def _expect_ack(self):
        """A free packet identifier (1..65535, cycling) and the future its answer resolves."""
        packet_id = self._last_packet_id
        for _ in range(0xFFFF):
            packet_id = packet_id % 0xFFFF + 1
            if packet_id not in self._pending:
                break
        else:
            raise CloudError(HINT_UNREACHABLE, "65535 requests already in flight")
        self._last_packet_id = packet_id
        answer = asyncio.get_running_loop().create_future()
        self._pending[packet_id] = answer
        return packet_id, answer

    # -- internals: waiting for answers ------------------------------------------------
    async def _answer_or_lost(self, answer, what):
        try:
            return await wait_for_answer(answer, self.answer_timeout_s)
        except asyncio.TimeoutError:
            detail = "no " + what + " within " + str(self.answer_timeout_s) + " s"
            self._end(detail)
            raise CloudError(HINT_UNREACHABLE, "connection lost: " + detail) from None

    async def _keep_alive(self, keepalive_s):
        """PINGREQ after keepalive_s/2 without sending; no PINGRESP in time = connection lost."""
        loop = asyncio.get_running_loop()
        interval = keepalive_s / 2
        while True:
            wait_s = self._last_sent + interval - loop.time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
                continue
            self._pingresp = loop.create_future()
            try:
                self._send(codec.PINGREQ_PACKET)
                await self._answer_or_lost(self._pingresp, "PINGRESP")
            except CloudError:
                return

    # -- internals: receiving ------------------------------------------------------------
    async def _read_packets(self, reader):
        parser = codec.PacketReader()
        reason = "connection closed by the broker"
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                parser.feed(data)
                packet = parser.next_packet()
                while packet is not None:
                    self._dispatch(*packet)
                    packet = parser.next_packet()
        except codec.MqttProtocolError as exc:
            reason = "protocol error: " + str(exc)
        except ssl.SSLError as exc:
            self._tls_failed = True
            reason = "TLS error: " + str(exc)
        except (OSError, CloudError) as exc:
            reason = "connection error: " + str(exc)
        self._end(reason)

    def _dispatch(self, packet_type, flags, body):
        if packet_type == codec.PUBLISH:
            self._received_publish(codec.parse_publish(flags, body))
        elif packet_type in (codec.PUBACK, codec.UNSUBACK):
            self._resolve(codec.parse_packet_id(body), None)
        elif packet_type == codec.SUBACK:
            packet_id, codes = codec.parse_suback(body)
            self._resolve(packet_id, codes)
        elif packet_type == codec.PINGRESP:
            if self._pingresp is not None and not self._pingresp.done():
                self._pingresp.set_result(None)
        elif packet_type == codec.CONNACK:
            if self._connack is None or self._connack.done():
                raise codec.MqttProtocolError("a second CONNACK")
            self._connack.set_result(codec.parse_connack(body))
        elif packet_type == codec.PUBREL:
            packet_id = codec.parse_packet_id(body, "PUBREL")
            self._qos2_incoming.discard(packet_id)
            self._send(codec.pubcomp_packet(packet_id))
        # PUBREC/PUBCOMP only answer QoS 2 publishes, which this link never sends.

    def _resolve(self, packet_id, result):
        answer = self._pending.get(packet_id)
        if answer is not None and not answer.done():
            answer.set_result(result)

    def _received_publish(self, message):
        duplicate = message.qos == 2 and message.packet_id in self._qos2_incoming
        if not duplicate:
            self._deliver(message.topic, message.payload)
        if message.qos == 1:
            self._send(codec.puback_packet(message.packet_id))
        elif message.qos == 2:
            self._qos2_incoming.add(message.packet_id)
            self._send(codec.pubrec_packet(message.packet_id))

    def _deliver(self, topic, payload):
        for tap in self.taps:
            tap("in", topic, payload)
        if self.on_message is None:
            return
        loop = asyncio.get_running_loop()
        try:
            result = self.on_message(topic, payload)
            if inspect.isawaitable(result):
                loop.create_task(result)
        except Exception as exc:  # a faulty handler must not kill the session, but is reported
            loop.call_exception_handler({"message": "on_message handler failed for " + topic,
                                         "exception": exc})

    # -- internals: ending -----------------------------------------------------------------
    def _end(self, reason, notify=True):
        """Close once; fail every waiter; tell ``on_connection_lost`` if we were connected."""
        if self._ended:
            return
        self._ended = True
        was_connected = self.connected
        self.connected = False
        lost = CloudError(HINT_UNREACHABLE, reason)
        for answer in list(self._pending.values()) + [self._connack, self._pingresp]:
            if answer is not None and not answer.done():
                answer.set_exception(lost)
                answer.exception()  # retrieved: waiters that gave up must not log it
        if self._keepalive_task is not None and self._keepalive_task is not asyncio.current_task():
            self._keepalive_task.cancel()
        self._keepalive_task = None
        if self._reader_task is not None and self._reader_task is not asyncio.current_task():
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
        if notify and was_connected and self.on_connection_lost is not None:
            try:
                self.on_connection_lost(reason)
            except Exception as exc:
                asyncio.get_running_loop().call_exception_handler(
                    {"message": "on_connection_lost handler failed", "exception": exc})

    def _ssl_context(self):
        try:
            context = ssl.create_default_context(cafile=self.ca)
            if self.cert:
                context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise CloudError(HINT_TLS, "TLS set-up failed: " + str(exc)) from exc
        return context
