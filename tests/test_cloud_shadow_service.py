"""The device shadow service end to end over MQTT (embedded broker; one run on mosquitto)."""

import asyncio
import json

import pytest

from sim.cloud.broker import EmbeddedBroker
from sim.cloud.mqtt_link import MqttCloudLink
from sim.cloud.run import EmbeddedCloud
from sim.cloud.shadow_client import ShadowClient, update_desired
from sim.cloud.shadow_document import ShadowError
from sim.cloud.shadow_service import ShadowService, parse_request_topic, shadow_topic
from sim.cloud.testing import Inbox, mosquitto_url, run_on  # noqa: F401

EPOCH = 1_700_000_000


async def client(url, client_id, prefix="app"):
    link = MqttCloudLink(url)
    await link.connect(client_id)
    return ShadowClient(link, token_prefix=prefix)


async def watcher(url, topic_filter):
    """A raw link recording every message on ``topic_filter`` (parsed JSON)."""
    inbox = Inbox()
    link = MqttCloudLink(url)
    link.on_message = inbox
    await link.connect("watcher-" + str(id(inbox)))
    assert await link.subscribe(topic_filter, 1)
    return link, inbox


def documents(inbox):
    return [(topic.rsplit("/", 2)[-2] + "/" + topic.rsplit("/", 1)[-1], json.loads(payload))
            for topic, payload in inbox.messages]


def on_cloud(body, **service_options):
    """Run ``body(cloud)`` with broker + shadow service on a virtual clock."""
    async def main():
        clock = asyncio.get_running_loop().clock
        async with EmbeddedCloud(clock=clock, **service_options) as cloud:
            return await body(cloud)
    return run_on("virtual", main)[0]


def test_topics():
    assert shadow_topic("b1") == "$aws/things/b1/shadow"
    assert shadow_topic("b1", "cfg") == "$aws/things/b1/shadow/name/cfg"
    assert parse_request_topic("$aws/things/b1/shadow/update") == ("b1", None, "update")
    assert parse_request_topic("$aws/things/b1/shadow/name/cfg/get") == ("b1", "cfg", "get")
    assert parse_request_topic("$aws/things/b1/shadow/update/accepted") is None
    assert parse_request_topic("badge/b1/telemetry") is None


def test_app_and_device_round_trip():
    async def body(cloud):
        device = await client(cloud.url, "badge-1", prefix="ExpressLink")
        await device.subscribe("$aws/things/badge-1/shadow/update/delta")
        _, every = await watcher(cloud.url, "$aws/things/badge-1/shadow/update/+")

        await asyncio.sleep(100)  # timestamps follow the virtual clock
        accepted = await cloud.shadows.update_desired("badge-1", {"name": "Ada", "qr": "x"},
                                                      client_token="app-7")
        await every.wait(3)
        ok, got = await device.request("badge-1", "get")
        ok2, reported = await device.request("badge-1", "update",
                                             {"state": {"reported": {"name": "Ada", "qr": "x"}}})
        await every.wait(5)
        await asyncio.sleep(0.1)
        return accepted, ok, got, ok2, reported, device.received, documents(every)

    accepted, ok, got, ok2, reported, device_saw, every = on_cloud(body)
    t = EPOCH + 100
    assert accepted == {"state": {"desired": {"name": "Ada", "qr": "x"}},
                        "metadata": {"desired": {"name": {"timestamp": t}, "qr": {"timestamp": t}}},
                        "version": 1, "timestamp": t, "clientToken": "app-7"}
    # Order of publication after an update: delta, documents, accepted.
    assert [topic for topic, _ in every[:3]] == ["update/delta", "update/documents", "update/accepted"]
    delta = every[0][1]
    assert delta == {"version": 1, "timestamp": t, "state": {"name": "Ada", "qr": "x"},
                     "metadata": {"name": {"timestamp": t}, "qr": {"timestamp": t}},
                     "clientToken": "app-7"}  # the device sees the app's token
    assert device_saw[0] == ("$aws/things/badge-1/shadow/update/delta", delta)
    assert ok and got["state"]["delta"] == {"name": "Ada", "qr": "x"}
    assert got["clientToken"].startswith("ExpressLink-")
    assert ok2 and reported["version"] == 2
    # Reported now equals desired: accepted and documents, but no delta.
    assert [topic for topic, _ in every[3:]] == ["update/documents", "update/accepted"]


def test_client_token_echo_and_rejections_publish_nothing_else():
    async def body(cloud):
        app = await client(cloud.url, "app")
        _, every = await watcher(cloud.url, "$aws/things/b2/shadow/update/+")
        await app.request("b2", "update", {"state": {"desired": {"a": 1}}, "clientToken": "one"})
        conflict = await app.request("b2", "update",
                                     {"state": {"desired": {"a": 2}}, "version": 5, "clientToken": "two"})
        await app.link.publish("$aws/things/b2/shadow/update", b"{not json", 1)
        await app.link.publish("$aws/things/b2/shadow/update", b"\xff\xfe", 1)
        third = await app.request("b2", "update", {"state": {"desired": {"a": 3}}, "clientToken": "x"})
        await every.wait(9)
        return conflict, third, documents(every)

    conflict, third, every = on_cloud(body)
    assert conflict == (False, {"code": 409, "message": "Version conflict", "clientToken": "two"})
    topics = [topic for topic, _ in every]
    assert topics == ["update/delta", "update/documents", "update/accepted", "update/rejected",
                      "update/rejected", "update/rejected",
                      "update/delta", "update/documents", "update/accepted"]
    # The rejected requests changed nothing: the next accepted update is version 2.
    assert third[0] is True and third[1]["version"] == 2 and third[1]["clientToken"] == "x"
    assert every[4][1] == {"code": 400, "message": "Invalid JSON", "timestamp": EPOCH}
    assert every[5][1]["code"] == 415 and "clientToken" not in every[5][1]
    assert all(doc.get("clientToken") == "one" for _, doc in every[:3])


def test_get_delete_and_named_shadows():
    async def body(cloud):
        app = await client(cloud.url, "app")
        missing = await app.request("b3", "get", {"clientToken": "g1"})
        await app.request("b3", "update", {"state": {"reported": {"v": 1}}})
        await app.request("b3", "update", {"state": {"reported": {"v": 2}}}, name="cfg")
        named = await app.request("b3", "get", name="cfg")
        deleted = await app.request("b3", "delete", {"clientToken": "d1"})
        after = await app.request("b3", "get")
        again = await app.request("b3", "delete")
        named_still = await app.request("b3", "get", name="cfg")
        other = await app.request("b3", "get", name="nothing")
        return missing, named, deleted, after, again, named_still, other

    missing, named, deleted, after, again, named_still, other = on_cloud(body)
    assert missing == (False, {"code": 404, "message": "No shadow exists with name: 'b3'",
                               "clientToken": "g1"})
    assert named[0] and named[1]["state"] == {"reported": {"v": 2}} and named[1]["version"] == 1
    assert deleted == (True, {"version": 1, "timestamp": EPOCH, "clientToken": "d1"})
    assert after[0] is False and after[1]["code"] == 404
    assert again[0] is False and again[1]["code"] == 404
    assert named_still[0] is True
    assert other[1]["message"] == "No shadow exists with name: 'nothing'"


def test_payload_too_large_and_too_deep():
    async def body(cloud):
        app = await client(cloud.url, "app")
        big = await app.request("b4", "update", {"state": {"desired": {"x": "y" * 9000}}})
        deep = await app.request("b4", "update",
                                 {"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}})
        return big, deep
    big, deep = on_cloud(body)
    assert big[0] is False and big[1]["code"] == 413
    assert deep[1]["message"] == "JSON contains too many levels of nesting; maximum is 6"


def test_more_than_20_requests_per_second_per_thing_get_429():
    async def body(cloud):
        app = await client(cloud.url, "app")
        answers = [await app.request("b5", "get") for _ in range(21)]
        await asyncio.sleep(1.0)
        later = await app.request("b5", "get")
        other_thing = await app.request("b6", "get")
        return answers, later, other_thing
    answers, later, other_thing = on_cloud(body)
    assert [a[1]["code"] for a in answers[:20]] == [404] * 20
    assert answers[20][1]["code"] == 429 and answers[20][1]["message"] == "Too Many Requests"
    assert later[1]["code"] == 404 and other_thing[1]["code"] == 404


def test_direct_accessors():
    async def body(cloud):
        service = cloud.shadows
        before = service.document("b7")
        await service.update_desired("b7", {"screen": "qr"})
        with pytest.raises(ShadowError) as error:
            await service.update_desired("b7", {"a": [None]})
        return before, service.document("b7"), error.value.code
    before, after, code = on_cloud(body)
    assert before is None
    assert after["state"] == {"desired": {"screen": "qr"}, "delta": {"screen": "qr"}}
    assert code == 400


def test_update_desired_over_mqtt_helper_and_reconnect_after_broker_restart():
    async def main():
        loop = asyncio.get_running_loop()
        broker = EmbeddedBroker()
        host, port = await broker.start()
        service = ShadowService(broker.url, clock=loop.clock)
        await service.start()
        first = await update_desired(broker.url, "b8", {"name": "Ada"})
        await broker.stop()
        await broker.start(host, port)
        await asyncio.sleep(5)  # the service reconnects with backoff (virtual seconds)
        second = await update_desired(broker.url, "b8", {"name": "Bob"})
        await service.stop()
        await broker.stop()
        return first, second
    (first, second), _ = run_on("virtual", main)
    assert first["version"] == 1 and second["version"] == 2
    assert second["state"] == {"desired": {"name": "Bob"}}


def test_service_on_mosquitto(mosquitto_url):  # noqa: F811
    async def main():
        service = ShadowService(mosquitto_url, client_id="shadow-service-test")
        await service.start()
        try:
            app = await client(mosquitto_url, "app-on-mosquitto")
            ok, doc = await app.request("mosq-thing", "update", {"state": {"reported": {"t": 23.5}}})
            ok2, got = await app.request("mosq-thing", "get")
            await app.link.disconnect()
        finally:
            await service.stop()
        return ok, doc, ok2, got
    for kind in ("plain", "virtual"):
        (ok, doc, ok2, got), _ = run_on(kind, main)
        assert ok and ok2 and got["state"] == {"reported": {"t": 23.5}}


def test_bad_names_and_unreadable_get_bodies():
    async def body(cloud):
        app = await client(cloud.url, "app")
        bad = await app.request("bad.name", "get", {"clientToken": "n1"})
        _, every = await watcher(cloud.url, "$aws/things/b9/shadow/get/+")
        await app.link.publish("$aws/things/b9/shadow/get", b"not json at all", 1)
        await every.wait(1)
        return bad, documents(every)
    bad, every = on_cloud(body)
    assert bad[0] is False and bad[1]["code"] == 400 and bad[1]["clientToken"] == "n1"
    assert "must match pattern" in bad[1]["message"]
    assert every == [("get/rejected", {"code": 404, "message": "No shadow exists with name: 'b9'"})]
