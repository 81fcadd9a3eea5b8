"""ExpressLink emulator: boot, reset, RST/WAKE/EVENT pins, SLEEP, CONFMODE, faults.

Edge cases 1, 2, 5, 20, 21, 24, 29, 30.
"""

import asyncio

import pytest
from scripted_host import run


def test_edge01_boot_garbage_silence_then_startup():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        host.write(b"AT\n")  # sent while the module boots: lost
        garbage = await host.read_for(module.boot_time_s - 0.01)
        assert garbage and set(garbage) <= {0x00, 0xFF}
        assert not module.event_pin
        await asyncio.sleep(0.02)
        assert module.event_pin  # STARTUP queued
        assert await host.read_for(0.05) == b""  # the early AT got no answer
        assert await host.command("") == b"OK"
        assert await host.command("EVENT?") == b"OK 2 0 STARTUP"
        assert not module.event_pin

    run(scenario, boot=False, boot_time_s=0.5)


def test_edge02_junk_and_stray_eols_never_double_reply():
    async def scenario(bench):
        host = bench.host
        host.write(b"\x00\xffjunk\r\nAT\r\n\r\n\n\rhelloAT\n\r\rAT+GET\n\r")
        assert await host.read_for(0.2) == b"OK\r\nOK\r\nOK\r\n"

    run(scenario)


def test_edge05_every_host_eol_gets_crlf():
    async def scenario(bench):
        host = bench.host
        for eol in (b"\n", b"\r", b"\r\n", b"\n\r"):
            host.write(b"AT+CONF? ThingName" + eol)
            assert await host.read_for(0.1) == b"OK badge-test\r\n"

    run(scenario)


def test_edge20_sleep_rules_and_wake_paths():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await bench.connect()
        assert await host.command("SLEEP") == b"ERR18 ACTIVE CONNECTION"
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert (await host.command("SLEEP soon")).startswith(b"ERR4 ")
        # mode 0: events cleared, any command wakes (and is executed)
        assert await host.command("SLEEP") == b"OK 0"
        assert not module.event_pin  # the CONLOST event was dropped
        assert module.phase == "sleep"
        assert await host.command("CONF? Topic1") == b"OK badge/x"
        assert await host.command("EVENT?") == b"OK 2 0 STARTUP"
        # mode 1 with a duration: deaf until the timer, keeps the keys
        assert await host.command("SLEEP1 5") == b"OK 1"
        host.write(b"AT\n")
        assert await host.read_for(4.9) == b""
        await asyncio.sleep(0.2)
        assert module.phase == "active"
        assert await host.events() == ["2 0 STARTUP"]
        assert await host.command("CONF? Topic1") == b"OK badge/x"
        # mode 2 (deep): WAKE falling edge wakes, volatile keys are lost
        assert await host.command("SLEEP2") == b"OK 2"
        await asyncio.sleep(60)
        module.set_wake(False)
        module.set_wake(True)
        assert await host.events() == ["2 0 STARTUP"]
        assert await host.command("CONF? Topic1") == b"OK "
        # an unsupported mode falls back to the deepest one and says so
        assert await host.command("SLEEP9") == b"OK 2"
        module.set_wake(False)
        assert await host.command("") == b"OK"

    run(scenario)


def test_edge21_reset_replies_then_reboots():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        assert await host.command("CONF QoS=1") == b"OK"
        await bench.connect()
        host.write(b"AT+RESET\n")
        assert await host.read_line() == b"OK"
        host.write(b"AT\n")  # deaf while rebooting
        rebooting = await host.read_for(module.boot_time_s - 0.01)
        assert rebooting and set(rebooting) <= {0x00, 0xFF}
        await asyncio.sleep(0.02)
        assert not bench.cloud.connected
        assert await host.command("") == b"OK"
        assert await host.events() == ["2 0 STARTUP"]  # no CONLOST: events were cleared
        assert await host.command("CONF? Topic1") == b"OK "
        assert await host.command("CONF? QoS") == b"OK 0"
        assert await host.command("CONNECT?") == b"OK 0 1 DISCONNECTED CUSTOMER"
        assert await host.command("FACTORY_RESET") == b"OK"
        await host.boot(module)
        assert module.boots == 3

    run(scenario)


def test_rst_pin_holds_and_reboots():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        host.write(b"AT+CONNECT\n")
        await asyncio.sleep(0.1)
        module.set_reset(False)  # mid-CONNECT: no reply ever comes
        assert not module.event_pin
        host.write(b"AT\n")
        assert await host.read_for(5.0) == b""
        assert not bench.cloud.connected
        module.set_reset(True)
        garbage = await host.boot(module)
        assert set(garbage) <= {0x00, 0xFF}
        assert await host.command("CONF? Topic1") == b"OK "
        assert await host.command("CONNECT?") == b"OK 0 1 DISCONNECTED CUSTOMER"

    run(scenario)


def test_edge24_confmode():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("CONFMODE badge-setup") == b"OK CONFMODE ENABLED"
        assert await host.command("CONNECT") == b"ERR25 NOT ALLOWED CONFMODE active"
        assert await host.command("CONNECT!") == b"ERR25 NOT ALLOWED CONFMODE active"
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        assert await host.command("SEND1 x") == b"ERR6 NO CONNECTION"
        assert await host.command("SLEEP") == b"ERR25 NOT ALLOWED"
        assert await host.command("CONF? ThingName") == b"OK badge-test"
        assert module.complete_confmode(ssid="venue-wifi", passphrase="pw")
        assert await host.events() == ["7 0 CONFMODE"]
        assert await host.command("CONF? SSID") == b"OK venue-wifi"
        await bench.connect()
        assert await host.command("CONFMODE") == b"ERR18 ACTIVE CONNECTION"
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.command("CONFMODE") == b"OK CONFMODE ENABLED"
        assert await host.command("RESET") == b"OK"  # RESET also leaves CONFMODE
        await host.boot(module)
        await bench.connect()
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        module.confmode_available = False
        assert await host.command("CONFMODE") == b"ERR17 MODE NOT AVAILABLE"

    run(scenario)


def test_edge29_reset_mid_command():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        module.reset_mid_command = True
        host.write(b"AT+CONF? ThingName\n")
        data = await host.read_for(0.05)
        assert data.startswith(b"OK") and b"\r\n" not in data  # a partial line
        rest = await host.read_for(module.boot_time_s)
        assert set((data[2:] + rest)) <= {0x00, 0xFF}
        assert await host.command("") == b"OK"
        assert await host.events() == ["2 0 STARTUP"]

    run(scenario)


def test_hang_until_reset_pin():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        module.hang = True
        host.write(b"AT\nAT+EVENT?\n")
        assert await host.read_for(10) == b""
        module.set_reset(False)
        module.set_reset(True)
        await host.boot(module)
        assert await host.command("") == b"OK"

    run(scenario)


def test_inject_garbage_lands_before_the_next_reply():
    async def scenario(bench):
        bench.module.inject_garbage(b"\xfe\x00junk")
        assert await bench.host.command("") == b"\xfe\x00junkOK"

    run(scenario)


def test_edge30_event_pin_high_until_queue_empty():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        levels = []
        module.event_pin_listeners.append(levels.append)
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await bench.connect()
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        bench.broker.publish("badge/x", b"1")
        bench.broker.publish("badge/x", b"2")
        await bench.settle()
        assert levels == [True] and module.event_pin
        assert await host.command("EVENT?") == b"OK 8 1 SUBACK"
        assert module.event_pin
        assert await host.command("EVENT?") == b"OK 1 1 MSG"
        assert module.event_pin
        assert await host.command("EVENT?") == b"OK 1 1 MSG"
        assert not module.event_pin
        assert levels == [True, False]
        assert await host.command("EVENT?") == b"OK"

    run(scenario)


def test_caller_mistakes_are_loud():
    """A second start and a QoS the module never uses raise at once."""

    async def scenario(bench):
        with pytest.raises(RuntimeError):
            bench.module.start()
        await bench.connect()
        with pytest.raises(ValueError):
            await bench.cloud.publish("badge/x", b"", 2)
        with pytest.raises(ValueError):
            await bench.cloud.subscribe("badge/#", 2)
        assert await bench.host.command("") == b"OK"

    run(scenario)
