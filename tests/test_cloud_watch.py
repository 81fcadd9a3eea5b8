"""``watch`` prints telemetry as JSON lines; ``run_broker`` serves broker and shadows."""

import asyncio
import io
import json

import pytest

from sim.cloud.broker import EmbeddedBroker
from sim.cloud.mosquitto import free_port
from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.run import parse_listen, run_broker
from sim.cloud.shadow_client import update_desired
from sim.cloud.testing import mosquitto_url, run_on  # noqa: F401
from sim.cloud.watch import telemetry_line, watch
from sim.expresslink.cloud import CloudError


def test_telemetry_line_keeps_the_badge_fields():
    line = telemetry_line("badge/b1/telemetry", b'{"seq": 7, "t": 23.5, "rh": 41.0, "up": 70}', 12.3456)
    assert json.loads(line) == {"thing": "b1", "rx": 12.346, "seq": 7, "t": 23.5, "rh": 41.0, "up": 70}
    assert "\n" not in line
    assert json.loads(telemetry_line("badge/b1/telemetry", b"\xffoops", 0)) == {
        "thing": "b1", "rx": 0, "raw": "\ufffdoops"}


async def watch_and_publish(url, thing, publishes):
    out = io.StringIO()
    ready = asyncio.Event()
    clock = getattr(asyncio.get_running_loop(), "clock", None)
    watching = asyncio.ensure_future(watch(thing, url, out, count=len(publishes) - 1, ready=ready,
                                           clock=clock))
    await ready.wait()
    link = MqttCloudLink(url)
    await link.connect("badge-publisher")
    for topic, payload in publishes:
        await link.publish(topic, payload, 1)
    printed = await asyncio.wait_for(watching, 10)
    await link.disconnect()
    return printed, out.getvalue()


@pytest.mark.parametrize("loop_kind", ["plain", "virtual"])
def test_watch_one_thing_on_the_embedded_broker(loop_kind):
    publishes = [("badge/b1/telemetry", json.dumps({"seq": n, "t": 23.5, "rh": 40.0, "up": n * 10})
                  .encode()) for n in (1, 2)]
    publishes.insert(1, ("badge/b2/telemetry", b'{"seq": 99}'))  # another badge: filtered out

    async def main():
        async with EmbeddedBroker() as broker:
            return await watch_and_publish(broker.url, "b1", publishes)
    (printed, text), _ = run_on(loop_kind, main)
    lines = [json.loads(line) for line in text.splitlines()]
    assert printed == 2
    assert [(d["thing"], d["seq"], d["t"], d["rh"], d["up"]) for d in lines] == [
        ("b1", 1, 23.5, 40.0, 10), ("b1", 2, 23.5, 40.0, 20)]


def test_watch_every_thing_on_mosquitto(mosquitto_url):  # noqa: F811
    publishes = [("badge/w1/telemetry", b'{"seq": 1}'), ("badge/w2/telemetry", b'{"seq": 5}'),
                 ("badge/w1/qr", b"not telemetry")]

    async def main():
        return await watch_and_publish(mosquitto_url, None, publishes)
    (printed, text), _ = run_on("plain", main)
    assert [(d["thing"], d["seq"]) for d in map(json.loads, text.splitlines())] == [("w1", 1), ("w2", 5)]


def test_watch_reports_a_lost_broker():
    async def main():
        broker = EmbeddedBroker()
        await broker.start()
        ready = asyncio.Event()
        watching = asyncio.ensure_future(watch(None, broker.url, io.StringIO(), ready=ready))
        await ready.wait()
        await broker.stop()
        with pytest.raises(CloudError) as error:
            await watching
        return error.value.hint
    assert run_on("plain", main)[0] == 3


def test_watch_unreachable_broker():
    async def main():
        with pytest.raises(CloudError) as error:
            await watch(None, "mqtt://127.0.0.1:" + str(free_port()), io.StringIO())
        return error.value.hint
    assert run_on("plain", main)[0] == 3


def test_run_broker_serves_shadows_until_cancelled():
    async def main():
        out = io.StringIO()
        started = asyncio.get_running_loop().create_future()
        serving = asyncio.ensure_future(run_broker("127.0.0.1:0", out, started=started))
        url = await started
        accepted = await update_desired(url, "cli-thing", {"name": "Grace"})
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        return url, out.getvalue(), accepted
    (url, text, accepted), _ = run_on("plain", main)
    assert text == "broker listening on " + url + " (device shadow service running)\n"
    assert accepted["state"] == {"desired": {"name": "Grace"}} and accepted["version"] == 1


@pytest.mark.parametrize("listen, expected", [
    ("127.0.0.1:1883", ("127.0.0.1", 1883)), (":1884", ("127.0.0.1", 1884)),
    ("1885", ("127.0.0.1", 1885)), ("[::1]:1886", ("::1", 1886)), ("0.0.0.0:0", ("0.0.0.0", 0)),
])
def test_parse_listen(listen, expected):
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["host:", "host:port", "h:70000"])
def test_parse_listen_rejects(listen):
    with pytest.raises(ValueError):
        parse_listen(listen)
