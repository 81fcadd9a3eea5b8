"""ExpressLink emulator: reply forms, limits, wire timing, TIME?, EVENT!, DIAG, error coverage.

Edge cases 4, 7, 27, 28 and the timing of bytes on the wire.
"""

import asyncio

from scripted_host import BYTE_S, run


def test_edge04_ok_forms():
    async def scenario(bench):
        host = bench.host
        assert await host.command("GET") == b"OK"  # nothing
        assert await host.command("CONF? CustomName") == b"OK "  # an empty value
        assert await host.command("CONF? ShadowToken") == b"OK ExpressLink"  # a value
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await bench.connect()
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        bench.broker.publish("badge/x", b"payload")
        await bench.settle()
        assert await host.exchange("GET") == [b"OK1 badge/x", b"payload"]  # count glued to OK
        lines = await host.exchange("CONF? RootCA pem")
        assert lines[0] == b"OK%d pem" % (len(lines) - 1) and len(lines) > 10

    run(scenario)


def test_edge07_overflow_answers_once_after_eol():
    async def scenario(bench):
        host = bench.host
        longest = b"AT+DIAG " + b"x" * (9 * 1024 - 8)  # exactly 9 KB
        host.write(longest + b"\n")
        assert (await host.read_line()).startswith(b"ERR4 ")  # parsed, not an overflow
        host.write(longest + b"y")
        assert await host.read_for(0.5) == b""  # nothing until EOL
        host.write(b"z" * 500)
        assert await host.read_for(0.5) == b""
        host.write(b"\r\n")  # 9.7 KB take about 0.85 s on the wire
        sent = bench.clock.now()
        assert await host.read_line() == b"ERR1 OVERFLOW"
        assert bench.clock.now() >= sent + 2 * BYTE_S
        assert await host.read_for(0.1) == b""  # one reply only
        assert await host.command("") == b"OK"

    run(scenario)


def test_edge28_near_limit_message_arrives_as_one_line():
    payload = bytes(range(32, 127)) * 90  # 8550 bytes, no bytes that need escaping

    async def scenario(bench):
        host = bench.host
        assert await host.command("CONF Topic1=badge/big") == b"OK"
        await bench.connect()
        assert await host.command("SUBSCRIBE1") == b"OK"
        await bench.settle()
        assert await host.events() == ["8 1 SUBACK"]
        assert await host.command("SEND1 " + payload.decode().replace("\\", "\\\\")) == b"OK"
        await bench.settle()
        assert await host.events() == ["1 1 MSG"]
        started = bench.clock.now()
        line = await host.command("GET1")
        took = bench.clock.now() - started
        assert line == b"OK " + payload.replace(b"\\", b"\\\\")
        # the whole reply crosses the wire at 115200 baud: about 0.75 s
        assert took >= (len(line) + 2) * BYTE_S

    run(scenario)


def test_reply_wire_timing_and_processing_time():
    async def scenario(bench):
        host = bench.host
        clock = bench.clock
        writes = []
        bench.link.device.taps.append(lambda now, name, data: writes.append((now, data)))
        command = b"AT+CONF? About\n"
        sent = clock.now()
        host.write(command)
        while not writes:
            await asyncio.sleep(BYTE_S / 4)
        written_at, reply = writes[0]
        assert reply == b"OK BadgeSim - ExpressLink Emulator\r\n"
        # the module starts after the last command byte arrived plus its 0.2 ms
        arrived = sent + len(command) * BYTE_S
        assert abs(written_at - arrived - bench.module.processing_time_s) < BYTE_S / 4
        n = len(reply)
        await asyncio.sleep(written_at + (n - 0.5) * BYTE_S - clock.now())
        assert host.end.in_waiting == n - 1  # the last byte is still on the wire
        await asyncio.sleep(BYTE_S)
        assert host.end.in_waiting == n  # n bytes take n * 10 / 115200 s
        assert host.end.read() == reply

    run(scenario)


def test_edge27_time_before_and_after_sync():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("TIME?") == b"ERR15 TIME NOT AVAILABLE"
        await bench.connect()  # SNTP runs with the first connection
        module.set_wall_clock(1700000000.0)  # 2023-11-14 22:13:20 UTC
        started = bench.clock.now()
        line = await host.command("TIME?")
        elapsed = bench.clock.now() - started
        assert line.startswith(b"OK 2023/11/14 22:13:2")
        assert line.endswith(b" SNTP")
        seconds = float(line.split(b" ")[2].split(b":")[2])
        assert 20.0 <= seconds <= 20.0 + elapsed + 0.01
        module.time_words = True
        line = await host.command("TIME?")
        assert line.startswith(b"OK date 2023/11/14 time 22:13:") and line.endswith(b" SNTP")
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert (await host.command("TIME?")).startswith(b"OK date")  # the clock keeps time
        assert await host.command("RESET") == b"OK"
        await host.boot(module)
        assert await host.command("TIME?") == b"ERR15 TIME NOT AVAILABLE"

    run(scenario)


def test_event_wait_returns_event_or_timeout():
    async def scenario(bench):
        host = bench.host
        started = bench.clock.now()
        assert await host.command("EVENT! 2") == b"OK 0 0 TIMEOUT"
        assert 2.0 <= bench.clock.now() - started < 2.1
        assert await host.command("CONNECT!") == b"OK"
        started = bench.clock.now()
        assert await host.command("EVENT! 30") == b"OK 6 0 CONNECT"
        assert bench.clock.now() - started < bench.module.connect_time_s + 0.1
        assert (await host.command("EVENT!")).startswith(b"ERR4 ")

    run(scenario)


def test_diag_and_where():
    async def scenario(bench):
        host = bench.host
        module = bench.module
        assert await host.command("DIAG PING 8.8.8.8") == \
            b"OK Received ping reply from 8.8.8.8 time=12 ms"
        module.network_down = True
        assert await host.command("DIAG PING 8.8.8.8") == b"OK Not connected to AP"
        assert await host.command("DIAG STATE") == b"OK active disconnected messages=0 events=0"
        assert (await host.command("DIAG")).startswith(b"ERR4 ")
        assert (await host.command("DIAG REBOOT")).startswith(b"ERR4 ")
        assert await host.command("WHERE?") == b"ERR16 LOCATION NOT AVAILABLE"

    run(scenario)


def test_every_reachable_error_code():
    """One command per error code the emulator can produce (codes 1-21, 23-26)."""

    async def scenario(bench):
        host = bench.host
        module = bench.module
        got = {}

        async def expect(code, command):
            line = await host.command(command)
            assert line.startswith(b"ERR%d " % code), (code, line)
            got[code] = line

        host.write(b"AT+" + b"x" * 9300 + b"\n")
        got[1] = await host.read_line()
        assert got[1] == b"ERR1 OVERFLOW"
        await expect(2, "SEND1:x")
        await expect(3, "JOB")
        await expect(4, "SLEEP9A")
        await expect(5, "CONF CustomName=\\q")
        assert await host.command("CONF Topic1=badge/x") == b"OK"
        await expect(6, "SEND1 x")
        await expect(7, "SEND0 x")
        await expect(8, "SEND2 x")
        await expect(9, "CONF? SeventeenCharsKey")
        await expect(10, "CONF? Topic-1")
        await expect(11, "CONF? Topic0")
        await expect(12, "CONF TechSpec=v9")
        await expect(13, "CONF? Passphrase")
        module.unreachable = True
        await expect(14, "CONNECT")
        module.unreachable = False
        await expect(15, "TIME?")
        await expect(16, "WHERE?")
        module.confmode_available = False
        await expect(17, "CONFMODE")
        module.connection.backoff_until_s = 0.0
        await bench.connect()
        await expect(18, "SLEEP")
        await expect(19, "OTA READ 4")
        module.ota.offer_host_update(b"abc")
        assert await host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(module.ota.download_time_s)
        await expect(20, "OTA SEEK 4")
        await expect(21, "OTA APPLY")
        module.ota.offer_module_update("9.9.9", signature_ok=False)
        assert await host.command("OTA ACCEPT") == b"OK"
        await asyncio.sleep(module.ota.download_time_s)
        await expect(23, "OTA APPLY")
        await expect(24, "SHADOW INIT")
        assert await host.command("DISCONNECT") == b"OK 0 DISCONNECTED"
        assert await host.command("CONNECT!") == b"OK"
        await expect(25, "CONNECT")
        await expect(26, "CONF RootCA=garbage")
        assert sorted(got) == [c for c in range(1, 27) if c != 22]

    run(scenario)


def test_edge13_injected_event_forms():
    async def scenario(bench):
        module = bench.module
        module.inject_event(1001, 7, "battery low", mnemonic="VENDOR")
        module.inject_event(26, 2, mnemonic="")
        module.inject_event(20, 0)
        assert await bench.host.events() == ["1001 7 VENDOR battery low", "26 2", "20 0 SHADOW INIT"]

    run(scenario)
