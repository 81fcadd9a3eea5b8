"""MqttCloudLink against the embedded broker, mosquitto and a scripted broker, on both loops."""

import asyncio
import os

import pytest

from sim.cloud.broker import EmbeddedBroker
from sim.cloud.mosquitto import Mosquitto, find_mosquitto, free_port
from sim.cloud.broker_url import parse_broker_url
from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.testing import LOOP_KINDS, Inbox, mosquitto_url, run_on  # noqa: F401
from sim.expresslink.cloud import CloudError

BROKERS = ("embedded", "mosquitto")


@pytest.fixture(params=[(loop, broker) for loop in LOOP_KINDS for broker in BROKERS],
                ids=lambda p: p[0] + "-" + p[1])
def on_broker(request):
    """(run, broker_url_maker): runs a test body against one broker on one loop kind."""
    loop_kind, broker_kind = request.param
    external = request.getfixturevalue("mosquitto_url") if broker_kind == "mosquitto" else None

    def run(body):
        async def main():
            if external is not None:
                return await body(external)
            async with EmbeddedBroker() as broker:
                return await body(broker.url)
        return run_on(loop_kind, main)[0]
    return run


def unique(name):
    """Client ids and topics unique per test, so tests can share one mosquitto."""
    return name + "-" + os.environ.get("PYTEST_CURRENT_TEST", "x").split(" ")[0].split("::")[-1][-40:]


async def connected_pair(url):
    inbox = Inbox()
    subscriber, publisher = MqttCloudLink(url), MqttCloudLink(url)
    subscriber.on_message = inbox
    await subscriber.connect(unique("sub"))
    await publisher.connect(unique("pub"))
    return subscriber, publisher, inbox


@pytest.mark.parametrize("qos", [0, 1])
def test_round_trip(on_broker, qos):
    async def body(url):
        subscriber, publisher, inbox = await connected_pair(url)
        topic = "badge/" + unique("t") + "/telemetry"
        assert await subscriber.subscribe(topic, qos) is True
        payload = b'{"seq": 1, "t": 23.5}'
        await publisher.publish(topic, payload, qos)
        await publisher.publish(topic, b"\x00\xff binary", qos)
        messages = await inbox.wait(2)
        await publisher.disconnect()
        await subscriber.disconnect()
        return messages, subscriber.connected
    messages, still_connected = on_broker(body)
    assert [m[1] for m in messages] == [b'{"seq": 1, "t": 23.5}', b"\x00\xff binary"]
    assert still_connected is False


def test_wildcards_and_unsubscribe(on_broker):
    async def body(url):
        subscriber, publisher, inbox = await connected_pair(url)
        root = unique("w")
        assert await subscriber.subscribe(root + "/+/telemetry")
        assert await subscriber.subscribe(root + "/photo/#")
        await publisher.publish(root + "/b1/telemetry", b"1", 1)
        await publisher.publish(root + "/b1/qr", b"not matched", 1)
        await publisher.publish(root + "/photo/a/b", b"2", 1)
        await inbox.wait(2)
        await subscriber.unsubscribe(root + "/+/telemetry")
        await publisher.publish(root + "/b2/telemetry", b"after unsubscribe", 1)
        await publisher.publish(root + "/photo", b"3", 1)  # '#' also matches the parent level
        await inbox.wait(3)
        await publisher.disconnect()
        await subscriber.disconnect()
        return inbox.messages
    messages = on_broker(body)
    assert [payload for _, payload in messages] == [b"1", b"2", b"3"]


def test_aws_dollar_topics(on_broker):
    async def body(url):
        subscriber, publisher, inbox = await connected_pair(url)
        thing = unique("thing")
        assert await subscriber.subscribe("$aws/things/+/shadow/update")
        assert await subscriber.subscribe("#")  # must not match $ topics (MQTT 4.7.2)
        await publisher.publish("$aws/things/" + thing + "/shadow/update", b"{}", 1)
        await publisher.publish(unique("plain"), b"marker", 1)
        await inbox.wait(2)
        await publisher.disconnect()
        await subscriber.disconnect()
        return inbox.messages
    messages = on_broker(body)
    assert [payload for _, payload in messages] == [b"{}", b"marker"]
    assert messages[0][0].startswith("$aws/things/") and messages[0][0].endswith("/shadow/update")


def test_will_message_on_abrupt_loss(on_broker):
    async def body(url):
        subscriber, _, inbox = await connected_pair(url)
        topic = unique("will")
        assert await subscriber.subscribe(topic, 1)
        dying = MqttCloudLink(url)
        await dying.connect(unique("dying"), will=(topic, "gone", 1))
        dying._writer.transport.abort()  # the network vanishes: no DISCONNECT
        messages = await inbox.wait(1)
        await subscriber.disconnect()
        return messages
    assert on_broker(body) == [(unique("will"), b"gone")]


def test_broker_stop_reports_connection_lost():
    async def main():
        broker = EmbeddedBroker()
        await broker.start()
        link = MqttCloudLink(broker.url)
        reasons = []
        link.on_connection_lost = reasons.append
        await link.connect("victim")
        await broker.stop()
        for _ in range(100):
            if reasons:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(CloudError) as error:
            await link.publish("t", b"x", 1)
        return reasons, link.connected, error.value.hint
    for kind in LOOP_KINDS:
        (reasons, connected, hint), _ = run_on(kind, main)
        assert reasons == ["connection closed by the broker"]
        assert connected is False and hint == 3


def test_subscription_refused_by_embedded_broker():
    async def main():
        async with EmbeddedBroker() as broker:
            link = MqttCloudLink(broker.url)
            await link.connect("refused")
            refused = await link.subscribe("a/#/b")  # '#' must be the last level (4.7.1-2)
            granted = await link.subscribe("a/+/b")
            still = link.connected
            await link.disconnect()
            return refused, granted, still
    assert run_on("virtual", main)[0] == (False, True, True)


def test_connection_refused_is_hint_3():
    port = free_port()

    async def main():
        with pytest.raises(CloudError) as error:
            await MqttCloudLink("mqtt://127.0.0.1:" + str(port)).connect("nobody")
        return error.value
    error, _ = run_on("plain", main)
    assert error.hint == 3 and "127.0.0.1:" + str(port) in error.detail


def test_unknown_host_is_hint_3():
    async def main():
        with pytest.raises(CloudError) as error:
            await MqttCloudLink("mqtt://no-such-host.invalid:1883", connect_timeout_s=5).connect("x")
        return error.value.hint
    assert run_on("plain", main)[0] == 3


@pytest.mark.parametrize("url", [
    "localhost:1883", "http://host:1883", "mqtt://", "mqtt://host:abc", "mqtt://host:0",
    "mqtt://host:70000", "mqtt://host:1883/path", "mqtt://host:1883?x=1", None,
])
def test_bad_urls_raise_value_error(url):
    with pytest.raises(ValueError) as error:
        MqttCloudLink(url)
    assert "mqtt://HOST:PORT" in str(error.value)


def test_url_defaults_and_ipv6():
    assert parse_broker_url("mqtt://broker") == ("mqtt", "broker", 1883, None, None)
    assert parse_broker_url("MQTTS://a.iot.eu-west-1.amazonaws.com")[2] == 8883
    assert parse_broker_url("mqtt://[::1]:1884")[1:3] == ("::1", 1884)
    assert parse_broker_url("mqtt://u%40x:p@h:1")[3:] == ("u@x", "p")


def test_tls_options_need_mqtts_and_pairs():
    with pytest.raises(ValueError):
        MqttCloudLink("mqtt://h:1", ca="ca.pem")
    with pytest.raises(ValueError):
        MqttCloudLink("mqtts://h:1", cert="c.pem")


def test_missing_ca_file_is_hint_4(tmp_path):
    async def main():
        link = MqttCloudLink("mqtts://127.0.0.1:1", ca=str(tmp_path / "missing.pem"))
        with pytest.raises(CloudError) as error:
            await link.connect("x")
        return error.value.hint
    assert run_on("plain", main)[0] == 4


def test_tls_to_a_plain_listener_fails():
    async def main():
        async with EmbeddedBroker() as broker:
            link = MqttCloudLink("mqtts://127.0.0.1:" + str(broker.port), connect_timeout_s=0.5)
            with pytest.raises(CloudError) as error:
                await link.connect("x")
            return error.value.hint
    assert run_on("plain", main)[0] in (3, 4)


# -- a scripted broker: exact bytes, answers chosen by the test ----------------------------

async def read_packet(reader):
    """(first byte, body) of one client packet, decoded here independently of the codec."""
    first = (await reader.readexactly(1))[0]
    length, shift = 0, 0
    while True:
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, await reader.readexactly(length)


async def scripted_broker(handler):
    """A server on a free loopback port that runs ``handler(reader, writer)`` for each
    connection and closes the connection when the handler returns (from Python 3.12 on,
    leaving ``async with server`` waits until every connection is closed)."""
    async def serve(reader, writer):
        await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, "mqtt://127.0.0.1:" + str(server.sockets[0].getsockname()[1])


@pytest.mark.parametrize("loop_kind", LOOP_KINDS)
@pytest.mark.parametrize("answer, detail", [
    (b"\x20\x02\x00\x05", "not authorized (CONNACK 5)"),
    (b"\x20\x02\x00\x04", "bad user name or password (CONNACK 4)"),
    (b"", "closed the connection before CONNACK"),
])
def test_login_refused_is_hint_5(loop_kind, answer, detail):
    async def handler(reader, writer):
        first, _ = await read_packet(reader)
        assert first == 0x10
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def main():
        server, url = await scripted_broker(handler)
        async with server:
            with pytest.raises(CloudError) as error:
                await MqttCloudLink(url).connect("refused")
        return error.value
    error, _ = run_on(loop_kind, main)
    assert error.hint == 5 and detail in error.detail


def test_keepalive_pings_on_virtual_time_and_missing_pingresp_is_loss():
    pings = []
    answer_pings = [True]

    async def handler(reader, writer):
        first, body = await read_packet(reader)
        assert first == 0x10 and body[8:10] == b"\x00\x0a"  # keep alive 10 s in CONNECT
        writer.write(b"\x20\x02\x00\x00")
        while True:
            try:
                first, _ = await read_packet(reader)
            except asyncio.IncompleteReadError:
                return
            if first == 0xC0:
                pings.append(asyncio.get_running_loop().time())
                if answer_pings[0]:
                    writer.write(b"\xd0\x00")

    async def main():
        server, url = await scripted_broker(handler)
        async with server:
            link = MqttCloudLink(url, answer_timeout_s=0.05)
            reasons = []
            link.on_connection_lost = reasons.append
            await link.connect("pinger", keepalive_s=10)
            await asyncio.sleep(60)  # one virtual minute
            alive_after_minute = link.connected
            answer_pings[0] = False
            await asyncio.sleep(10)
            await link.disconnect()
            return alive_after_minute, reasons
    (alive, reasons), loop = run_on("virtual", main)
    assert alive is True
    assert pings[:12] == pytest.approx([5.0 * i for i in range(1, 13)], abs=0.01)
    assert reasons == ["no PINGRESP within 0.05 s"]


def test_qos1_publish_waits_for_puback_and_broker_publish_is_acknowledged():
    seen = []

    async def handler(reader, writer):
        await read_packet(reader)
        writer.write(b"\x20\x02\x00\x00")
        first, body = await read_packet(reader)           # our QoS 1 PUBLISH
        seen.append((first, body))
        await asyncio.sleep(3)                             # a slow broker (virtual seconds)
        writer.write(b"\x40\x02" + body[5:7])              # PUBACK with its packet id
        # The broker sends a QoS 1 message: topic "in", packet id 0x0102, payload "hi".
        writer.write(b"\x32\x08\x00\x02in\x01\x02hi")
        seen.append(await read_packet(reader))             # must be PUBACK 0x0102
        await reader.read()

    async def main():
        server, url = await scripted_broker(handler)
        async with server:
            inbox = Inbox()
            link = MqttCloudLink(url)
            link.on_message = inbox
            await link.connect("qos1")
            loop = asyncio.get_running_loop()
            start = loop.time()
            await link.publish("out", b"ab", 1)
            waited = loop.time() - start
            messages = await inbox.wait(1)
            await asyncio.sleep(0.1)
            await link.disconnect()
            return waited, messages
    (waited, messages), _ = run_on("virtual", main)
    publish_first, publish_body = seen[0]
    assert publish_first == 0x32 and publish_body[:5] == b"\x00\x03out"
    assert publish_body[-2:] == b"ab"
    assert waited == pytest.approx(3.0, abs=0.01)
    assert messages == [("in", b"hi")]
    assert seen[1] == (0x40, b"\x01\x02")


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
def test_mosquitto_refusing_anonymous_login_is_hint_5():
    with Mosquitto(anonymous=False) as locked:
        async def main():
            with pytest.raises(CloudError) as error:
                await MqttCloudLink(locked.url).connect("anonymous")
            return error.value
        error, _ = run_on("plain", main)
    assert error.hint == 5 and "not authorized (CONNACK 5)" in error.detail
