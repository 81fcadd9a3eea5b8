"""ExpressLink emulator: the connection model (edge cases 13-18) and its fault knobs."""

import asyncio

import pytest

from scripted_host import THING, run


def test_edge14_connect_idempotent_and_disconnect_conlost():
    async def scenario(bench):
        host = bench.host
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.events() == []  # nothing left: no CONLOST
        started = bench.clock.now()
        await bench.connect()
        assert bench.clock.now() - started >= bench.module.connect_time_s
        assert bench.cloud.client_id == THING  # ThingName is the MQTT client id
        started = bench.clock.now()
        await bench.connect()
        assert bench.clock.now() - started < 0.01  # already connected: at once
        assert await host.command("CONNECT?") == b"OK 1 1 CONNECTED CUSTOMER"
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.events() == ["3 0 CONLOST"]
        assert not bench.cloud.connected
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.events() == []

    run(scenario)


def test_edge15_failure_hint_and_growing_backoff():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        module.unreachable = True
        assert await host.command("CONNECT") == b"ERR14 3 UNABLE TO CONNECT endpoint unreachable"
        first_window = module.connection.backoff_until_s - bench.clock.now()
        reply = await host.command("CONNECT")
        assert reply.startswith(b"ERR14 1 UNABLE TO CONNECT")  # too soon: backoff, at once
        await asyncio.sleep(first_window)
        assert (await host.command("CONNECT")).startswith(b"ERR14 3 ")
        second_window = module.connection.backoff_until_s - bench.clock.now()
        assert second_window > 1.5 * first_window  # the delay grows
        await asyncio.sleep(first_window)
        assert (await host.command("CONNECT")).startswith(b"ERR14 1 ")  # still inside
        await asyncio.sleep(second_window)
        module.unreachable = False
        module.refuse_connections = True
        assert await host.command("CONNECT") == \
            b"ERR14 5 UNABLE TO CONNECT MQTT device authentication failure"
        module.refuse_connections = False
        await asyncio.sleep(module.connection.backoff_max_s)
        await bench.connect()
        assert module.connection.failures == 0

    run(scenario)


@pytest.mark.parametrize("knob, hint", [("unreachable", b"3"), ("refuse_all", b"5")])
def test_edge15_hints_from_the_cloud_link(knob, hint):
    async def scenario(bench):
        setattr(bench.broker, knob, True)
        reply = await bench.host.command("CONNECT")
        assert reply.startswith(b"ERR14 " + hint + b" UNABLE TO CONNECT ")

    run(scenario)


def test_edge16_blocking_connect_takes_time_and_keeps_order():
    async def scenario(bench):
        host = bench.host
        bench.broker.latency_s = 0.25  # the cloud's own time adds to the module's
        started = bench.clock.now()
        host.write(b"AT+CONNECT\nAT\n")  # the second command waits behind CONNECT
        assert await host.read_line() == b"OK 1 CONNECTED"
        took = bench.clock.now() - started
        assert bench.module.connect_time_s + 0.25 <= took < bench.module.connect_time_s + 0.3
        assert await host.read_line() == b"OK"
        assert await host.read_for(0.05) == b""

    run(scenario, connect_time_s=3.0)


def test_edge17_connect_async_and_not_allowed_meanwhile():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        assert await host.command("CONNECT!") == b"OK"
        assert await host.command("CONNECT!") == b"ERR25 NOT ALLOWED CONNECT! in progress"
        assert await host.command("CONNECT") == b"ERR25 NOT ALLOWED CONNECT! in progress"
        assert await host.command("DISCONNECT") == b"ERR25 NOT ALLOWED CONNECT! in progress"
        assert await host.command("SLEEP") == b"ERR25 NOT ALLOWED"
        assert await host.command("SEND1 x") == b"ERR6 NO CONNECTION"
        assert await host.command("CONNECT?") == b"OK 0 1 DISCONNECTED CUSTOMER"
        assert await host.events() == []
        await asyncio.sleep(bench.module.connect_time_s)
        assert await host.events() == ["6 0 CONNECT"]
        assert await host.command("CONNECT!") == b"OK"  # already connected
        assert await host.events() == ["6 0 CONNECT"]
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        bench.module.network_down = True
        assert await host.command("CONNECT!") == b"OK"
        await asyncio.sleep(bench.module.connect_time_s + 0.01)
        assert await host.events() == ["3 0 CONLOST", "6 2 CONNECT network access failed"]
        assert await host.command("CONNECT!") == b"OK"
        events = await host.events()
        assert len(events) == 1 and events[0].startswith("6 1 CONNECT")  # backoff

    run(scenario)


def test_edge13_event_with_dotted_hint_and_detail():
    async def scenario(bench):
        bench.module.fail_next_connect = ("5.1", "certificate revoked")
        assert await bench.host.command("CONNECT!") == b"OK"
        await asyncio.sleep(bench.module.connect_time_s + 0.01)
        assert await bench.host.command("EVENT?") == b"OK 6 5.1 CONNECT certificate revoked"
        assert await bench.host.command("EVENT?") == b"OK"

    run(scenario)


def test_edge18_spontaneous_loss_forgets_subscriptions():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await bench.connect()
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        assert await host.events() == ["8 1 SUBACK"]
        bench.module.drop_connection()
        assert await host.events() == ["3 0 CONLOST"]
        assert await host.command("CONNECT?") == b"OK 0 1 DISCONNECTED CUSTOMER"
        assert await host.command("SEND1 x") == b"ERR6 NO CONNECTION"
        await bench.connect()  # no backoff after a loss
        bench.broker.publish("badge/x", b"lost")
        await bench.settle()
        assert await host.events() == []  # the new session has no subscription
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        bench.broker.publish("badge/x", b"kept")
        await bench.settle()
        assert await host.events() == ["8 1 SUBACK", "1 1 MSG"]
        # the broker ends the session (e.g. the same client id connects elsewhere)
        other = bench.broker.link()
        await other.connect(THING)
        await bench.settle()
        assert await host.events() == ["3 0 CONLOST"]

    run(scenario)


def test_last_will_and_keepalive_come_from_config():
    async def scenario(bench):
        host = bench.host
        assert await host.command(
            'CONF LWTConfig={"topic":"badge/status","qos":1,"retain":0}') == b"OK"
        assert await host.command("CONF LWTMessage=offline") == b"OK"
        assert await host.command("CONF KeepAlive=30") == b"OK"
        await bench.connect()
        assert bench.cloud.will == ("badge/status", b"offline", 1, False)
        assert bench.cloud.keepalive_s == 30
        bench.module.drop_connection()  # an unclean end: the broker sends the will
        await bench.settle()
        assert bench.broker.published("badge/status") == [("badge/status", b"offline")]

    run(scenario)


def test_failed_publish_counts_as_connection_loss():
    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await bench.connect()
        bench.cloud.connected = False  # the session died silently
        assert await host.command("SEND1 x") == b"ERR6 NO CONNECTION"
        assert await host.events() == ["3 0 CONLOST"]

    run(scenario)


def test_cloud_that_never_answers_gives_hint_3_within_the_limit():
    async def scenario(bench):
        async def never(*args, **kwargs):
            await asyncio.get_running_loop().create_future()

        bench.cloud.connect = never
        started = bench.clock.now()
        reply = await bench.host.command("CONNECT", timeout=120)
        assert reply == b"ERR14 3 UNABLE TO CONNECT no answer from the endpoint"
        took = bench.clock.now() - started
        assert bench.module.connection.cloud_timeout_s <= took <= 120  # MaxExec

    run(scenario)
