"""ExpressLink emulator: the SHADOW commands against a test shadow service (edge case 25)."""

import asyncio
import json

from sim.expresslink.config import STAGING_ENDPOINT
from scripted_host import THING, run

PREFIX = "$aws/things/%s/shadow" % THING


async def shadow_ready(bench, index=""):
    host = bench.host
    assert await host.command("CONF EnableShadow=1") == b"OK"
    await bench.connect()
    assert await host.command("SHADOW%s INIT" % index) == b"OK"
    await bench.settle()
    assert await host.events() == ["20 %s SHADOW INIT" % (index or 0)]


def body(line, flag):
    """The JSON after ``OK {flag} `` in a GET DOC/UPDATE/DELETE reply."""
    prefix = b"OK %d " % flag
    assert line.startswith(prefix), line
    return json.loads(line[len(prefix):])


def test_edge25_shadow_disabled_staging_and_uninitialised():
    async def scenario(bench):
        host = bench.host
        assert await host.command("SHADOW INIT") == b"ERR24 SHADOW ERROR EnableShadow is 0"
        assert await host.command("CONF EnableShadow=1") == b"OK"
        assert await host.command("SHADOW DOC") == b"ERR6 NO CONNECTION"
        assert await host.command("CONF Endpoint=" + STAGING_ENDPOINT) == b"OK"
        assert await host.command("SHADOW INIT") == b"ERR24 SHADOW ERROR not onboarded"
        assert await host.command("CONF Endpoint=iot.badge.local") == b"OK"
        await bench.connect()
        assert await host.command("SHADOW DOC") == b"ERR24 SHADOW ERROR not initialized"
        assert await host.command("SHADOW1 INIT") == b"ERR8 PARAMETER UNDEFINED"
        assert await host.command("SHADOW9 INIT") == b"ERR7 OUT OF RANGE"
        assert (await host.command("SHADOW")).startswith(b"ERR4 ")
        assert (await host.command("SHADOW FETCH")).startswith(b"ERR4 ")
        assert (await host.command("SHADOW GET SOMETHING")).startswith(b"ERR4 ")

    run(scenario, shadow_service=True)


def test_edge25_doc_update_delete_polling_states():
    async def scenario(bench):
        host = bench.host
        await shadow_ready(bench)
        assert await host.command("SHADOW GET DOC") == b"OK"  # nothing asked yet
        assert await host.command("SHADOW DOC") == b"OK"
        await bench.settle()
        assert await host.events() == ["22 0 SHADOW DOC"]
        rejected = body(await host.command("SHADOW GET DOC"), 0)
        assert rejected["code"] == 404 and rejected["clientToken"] == "ExpressLink"
        assert await host.command("SHADOW GET DOC") == b"OK"  # read once
        assert await host.command(
            'SHADOW UPDATE {"state":{"reported":{"name":"Ada","t":21.5}}}') == b"OK"
        await bench.settle()
        assert await host.events() == ["23 0 SHADOW UPDATE"]
        accepted = body(await host.command("SHADOW GET UPDATE"), 1)
        assert accepted["version"] == 1
        assert accepted["state"] == {"reported": {"name": "Ada", "t": 21.5}}
        request = bench.shadow_service.requests[-1]
        assert json.loads(request[3])["clientToken"] == "ExpressLink"
        assert await host.command("SHADOW DOC") == b"OK"
        await bench.settle()
        assert await host.events() == ["22 0 SHADOW DOC"]
        doc = body(await host.command("SHADOW GET DOC"), 1)
        assert doc["state"]["reported"]["name"] == "Ada" and doc["version"] == 1
        assert await host.command("SHADOW DELETE") == b"OK"
        await bench.settle()
        assert await host.events() == ["25 0 SHADOW DELETE"]
        assert body(await host.command("SHADOW GET DELETE"), 1)["version"] == 1
        assert await host.command("SHADOW DELETE") == b"OK"
        await bench.settle()
        assert await host.events() == ["25 0 SHADOW DELETE"]
        assert body(await host.command("SHADOW GET DELETE"), 0)["code"] == 404

    run(scenario, shadow_service=True)


def test_update_json_and_token_rules():
    async def scenario(bench):
        host = bench.host
        await shadow_ready(bench)
        assert (await host.command("SHADOW UPDATE {not json")).startswith(b"ERR4 ")
        assert (await host.command("SHADOW UPDATE [1,2]")).startswith(b"ERR4 ")
        assert await host.command(
            'SHADOW UPDATE {"state":{},"clientToken":"mine"}') == \
            b"ERR24 SHADOW ERROR clientToken set by ShadowToken"
        assert await host.command("CONF ShadowToken=") == b"OK"
        assert await host.command('SHADOW UPDATE {"state":{},"clientToken":"mine"}') == b"OK"
        await bench.settle()
        assert body(await host.command("SHADOW GET UPDATE"), 1)["clientToken"] == "mine"
        # a reply carrying another requester's token is not ours
        assert await host.command("CONF ShadowToken=badge") == b"OK"
        bench.broker.publish(PREFIX + "/update/accepted", b'{"clientToken":"app","version":9}')
        await bench.settle()
        assert await host.events() == ["23 0 SHADOW UPDATE"]  # only the first one

    run(scenario, shadow_service=True)


def test_delta_subscription_and_named_shadow():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Shadow1=config") == b"OK"
        await shadow_ready(bench, 1)
        assert await host.command("SHADOW1 SUBSCRIBE") == b"OK"
        await bench.settle()
        assert await host.events() == ["26 1 SHADOW SUBACK"]
        # the app (another client) sets a desired name
        app_request = {"state": {"desired": {"name": "Grace"}}, "clientToken": "app"}
        bench.broker.publish(PREFIX + "/name/config/update", json.dumps(app_request))
        await bench.settle()
        assert await host.events() == ["24 1 SHADOW DELTA"]  # no UPDATE: not our token
        delta = json.loads((await host.command("SHADOW1 GET DELTA"))[3:])
        assert delta["state"] == {"name": "Grace"} and delta["clientToken"] == "app"
        assert await host.command("SHADOW1 GET DELTA") == b"OK"
        assert await host.command(
            'SHADOW1 UPDATE {"state":{"reported":{"name":"Grace"}}}') == b"OK"
        await bench.settle()
        assert await host.events() == ["23 1 SHADOW UPDATE"]  # no delta: in sync
        assert bench.shadow_service.shadow(THING, "config").version == 2
        assert bench.shadow_service.shadow(THING) is None  # the classic one is separate
        assert await host.command("SHADOW1 UNSUBSCRIBE") == b"OK"
        await bench.settle()
        bench.broker.publish(PREFIX + "/name/config/update", b'{"state":{"desired":{"name":"X"}}}')
        await bench.settle()
        assert await host.events() == []

    run(scenario, shadow_service=True)


def test_shadow_init_failed_and_lost_with_connection():
    async def scenario(bench):
        host = bench.host
        await shadow_ready(bench)
        bench.module.drop_connection()
        assert await host.events() == ["3 0 CONLOST"]
        await bench.connect()
        assert await host.command("SHADOW DOC") == b"ERR24 SHADOW ERROR not initialized"
        bench.broker.denied_filters.add(PREFIX + "/get/accepted")
        assert await host.command("SHADOW INIT") == b"OK"
        await bench.settle()
        assert await host.events() == ["21 0 SHADOW INIT FAILED"]
        bench.broker.denied_filters.clear()
        assert await host.command("SHADOW INIT") == b"OK"
        await bench.settle()
        assert await host.events() == ["20 0 SHADOW INIT"]
        # a cloud that never answers: the pending request expires
        bench.shadow_service.silent = True
        assert await host.command("SHADOW DOC") == b"OK"
        assert await host.command("SHADOW DOC") == b"ERR24 SHADOW ERROR request pending"
        await asyncio.sleep(10.0)
        assert await host.command("SHADOW DOC") == b"OK"

    run(scenario, shadow_service=True)


def test_in_memory_cloud_answers_as_the_mqtt_shadow_service():
    """Both clouds stand on one shadow model: the same requests get the same answers."""
    from types import SimpleNamespace

    from sim.cloud.shadow_service import ShadowService

    requests = [
        ("update", {"state": {"desired": {"name": "Ada", "slots": [{"on": True}, 2]}},
                    "clientToken": "app"}),
        ("update", {"state": {"reported": {"name": "Bob"}}, "clientToken": "ExpressLink"}),
        ("get", {"clientToken": "ExpressLink"}),
        ("update", {"state": {"desired": {"slots": None}}, "version": 1}),  # 409
        ("delete", {}),
        ("get", {}),
    ]
    stopped_clock = SimpleNamespace(now=lambda: 0.0)
    mqtt_service = ShadowService(lambda: None, clock=stopped_clock, epoch_s=1756684800)
    heard = []

    async def scenario(bench):
        bench.broker.listen(PREFIX + "/+/+", lambda topic, payload: heard.append(
            (topic, json.loads(payload))))
        expected = []
        for verb, request in requests:
            payload = json.dumps(request).encode()
            expected += mqtt_service.handle_request(PREFIX + "/" + verb, payload)
            bench.broker.publish(PREFIX + "/" + verb, payload)
            await bench.settle()
        return expected

    expected = run(scenario, shadow_service=True)
    assert heard == expected
    assert expected[0][0].endswith("/update/delta")
    assert expected[0][1]["metadata"]["slots"] == [{"on": {"timestamp": 1756684800}},
                                                   {"timestamp": 1756684800}]
