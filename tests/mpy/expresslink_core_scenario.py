"""ExpressLink protocol core on a MicroPython VM: encode, escape, exchange, events, messages.

Runs wherever ``expresslink`` imports by bare name (lib/ mounted or on sys.path) and
prints PASS at the end. Byte sequences come from the ExpressLink specification digest.
"""

import sys

try:
    import expresslink
except ImportError:  # CPython run from the repository: put lib/ on the path
    _here = __file__.replace("\\", "/").rsplit("/", 1)[0]
    sys.path.insert(0, _here + "/../../lib")
    import expresslink

from expresslink import (
    Exchange,
    ModuleError,
    ProtocolError,
    StateError,
    encode,
    encode_text,
    escape,
    parse_event,
    unescape,
)
from expresslink.events import SHADOW_INIT_FAILED, SHADOW_SUBACK, STARTUP
from expresslink.messages import parse_get, parse_get_indexed, parse_time


def expect_raises(kind, function, *args):
    try:
        function(*args)
    except kind as error:
        return error
    raise AssertionError("%s not raised" % kind.__name__)


def answer(exchange, command, chunks, now_ms=0):
    """Start ``command``, feed ``chunks`` one by one, return the first non-None result."""
    exchange.start(command, now_ms, 1000)
    for chunk in chunks:
        exchange.receive(chunk)
        result = exchange.next_result()
        if result is not None:
            return result
    return None


def check_encoding():
    assert encode_text("AT") == b"AT\n"
    assert encode("CONF?", None, "ThingName") == b"AT+CONF? ThingName\n"
    assert encode("SEND", 1, "a\nb\rc\\d") == b"AT+SEND1 a\\Ab\\Dc\\\\d\n"
    assert encode_text("CONF Topic1=") == b"AT+CONF Topic1=\n"
    assert escape(b"\\A") == b"\\\\A"
    assert unescape(b"\\\\A") == b"\\A"  # one pass: text \A survives
    assert unescape(escape(bytes(range(256)))) == bytes(range(256))
    expect_raises(ProtocolError, unescape, b"bad \\n escape")
    expect_raises(ValueError, encode, "SEND", -1, "x")
    expect_raises(ValueError, encode, "SEND", 1, "x" * 9300)


def check_exchange():
    exchange = Exchange()
    result = answer(exchange, b"AT\n", [b"\x00\xff", b"O", b"K\r", b"\n"])
    assert result.detail is None and result.lines == ()
    result = answer(exchange, b"AT+GET1\n", [b"OK \r\n"])
    assert parse_get_indexed(result, 1).payload == b""
    result = answer(exchange, b"AT+GET\n", [b"OK1 badge/t", b"\r\nhello\\Aworld\r\n"])
    message = parse_get(result)
    assert message.topic == "badge/t" and message.payload == b"hello\nworld"
    pem = [b"OK9 pem\r\n"] + [("line%d\r\n" % n).encode() for n in range(9)]
    result = answer(exchange, b"AT+CONF? Certificate pem\n", pem)
    assert result.detail == b"pem" and len(result.lines) == 9
    exchange.start(b"AT+CONF\n", 0, 1000)
    exchange.receive(b"ERR4  PARAMETER ERROR\r\n")
    error = expect_raises(ModuleError, exchange.next_result)
    assert error.code == 4 and error.text == "PARAMETER ERROR"
    exchange.start(b"AT+CONNECT\n", 0, 1000)
    exchange.receive(b"ERR14 5 UNABLE TO CONNECT MQTT device authentication failure\r\n")
    error = expect_raises(ModuleError, exchange.next_result)
    assert error.code == 14 and error.hint == "5"
    exchange.start(b"AT\n", 0, 1000)
    exchange.receive(b"garbage\r\n")
    expect_raises(ProtocolError, exchange.next_result)
    exchange.start(b"AT\n", (1 << 29) - 10, 50)  # deadline across the tick wrap
    assert not exchange.expired(30) and exchange.expired(40)
    expect_raises(StateError, exchange.start, b"AT\n", 0, 10)
    exchange.abort()


def check_events_and_time():
    exchange = Exchange()
    event = parse_event(answer(exchange, b"AT+EVENT?\n", [b"OK 2 0 STARTUP\r\n"]))
    assert event.id == STARTUP and event.param == 0 and event.mnemonic == "STARTUP"
    event = parse_event(answer(exchange, b"AT+EVENT?\n", [b"OK  26 0\r\n"]))
    assert event.id == SHADOW_SUBACK and event.mnemonic == "" and event.name == "SHADOW SUBACK"
    event = parse_event(answer(exchange, b"AT+EVENT?\n", [b"OK 6 5.1 CONNECT\r\n"]))
    assert event.param == 5 and event.param_text == "5.1"
    event = parse_event(answer(exchange, b"AT+EVENT?\n", [b"OK 21 1 SHADOW INIT FAILED\r\n"]))
    assert event.id == SHADOW_INIT_FAILED and event.mnemonic == "SHADOW INIT FAILED"
    assert parse_event(answer(exchange, b"AT+EVENT?\n", [b"OK\r\n"])) is None
    result = answer(exchange, b"AT+TIME?\n", [b"OK date 2022/10/30 time 09:38:34.04 SNTP\r\n"])
    assert parse_time(result).as_tuple() == (2022, 10, 30, 9, 38, 34, 40)


def main():
    check_encoding()
    check_exchange()
    check_events_and_time()
    print("PASS")


try:
    main()
except Exception as error:  # show the traceback on stdout: a VM guest only reports its exit code
    if hasattr(sys, "print_exception"):
        sys.print_exception(error, sys.stdout)
    else:
        import traceback

        traceback.print_exc(file=sys.stdout)
    print("FAIL")
    raise
