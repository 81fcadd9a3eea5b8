"""ExpressLink emulator against malformed input: one reply per command, never a crash or hang."""

import random

from scripted_host import run

WORDS = ["", "CONF", "CONF?", "CONNECT", "CONNECT!", "CONNECT?", "DISCONNECT", "SEND", "GET",
         "SUBSCRIBE", "UNSUBSCRIBE", "EVENT?", "TIME?", "WHERE?", "DIAG", "CONFMODE", "SHADOW",
         "OTA?", "OTA", "NOPE", "conf?", "Get", "send_", "?", "!"]
PARAMS = [b"", b"Topic1=badge/f", b"Topic1", b"QoS=1", b"ThingName", b"x" * 40, b"=", b"a=b=c",
          b"INIT", b"GET DOC", b"UPDATE {\"state\":{}}", b"READ 4", b"SEEK 3", b"ACCEPT",
          b"PING 1.2.3.4", b"\\A\\D\\\\", b"\\q", b"\\", b"Topic_1=x", b"EnableShadow=1"]
SEPARATORS = [b" ", b" ", b" ", b"", b"\t", b",", b"  "]
FORBIDDEN = (b"RESET", b"SLEEP", b"APPLY", b"=PEM", b"EVENT!")


def random_line(rng):
    word = rng.choice(WORDS).encode()
    suffix = rng.choice([b"", b"", b"1", b"0", b"2", b"17", b"007", b"1A"])
    if rng.random() < 0.2:
        param = bytes(rng.choice([b for b in range(256) if b not in (10, 13)])
                      for _ in range(rng.randint(0, 30)))
    else:
        param = rng.choice(PARAMS)
    return b"AT+" + word + suffix + rng.choice(SEPARATORS) + param


def junk(rng):
    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
    return b"" if b"at" in data.lower() else data


def test_random_lines_get_exactly_one_reply_each():
    rng = random.Random(2024)

    async def scenario(bench):
        host = bench.host
        sent = 0
        while sent < 300:
            line = random_line(rng)
            if any(word in line.upper() for word in FORBIDDEN):
                continue
            host.write(junk(rng).replace(b"\r", b"").replace(b"\n", b""))
            lines = await host.exchange(line[3:], timeout=70)
            first = lines[0]
            assert first == b"OK" or first.startswith((b"OK", b"ERR")), (line, first)
            if first.startswith(b"ERR"):
                code = first[3:].split(b" ")[0]
                assert code.isdigit() and 1 <= int(code) <= 29, (line, first)
            assert await host.read_for(0.01) == b"", line  # nothing extra
            sent += 1
        await bench.settle(3.0)  # let background work (downloads, acks) finish
        assert await host.command("") == b"OK"

    run(scenario)


def test_random_bytes_between_commands_are_ignored():
    rng = random.Random(7)

    async def scenario(bench):
        host = bench.host
        for _ in range(100):
            noise = junk(rng)
            host.write(noise + b"\r\n")
            assert await host.command("CONF? QoS") == b"OK 0"

    run(scenario)
