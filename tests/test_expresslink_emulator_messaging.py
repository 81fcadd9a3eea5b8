"""ExpressLink emulator: SEND, GET, SUBSCRIBE, queues and routing (edge cases 6, 9-12, 19)."""

from sim.expresslink.config import STAGING_ENDPOINT
from sim.expresslink.queues import route, topic_matches
from scripted_host import THING, run


async def online(bench, *topics):
    """Set Topic1..n, connect, subscribe each and consume the SUBACKs."""
    host = bench.host
    for i, topic in enumerate(topics, 1):
        assert await host.command("CONF Topic%d=%s" % (i, topic)) == b"OK"
    await bench.connect()
    for i in range(1, len(topics) + 1):
        assert await host.command("SUBSCRIBE%d" % i) == b"OK"
    await bench.settle()
    assert await host.events() == ["8 %d SUBACK" % i for i in range(1, len(topics) + 1)]


def test_topic_filter_matching():
    assert topic_matches("a/b", "a/b")
    assert topic_matches("a/+/c", "a/b/c")
    assert not topic_matches("a/+/c", "a/b/d/c")
    assert topic_matches("a/#", "a")
    assert topic_matches("a/#", "a/b/c")
    assert topic_matches("#", "x/y")
    assert not topic_matches("#", "$aws/things/t/shadow/get")
    assert not topic_matches("+/things/t", "$aws/things/t")
    assert topic_matches("$aws/things/+/shadow/#", "$aws/things/t/shadow/get")
    assert not topic_matches("a/b", "a/b/c")
    assert route("badge/1/qr", ["", "badge/+/qr", "badge/#"]) == 2
    assert route("other", ["badge/#"]) == 0


def test_edge06_escapes_in_both_directions():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/in")
        assert await host.command("CONF Topic2=badge/out") == b"OK"
        assert await host.command("SEND2 a\\Ab\\Dc\\\\d\\\\A") == b"OK"
        assert bench.broker.published("badge/out") == [("badge/out", b"a\nb\rc\\d\\A")]
        assert await host.command("SEND2 bad\\n") == b"ERR5 INVALID ESCAPE"
        assert await host.command("SEND2 bad\\x41") == b"ERR5 INVALID ESCAPE"
        assert await host.command("SEND2 bad\\") == b"ERR5 INVALID ESCAPE"
        assert len(bench.broker.published("badge/out")) == 1
        bench.broker.publish("badge/in", b"line1\r\nline2 \\A")
        await bench.settle()
        assert await host.command("GET1") == b"OK line1\\D\\Aline2 \\\\A"

    run(scenario)


def test_edge09_offline_commands_and_empty_topic():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        assert await host.command("SEND1 hi") == b"ERR6 NO CONNECTION"
        assert await host.command("SUBSCRIBE1") == b"ERR6 NO CONNECTION"
        assert await host.command("UNSUBSCRIBE1") == b"ERR6 NO CONNECTION"
        assert await host.command("CONF EnableShadow=1") == b"OK"
        assert await host.command("SHADOW INIT") == b"ERR6 NO CONNECTION"
        # documented precedence: range (ERR7), then empty topic (ERR8), then connection (ERR6)
        assert await host.command("SEND2 hi") == b"ERR8 PARAMETER UNDEFINED"
        assert await host.command("SUBSCRIBE2") == b"ERR8 PARAMETER UNDEFINED"
        assert await host.command("SEND17 hi") == b"ERR7 OUT OF RANGE"
        await bench.connect()
        assert await host.command("SEND2 hi") == b"ERR8 PARAMETER UNDEFINED"
        assert (await host.command("SEND1")).startswith(b"ERR4 ")  # no message at all
        assert await host.command("SEND1 ") == b"OK"  # an empty message
        assert bench.broker.published() == [("badge/x", b"")]

    run(scenario)


def test_edge08_suffix_rules_on_messaging_commands():
    async def scenario(bench):
        host = bench.host
        assert (await host.command("SEND hello")).startswith(b"ERR4 ")
        assert (await host.command("SUBSCRIBE")).startswith(b"ERR4 ")
        assert await host.command("SUBSCRIBE0") == b"ERR7 OUT OF RANGE"
        assert await host.command("UNSUBSCRIBE17") == b"ERR7 OUT OF RANGE"
        assert await host.command("GET17") == b"ERR7 OUT OF RANGE"
        assert await host.command("GET3") == b"ERR8 PARAMETER UNDEFINED"
        assert (await host.command("SEND1x hi")).startswith(b"ERR4 ")
        assert await host.command("SEND1;hi") == b"ERR2 PARSE ERROR"
        assert (await host.command("EVENT?3")).startswith(b"ERR4 ")

    run(scenario)


def test_edge10_empty_queues_and_get_offline():
    async def scenario(bench):
        host = bench.host
        assert await host.command("GET") == b"OK"
        assert await host.command("GET0") == b"OK"
        await online(bench, "badge/a")
        assert await host.command("GET1") == b"OK"
        bench.broker.publish("badge/a", b"one")
        bench.broker.publish("elsewhere", b"two")  # not subscribed: never arrives
        await bench.settle()
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.events() == ["1 1 MSG", "3 0 CONLOST"]
        assert await host.command("GET1") == b"OK one"
        assert await host.command("GET") == b"OK"

    run(scenario)


def test_edge11_get_two_line_form_and_empty_payload():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/a", "badge/b/#")
        bench.broker.publish("badge/a", b"first")
        bench.broker.publish("badge/b/deep", b"")
        bench.broker.publish("badge/a", b"")
        await bench.settle()
        assert await host.exchange("GET") == [b"OK1 badge/a", b"first"]
        assert await host.exchange("GET") == [b"OK1 badge/b/deep", b""]
        assert await host.command("GET1") == b"OK "  # an empty message
        assert await host.command("GET1") == b"OK"  # no message

    run(scenario)


def test_get0_catch_all_for_unmatched_topics():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/a", "badge/+/qr")
        # the host changes Topic1 without UNSUBSCRIBE: old messages land in GET0
        assert await host.command("CONF Topic1=badge/new") == b"OK"
        bench.broker.publish("badge/a", b"old")
        bench.broker.publish("badge/7/qr", b"qr")
        await bench.settle()
        assert await host.events() == ["1 0 MSG", "1 2 MSG"]
        assert await host.command("GET1") == b"OK"
        assert await host.command("GET2") == b"OK qr"
        assert await host.exchange("GET0") == [b"OK1 badge/a", b"old"]

    run(scenario)


def test_edge12_message_overrun_drops_newest():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/a")
        for payload in (b"m1", b"m2", b"m3"):
            bench.broker.publish("badge/a", payload)
        await bench.settle()
        assert await host.events() == ["1 1 MSG", "1 1 MSG", "1 1 MSG", "4 0 OVERRUN badge/a"]
        assert await host.command("GET1") == b"OK m1"
        assert await host.command("GET1") == b"OK m2"
        assert await host.command("GET1") == b"OK"  # a MSG event without its message

    run(scenario, message_queue_depth=2)


def test_edge12_event_queue_drops_oldest():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/a")
        for i in range(6):
            bench.broker.publish("badge/a", b"%d" % i)
        await bench.settle()
        assert bench.module.events.dropped == 2
        assert await host.events() == ["1 1 MSG"] * 4
        assert await host.command("GET1") == b"OK 0"

    run(scenario, event_queue_depth=4)


def test_send_uses_qos_key_and_broker_echo():
    async def scenario(bench):
        host = bench.host
        await online(bench, "badge/echo")
        assert await host.command("CONF QoS=1") == b"OK"
        assert await host.command("SEND1 ping") == b"OK"
        assert bench.broker.log[-1] == (THING, "badge/echo", b"ping", 1)
        await bench.settle()
        assert await host.events() == ["1 1 MSG"]  # subscribed to its own topic
        assert await host.command("GET1") == b"OK ping"
        assert await host.command("CONF Topic2=badge/+") == b"OK"
        assert (await host.command("SEND2 x")).startswith(b"ERR4 ")  # no wildcards in SEND

    run(scenario)


def test_edge19_subnack_and_suppressed_acks():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=bad/#/filter") == b"OK"
        assert await host.command("CONF Topic2=badge/ok") == b"OK"
        await bench.connect()
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        assert await host.events() == ["9 1 SUBNACK"]
        bench.broker.latency_s = 0.01  # acks now arrive 10 ms later
        assert await host.command("SUBSCRIBE2") == b"OK"
        assert await host.command("CONF Topic2=badge/changed") == b"OK"
        await bench.settle()
        assert await host.events() == []  # topic changed before the ack
        assert await host.command("SUBSCRIBE2") == b"OK"
        assert await host.command("SUBSCRIBE2") == b"OK"
        await bench.settle()
        assert await host.events() == ["8 2 SUBACK"]  # only the latest request is acked
        assert await host.command("UNSUBSCRIBE2") == b"OK"
        await bench.settle()
        bench.broker.publish("badge/changed", b"late")
        await bench.settle()
        assert await host.events() == []

    run(scenario)


def test_edge19_staging_policy_drops_connection_on_foreign_topic():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONNECT?") == b"OK 0 0 DISCONNECTED STAGING"
        assert await host.command("CONF Topic1=%s/allowed" % THING) == b"OK"
        assert await host.command("CONF Topic2=foreign/topic") == b"OK"
        await bench.connect()
        assert await host.command("CONNECT?") == b"OK 1 0 CONNECTED STAGING"
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        assert await host.events() == ["8 1 SUBACK"]
        assert await host.command("SUBSCRIBE2") == b"OK"
        await bench.settle()
        assert await host.events() == ["3 0 CONLOST"]
        # the staging account's config topic moves the module to the customer endpoint
        await bench.connect()
        bench.broker.publish(THING + "/expresslink_config", b'{"Endpoint":"acme.iot.example"}')
        await bench.settle()
        assert await host.events() == ["1 0 MSG", "3 0 CONLOST"]
        assert await host.exchange("GET0") == [
            b"OK1 " + THING.encode() + b"/expresslink_config", b'{"Endpoint":"acme.iot.example"}']
        assert await host.command("CONNECT?") == b"OK 0 1 DISCONNECTED CUSTOMER"
        assert await host.command("CONF? Endpoint") == b"OK acme.iot.example"

    run(scenario, endpoint=STAGING_ENDPOINT)
