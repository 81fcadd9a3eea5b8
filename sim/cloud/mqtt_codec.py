"""MQTT 3.1.1 packets as bytes: encoders for a client's packets, a parser for the broker's.

Sans-I/O: no sockets, no clock. ``PacketReader.feed(bytes)`` buffers what arrived;
``next_packet()`` returns one complete packet ``(type, flags, body)`` or None.
Section numbers refer to the OASIS MQTT 3.1.1 standard.
"""

from collections import namedtuple

# Control packet types (2.2.1).
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

PACKET_NAMES = {
    CONNECT: "CONNECT", CONNACK: "CONNACK", PUBLISH: "PUBLISH", PUBACK: "PUBACK",
    PUBREC: "PUBREC", PUBREL: "PUBREL", PUBCOMP: "PUBCOMP", SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK", UNSUBSCRIBE: "UNSUBSCRIBE", UNSUBACK: "UNSUBACK",
    PINGREQ: "PINGREQ", PINGRESP: "PINGRESP", DISCONNECT: "DISCONNECT",
}

# CONNACK return codes (3.2.2.3).
CONNACK_REASONS = {
    0: "connection accepted",
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
SUBACK_FAILURE = 0x80

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"

MAX_REMAINING_LENGTH = 268_435_455  # four length bytes (2.2.3)

Publish = namedtuple("Publish", "topic payload qos retain dup packet_id")


class MqttProtocolError(Exception):
    """The peer sent bytes that are not a valid MQTT 3.1.1 packet."""


def encode_remaining_length(n):
    """The variable-length integer of 2.2.3: 7 bits per byte, high bit = more follows."""
    if not 0 <= n <= MAX_REMAINING_LENGTH:
        raise ValueError("remaining length out of range: " + str(n))
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_string(text):
    """UTF-8 string with its 2-byte big-endian length (1.5.3); ``bytes`` pass as they are."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(data) > 0xFFFF:
        raise ValueError("string longer than 65535 bytes")
    return len(data).to_bytes(2, "big") + data


def _packet(first_byte, body):
    return bytes((first_byte,)) + encode_remaining_length(len(body)) + body


def _check_packet_id(packet_id):
    if not isinstance(packet_id, int) or not 1 <= packet_id <= 0xFFFF:
        raise ValueError("packet identifier must be 1..65535, got " + str(packet_id))


def _check_qos(qos):
    if qos not in (0, 1, 2):
        raise ValueError("QoS must be 0, 1 or 2, got " + repr(qos))


def connect_packet(client_id, keepalive_s, clean_session=True, will=None,
                   username=None, password=None):
    """CONNECT (3.1). ``will`` = (topic, payload bytes, qos, retain) or None."""
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError("keepalive must be 0..65535 s, got " + str(keepalive_s))
    flags = 0x02 if clean_session else 0
    payload = encode_string(client_id)
    if will is not None:
        topic, message, qos, retain = will
        _check_qos(qos)
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += encode_string(topic) + encode_string(message)
    if username is not None:
        flags |= 0x80
        payload += encode_string(username)
    if password is not None:
        flags |= 0x40
        payload += encode_string(password)
    header = encode_string("MQTT") + bytes((4, flags)) + keepalive_s.to_bytes(2, "big")
    return _packet(0x10, header + payload)


def publish_packet(topic, payload, qos=0, packet_id=None, retain=False, dup=False):
    """PUBLISH (3.3); ``packet_id`` is required for QoS 1 and 2 and forbidden for QoS 0."""
    _check_qos(qos)
    if not topic or "+" in topic or "#" in topic:
        raise ValueError("a topic name must be non-empty and free of wildcards: " + repr(topic))
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = encode_string(topic)
    if qos:
        _check_packet_id(packet_id)
        body += packet_id.to_bytes(2, "big")
    elif packet_id is not None:
        raise ValueError("QoS 0 messages carry no packet identifier")
    return _packet(first, body + bytes(payload))


def _ack(first_byte, packet_id):
    _check_packet_id(packet_id)
    return bytes((first_byte, 2)) + packet_id.to_bytes(2, "big")


def puback_packet(packet_id):
    return _ack(0x40, packet_id)


def pubrec_packet(packet_id):
    return _ack(0x50, packet_id)


def pubrel_packet(packet_id):
    return _ack(0x62, packet_id)


def pubcomp_packet(packet_id):
    return _ack(0x70, packet_id)


def subscribe_packet(packet_id, subscriptions):
    """SUBSCRIBE (3.8): ``subscriptions`` = [(topic filter, requested QoS), ...]."""
    _check_packet_id(packet_id)
    if not subscriptions:
        raise ValueError("SUBSCRIBE needs at least one topic filter")
    body = packet_id.to_bytes(2, "big")
    for topic_filter, qos in subscriptions:
        _check_qos(qos)
        if not topic_filter:
            raise ValueError("empty topic filter")
        body += encode_string(topic_filter) + bytes((qos,))
    return _packet(0x82, body)


def unsubscribe_packet(packet_id, topic_filters):
    """UNSUBSCRIBE (3.10)."""
    _check_packet_id(packet_id)
    if not topic_filters:
        raise ValueError("UNSUBSCRIBE needs at least one topic filter")
    body = packet_id.to_bytes(2, "big")
    for topic_filter in topic_filters:
        body += encode_string(topic_filter)
    return _packet(0xA2, body)


# Fixed-header flags a broker may send (2.2.2); PUBLISH flags are checked separately.
_REQUIRED_FLAGS = {CONNACK: 0, PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0,
                   SUBACK: 0, UNSUBACK: 0, PINGRESP: 0}


class PacketReader:
    """Splits a byte stream into packets; holds at most ``max_packet_bytes`` of one packet."""

    def __init__(self, max_packet_bytes=1 << 20):
        self.max_packet_bytes = max_packet_bytes
        self._buf = bytearray()

    def feed(self, data):
        self._buf += data

    def next_packet(self):
        """One packet as (type, flags, body bytes), or None until more bytes arrive."""
        buf = self._buf
        if len(buf) < 2:
            return None
        length = 0
        multiplier = 1
        pos = 1
        while True:
            if pos >= len(buf):
                return None
            byte = buf[pos]
            length += (byte & 0x7F) * multiplier
            pos += 1
            if not byte & 0x80:
                break
            multiplier *= 128
            if pos > 4:
                raise MqttProtocolError("remaining length longer than 4 bytes")
        if length > self.max_packet_bytes:
            raise MqttProtocolError("packet of " + str(length) + " bytes exceeds the limit")
        if len(buf) < pos + length:
            return None
        first = buf[0]
        body = bytes(buf[pos:pos + length])
        del buf[:pos + length]
        packet_type, flags = first >> 4, first & 0x0F
        if packet_type == PUBLISH:
            if (flags >> 1) & 3 == 3:
                raise MqttProtocolError("PUBLISH with QoS 3")
        elif packet_type not in _REQUIRED_FLAGS:
            raise MqttProtocolError("a client does not accept packet type " + str(packet_type))
        elif flags != _REQUIRED_FLAGS[packet_type]:
            raise MqttProtocolError("bad flags on " + PACKET_NAMES[packet_type])
        return packet_type, flags, body


def _need(body, n, what):
    if len(body) != n:
        raise MqttProtocolError(what + " body must be " + str(n) + " bytes, got " + str(len(body)))


def parse_connack(body):
    """(session_present: bool, return_code: int)."""
    _need(body, 2, "CONNACK")
    return bool(body[0] & 1), body[1]


def parse_packet_id(body, what="acknowledgement"):
    """The packet identifier of PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK."""
    _need(body, 2, what)
    return int.from_bytes(body, "big")


def parse_suback(body):
    """(packet_id, [return code per requested filter])."""
    if len(body) < 3:
        raise MqttProtocolError("SUBACK without return codes")
    codes = list(body[2:])
    for code in codes:
        if code not in (0, 1, 2, SUBACK_FAILURE):
            raise MqttProtocolError("SUBACK return code " + hex(code))
    return int.from_bytes(body[:2], "big"), codes


def parse_publish(flags, body):
    """A received PUBLISH as ``Publish(topic, payload, qos, retain, dup, packet_id)``."""
    qos = (flags >> 1) & 3
    if len(body) < 2:
        raise MqttProtocolError("PUBLISH too short")
    topic_len = int.from_bytes(body[:2], "big")
    pos = 2 + topic_len
    if len(body) < pos + (2 if qos else 0):
        raise MqttProtocolError("PUBLISH too short for its topic")
    try:
        topic = body[2:pos].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MqttProtocolError("PUBLISH topic is not UTF-8") from exc
    packet_id = None
    if qos:
        packet_id = int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
    return Publish(topic, body[pos:], qos, bool(flags & 1), bool(flags & 8), packet_id)
