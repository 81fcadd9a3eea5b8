"""The embedded broker (amqtt in our loop, virtual time included) and the mosquitto helper."""

import asyncio
import socket
import time

import pytest

from sim.bench.link_rate import publish_rate
from sim.cloud.broker import EmbeddedBroker
from sim.cloud.mosquitto import Mosquitto, find_mosquitto, free_port
from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.testing import Inbox, mosquitto_broker, run_on  # noqa: F401
from sim.expresslink.cloud import CloudError


def test_port_zero_reports_the_bound_port_and_stop_frees_it():
    async def main():
        broker = EmbeddedBroker()
        host, port = await broker.start()
        url = broker.url
        with socket.create_connection((host, port), timeout=1):
            pass
        with pytest.raises(RuntimeError):
            await broker.start()
        await broker.stop()
        await broker.stop()  # harmless twice
        return host, port, url, broker.running
    (host, port, url, running), _ = run_on("plain", main)
    assert host == "127.0.0.1" and port > 0 and url == "mqtt://127.0.0.1:" + str(port)
    assert running is False
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=1).close()


def test_explicit_port():
    port = free_port()

    async def main():
        broker = EmbeddedBroker()
        bound = await broker.start("127.0.0.1", port)
        url = broker.url
        await broker.stop()
        return bound, url
    assert run_on("plain", main)[0] == (("127.0.0.1", port), "mqtt://127.0.0.1:" + str(port))


def test_client_publish_to_other_dollar_topics_is_still_refused():
    async def main():
        async with EmbeddedBroker() as broker:
            link = MqttCloudLink(broker.url)
            reasons = []
            link.on_connection_lost = reasons.append
            await link.connect("sys-writer")
            await link.publish("$SYS/broker/uptime", b"1", 0)
            for _ in range(100):
                if reasons:
                    break
                await asyncio.sleep(0.01)
            return reasons
    reasons, _ = run_on("virtual", main)
    assert reasons == ["connection closed by the broker"]


def test_an_idle_virtual_hour_keeps_clients_connected():
    async def main():
        loop = asyncio.get_running_loop()
        async with EmbeddedBroker() as broker:
            inbox = Inbox()
            subscriber, publisher = MqttCloudLink(broker.url), MqttCloudLink(broker.url)
            subscriber.on_message = inbox
            lost = []
            subscriber.on_connection_lost = publisher.on_connection_lost = lost.append
            await subscriber.connect("idle-sub", keepalive_s=60)
            await publisher.connect("idle-pub", keepalive_s=30)
            await subscriber.subscribe("t/#", 1)
            start_real = time.monotonic()
            await asyncio.sleep(3600)
            real_s = time.monotonic() - start_real
            await publisher.publish("t/after", b"still here", 1)
            messages = await inbox.wait(1)
            await publisher.disconnect()
            await subscriber.disconnect()
            return loop.time(), real_s, messages, lost
    (virtual_s, real_s, messages, lost), loop = run_on("virtual", main)
    assert virtual_s == pytest.approx(3600.0, abs=0.1)
    assert real_s < 60.0  # an hour of virtual time is not waited for (about 0.2 s here)
    assert messages == [("t/after", b"still here")] and lost == []


def test_many_clients_on_one_virtual_loop_keep_message_order():
    async def main():
        async with EmbeddedBroker() as broker:
            inbox = Inbox()
            subscriber = MqttCloudLink(broker.url)
            subscriber.on_message = inbox
            await subscriber.connect("order-sub")
            await subscriber.subscribe("badge/+/telemetry", 1)
            publishers = [MqttCloudLink(broker.url) for _ in range(3)]
            for i, link in enumerate(publishers):
                await link.connect("badge-" + str(i))
            for seq in range(20):
                for i, link in enumerate(publishers):
                    await link.publish("badge/" + str(i) + "/telemetry", str(seq).encode(), 1)
            messages = await inbox.wait(60)
            for link in publishers + [subscriber]:
                await link.disconnect()
            return messages
    messages, _ = run_on("virtual", main)
    for i in range(3):
        mine = [int(p) for t, p in messages if t == "badge/" + str(i) + "/telemetry"]
        assert mine == list(range(20))


def test_publish_rate_benchmark_runs():
    async def main():
        async with EmbeddedBroker() as broker:
            return await publish_rate(broker.url, seconds=0.05, qos=1)
    rate, _ = run_on("plain", main)
    assert rate > 0


# -- mosquitto helper --------------------------------------------------------------------

def test_mosquitto_start_stop_and_log():
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (Debian package 'mosquitto')")
    broker = Mosquitto()
    with broker:
        port = broker.port
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        assert broker.url == "mqtt://127.0.0.1:" + str(port)
        deadline = time.monotonic() + 10   # mosquitto writes its log with some delay
        while time.monotonic() < deadline:
            if "New connection from 127.0.0.1" in broker.log():
                break
            time.sleep(0.01)
        assert "New connection from 127.0.0.1" in broker.log()
    assert broker.process is None and broker.workdir is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_mosquitto_missing_binary_is_a_clear_error():
    broker = Mosquitto(binary=None)
    broker.binary = None
    with pytest.raises(RuntimeError) as error:
        broker.start()
    assert "apt" in str(error.value) or "Debian" in str(error.value)


def test_mosquitto_link_errors_map_to_hints(mosquitto_broker):  # noqa: F811
    async def main():
        link = MqttCloudLink(mosquitto_broker.url)
        await link.connect("hint-check")
        await link.disconnect()
        with pytest.raises(CloudError) as error:
            await link.publish("t", b"x")
        return error.value.hint
    assert run_on("plain", main)[0] == 3
