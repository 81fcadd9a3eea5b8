"""MQTT 3.1.1 codec against the byte examples of the OASIS standard (sections cited)."""

import pytest

from sim.cloud import mqtt_codec as codec


# Table 2.4: size of the Remaining Length field.
@pytest.mark.parametrize("value, encoded", [
    (0, b"\x00"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (16_383, b"\xff\x7f"),
    (16_384, b"\x80\x80\x01"),
    (2_097_151, b"\xff\xff\x7f"),
    (2_097_152, b"\x80\x80\x80\x01"),
    (268_435_455, b"\xff\xff\xff\x7f"),
])
def test_remaining_length_table(value, encoded):
    assert codec.encode_remaining_length(value) == encoded


def test_remaining_length_beyond_four_bytes_is_refused():
    with pytest.raises(ValueError):
        codec.encode_remaining_length(268_435_456)


@pytest.mark.parametrize("size", [0, 127, 128, 16_383, 16_384])
def test_reader_decodes_every_length_class(size):
    reader = codec.PacketReader()
    packet = codec.publish_packet("t", b"x" * (size - 3)) if size >= 3 else None
    if packet is None:  # too small for a PUBLISH: a PINGRESP has remaining length 0
        reader.feed(b"\xd0\x00")
        assert reader.next_packet() == (codec.PINGRESP, 0, b"")
        return
    reader.feed(packet)
    packet_type, flags, body = reader.next_packet()
    assert (packet_type, flags, len(body)) == (codec.PUBLISH, 0, size)


def test_connect_variable_header_matches_figure_3_6():
    # Figure 3.6: protocol name "MQTT", level 4, flags 0xCE (user name, password,
    # will QoS 1, will flag, clean session), keep alive 10 s.
    packet = codec.connect_packet("id", 10, clean_session=True,
                                  will=("w/t", b"bye", 1, False), username="u", password=b"p")
    assert packet[0] == 0x10
    body = packet[2:]
    assert packet[1] == len(body)
    assert body[:10] == bytes([0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0xCE, 0x00, 0x0A])
    # Payload order (3.1.3): client id, will topic, will message, user name, password.
    assert body[10:] == b"\x00\x02id" + b"\x00\x03w/t" + b"\x00\x03bye" + b"\x00\x01u" + b"\x00\x01p"


def test_connect_minimal_flags():
    packet = codec.connect_packet("badge-1", 60)
    assert packet == (b"\x10\x13" + b"\x00\x04MQTT\x04\x02\x00\x3c" + b"\x00\x07badge-1")


def test_connect_will_retain_and_qos_bits():
    packet = codec.connect_packet("c", 0, will=("t", b"", 1, True))
    assert packet[9] == 0x02 | 0x04 | 0x08 | 0x20


def test_publish_variable_header_matches_figure_3_11():
    # Figure 3.11: topic "a/b", packet identifier 10.
    packet = codec.publish_packet("a/b", b"", qos=1, packet_id=10)
    assert packet == b"\x32\x07" + bytes([0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A])


def test_publish_fixed_header_flags():
    assert codec.publish_packet("t", b"", qos=0, retain=True)[0] == 0x31
    assert codec.publish_packet("t", b"", qos=1, packet_id=1, dup=True)[0] == 0x3A


@pytest.mark.parametrize("topic", ["", "a/+", "a/#", "#"])
def test_publish_refuses_empty_or_wildcard_topics(topic):
    with pytest.raises(ValueError):
        codec.publish_packet(topic, b"")


def test_publish_packet_identifier_rules():
    with pytest.raises(ValueError):
        codec.publish_packet("t", b"", qos=1)
    with pytest.raises(ValueError):
        codec.publish_packet("t", b"", qos=0, packet_id=5)
    with pytest.raises(ValueError):
        codec.publish_packet("t", b"", qos=1, packet_id=0)


def test_subscribe_payload_matches_figure_3_23():
    # Figure 3.23: "a/b" at QoS 1 and "c/d" at QoS 2; fixed header 0x82 (3.8.1).
    packet = codec.subscribe_packet(10, [("a/b", 1), ("c/d", 2)])
    payload = bytes([0x00, 0x03, 0x61, 0x2F, 0x62, 0x01, 0x00, 0x03, 0x63, 0x2F, 0x64, 0x02])
    assert packet == b"\x82" + bytes([2 + len(payload)]) + b"\x00\x0a" + payload


def test_unsubscribe_payload_matches_figure_3_30():
    packet = codec.unsubscribe_packet(10, ["a/b", "c/d"])
    payload = bytes([0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x03, 0x63, 0x2F, 0x64])
    assert packet == b"\xa2" + bytes([2 + len(payload)]) + b"\x00\x0a" + payload


def test_fixed_two_byte_packets():
    assert codec.PINGREQ_PACKET == b"\xc0\x00"
    assert codec.DISCONNECT_PACKET == b"\xe0\x00"
    assert codec.puback_packet(0x1234) == b"\x40\x02\x12\x34"
    assert codec.pubrec_packet(7) == b"\x50\x02\x00\x07"
    assert codec.pubrel_packet(7) == b"\x62\x02\x00\x07"  # PUBREL flags are 0010 (3.6.1)
    assert codec.pubcomp_packet(7) == b"\x70\x02\x00\x07"


def test_suback_payload_matches_figure_3_26():
    # Figure 3.26: return codes 0 (QoS 0), 128 (failure), 2 (QoS 2).
    reader = codec.PacketReader()
    reader.feed(b"\x90\x05\x00\x0a\x00\x80\x02")
    packet_type, flags, body = reader.next_packet()
    assert packet_type == codec.SUBACK
    assert codec.parse_suback(body) == (10, [0, codec.SUBACK_FAILURE, 2])


def test_connack_parse():
    reader = codec.PacketReader()
    reader.feed(b"\x20\x02\x01\x05")
    packet_type, _, body = reader.next_packet()
    assert packet_type == codec.CONNACK
    assert codec.parse_connack(body) == (True, 5)
    assert codec.CONNACK_REASONS[5] == "not authorized"


def test_reader_reassembles_packets_fed_one_byte_at_a_time():
    stream = (codec.publish_packet("a/b", b"hello", qos=1, packet_id=10)
              + b"\xd0\x00" + b"\x40\x02\x00\x0a")
    reader = codec.PacketReader()
    packets = []
    for byte in stream:
        reader.feed(bytes([byte]))
        packet = reader.next_packet()
        if packet is not None:
            packets.append(packet)
    assert [p[0] for p in packets] == [codec.PUBLISH, codec.PINGRESP, codec.PUBACK]
    message = codec.parse_publish(packets[0][1], packets[0][2])
    assert message == codec.Publish("a/b", b"hello", 1, False, False, 10)
    assert codec.parse_packet_id(packets[2][2]) == 10


@pytest.mark.parametrize("data, why", [
    (b"\x20\x02\x00", None),                     # incomplete: not an error, just wait
    (b"\x30\xff\xff\xff\xff\x01", "too long"),   # five length bytes
    (b"\x41\x02\x00\x01", "flags"),              # PUBACK with flags 0001
    (b"\x60\x02\x00\x01", "flags"),              # PUBREL without its 0010 flags
    (b"\x36\x05\x00\x01t\x00\x01", "QoS 3"),     # PUBLISH with both QoS bits
    (b"\x10\x00", "CONNECT"),                    # a broker never sends CONNECT
])
def test_reader_rejects_malformed_packets(data, why):
    reader = codec.PacketReader()
    reader.feed(data)
    if why is None:
        assert reader.next_packet() is None
    else:
        with pytest.raises(codec.MqttProtocolError):
            reader.next_packet()


def test_reader_caps_packet_size():
    reader = codec.PacketReader(max_packet_bytes=100)
    reader.feed(b"\x30" + codec.encode_remaining_length(101))
    with pytest.raises(codec.MqttProtocolError):
        reader.next_packet()


def test_parse_publish_rejects_truncated_topic():
    with pytest.raises(codec.MqttProtocolError):
        codec.parse_publish(0x02, b"\x00\x05ab")
