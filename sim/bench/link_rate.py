"""Benchmark: messages per second that MqttCloudLink sustains through a broker.

One publisher sends ~60-byte messages one after the other (QoS 1: each waits for its
PUBACK, as an ExpressLink module's SEND does) to a subscriber on another connection;
the rate counts messages the subscriber received, over wall-clock time. Run on a plain
asyncio loop. ``python -m sim.bench.link_rate`` prints the figures for the embedded broker
and, when installed, mosquitto.
"""

import asyncio
import os
import sys
import time

from sim.cloud.broker import EmbeddedBroker
from sim.cloud.mosquitto import Mosquitto, find_mosquitto
from sim.cloud.mqtt_link import MqttCloudLink


async def publish_rate(broker_url, seconds=2.0, qos=1):
    """Messages per second received by a subscriber while one link publishes for ``seconds``."""
    topic = "bench/" + str(os.getpid()) + "/" + str(id(broker_url) % 100000)
    received = 0
    all_in = asyncio.Event()
    sent = [0]

    def count(_topic, _payload):
        nonlocal received
        received += 1
        if received >= sent[0] > 0:
            all_in.set()

    subscriber = MqttCloudLink(broker_url)
    publisher = MqttCloudLink(broker_url)
    subscriber.on_message = count
    await subscriber.connect("bench-sub-" + str(os.getpid()))
    await publisher.connect("bench-pub-" + str(os.getpid()))
    try:
        if not await subscriber.subscribe(topic, qos):
            raise RuntimeError("subscription refused")
        payload = b'{"seq": 000000, "t": 23.50, "rh": 41.20, "up": 123456, "pad": ""}'
        await publisher.publish(topic, payload, qos)  # warm-up, not counted
        while received < 1:
            await asyncio.sleep(0.001)
        received = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            await publisher.publish(topic, payload, qos)
            sent[0] += 1
            if qos == 0 and sent[0] % 64 == 0:
                await asyncio.sleep(0)
        if received < sent[0]:
            all_in.clear()
            try:
                await asyncio.wait_for(all_in.wait(), 10.0)
            except asyncio.TimeoutError:
                pass
        elapsed = time.perf_counter() - start
    finally:
        await publisher.disconnect()
        await subscriber.disconnect()
    return received / elapsed


async def measure(seconds=2.0, qos=1):
    """{"embedded": msg/s, "mosquitto": msg/s or None when not installed}."""
    figures = {}
    broker = EmbeddedBroker()
    await broker.start()
    try:
        figures["embedded"] = await publish_rate(broker.url, seconds, qos)
    finally:
        await broker.stop()
    figures["mosquitto"] = None
    if find_mosquitto():
        with Mosquitto() as mosquitto:
            figures["mosquitto"] = await publish_rate(mosquitto.url, seconds, qos)
    return figures


def main(argv=None):
    seconds = float((argv or sys.argv[1:] or ["2.0"])[0])
    for qos in (1, 0):
        figures = asyncio.run(measure(seconds, qos))
        for name, rate in figures.items():
            shown = "not installed" if rate is None else str(round(rate)) + " msg/s"
            print("QoS " + str(qos) + " through " + name + ": " + shown)


if __name__ == "__main__":
    main()
