"""ExpressLink emulator: framing, command syntax and escapes, unit level and bytes in/bytes out."""

import pytest

from sim.expresslink.codes import ModuleError
from sim.expresslink.parser import (
    LINE,
    OVERFLOW,
    SUFFIX_NONE,
    SUFFIX_OPTIONAL,
    SUFFIX_REQUIRED,
    LineAssembler,
    decode_escapes,
    encode_escapes,
    parse_command,
)
from scripted_host import run

RULES = {"": SUFFIX_NONE, "SLEEP": SUFFIX_OPTIONAL, "SEND": SUFFIX_REQUIRED,
         "TIME?": SUFFIX_NONE, "CONNECT?": SUFFIX_NONE, "GET": SUFFIX_OPTIONAL}


def items(assembler, *chunks):
    out = []
    for chunk in chunks:
        assembler.feed(chunk)
        while True:
            item = assembler.next_item()
            if item is None:
                break
            out.append(item)
    return out


# -- framing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [b"abcdefAT\n", b"AT\n\r", b"AT\r\n", b"AT\r\r", b"\r\n\nAT\r"])
def test_spec_framing_examples_give_one_command(stream):
    assert items(LineAssembler(), stream) == [(LINE, b"")]


def test_framing_byte_by_byte_and_lowercase_at():
    stream = b"xx at+time?\r\nAT+GET1\n"
    got = items(LineAssembler(), *[stream[i:i + 1] for i in range(len(stream))])
    assert got == [(LINE, b"+time?"), (LINE, b"+GET1")]


def test_text_without_at_is_ignored():
    assert items(LineAssembler(), b"hello\r\nworld\n\x00\xff") == []


def test_overflow_reported_once_and_only_after_eol():
    assembler = LineAssembler(max_line_bytes=16)
    assert items(assembler, b"AT+" + b"x" * 14) == []  # 17 bytes, no EOL yet
    assert items(assembler, b"y" * 100) == []
    assert items(assembler, b"\r\nAT\n") == [(OVERFLOW, b""), (LINE, b"")]


def test_longest_allowed_command_is_not_an_overflow():
    assembler = LineAssembler(max_line_bytes=16)
    assert items(assembler, b"AT+" + b"x" * 13 + b"\n") == [(LINE, b"+" + b"x" * 13)]


# -- command syntax ----------------------------------------------------------------------------------
def test_parse_word_suffix_and_parameter():
    cmd = parse_command(b"+send12 hello world", RULES)
    assert (cmd.word, cmd.suffix, cmd.param) == ("SEND", 12, b"hello world")
    cmd = parse_command(b"+CONNECT?", RULES)
    assert (cmd.word, cmd.suffix, cmd.param) == ("CONNECT?", None, None)
    cmd = parse_command(b"", RULES)
    assert cmd.word == ""


@pytest.mark.parametrize("body, code", [
    (b"+SLEEP9A", 4),  # the specification's own example
    (b"+SEND1,x", 2),
    (b"+SEND1\tx", 2),
    (b"+TIME?:", 2),
    (b"X", 2),
    (b"+", 2),
    (b"+FOO", 3),
    (b"+" + b"A" * 33, 3),
    (b"+SEND hello", 4),  # suffix required
    (b"+TIME?1", 4),  # suffix not expected
    (b"+SEND1 bad\\escape", 5),
])
def test_parse_errors(body, code):
    with pytest.raises(ModuleError) as error:
        parse_command(body, RULES)
    assert error.value.code == code


def test_decode_escapes_is_single_pass():
    assert decode_escapes(b"a\\Ab\\Dc\\\\d") == b"a\nb\rc\\d"
    # "\\A" on the wire is a backslash followed by the letter A, not a line feed
    assert decode_escapes(b"\\\\A") == b"\\A"


@pytest.mark.parametrize("bad", [b"\\n", b"\\x41", b"\\a", b"end\\"])
def test_invalid_escapes(bad):
    with pytest.raises(ModuleError) as error:
        decode_escapes(bad)
    assert error.value.code == 5


def test_encode_escapes_round_trip_all_bytes():
    data = bytes(range(256)) + b"\\A\r\n"
    encoded = encode_escapes(data)
    assert b"\n" not in encoded and b"\r" not in encoded
    assert decode_escapes(encoded) == data


# -- bytes in, bytes out through the module --------------------------------------------------------
@pytest.mark.parametrize("sent, expected", [
    (b"abcdefAT\n", b"OK\r\n"),
    (b"AT\n\r", b"OK\r\n"),
    (b"AT\r\n", b"OK\r\n"),
    (b"AT\r\r", b"OK\r\n"),
    (b"AT\r", b"OK\r\n"),
    (b"AT+SLEEP9A\n", b"ERR4 PARAMETER ERROR\r\n"),
    (b"at+connect?\n", b"OK 0 1 DISCONNECTED CUSTOMER\r\n"),
    (b"AT+NOPE\n", b"ERR3 COMMAND NOT FOUND\r\n"),
    (b"AT+CONF Topic1=\n", b"OK\r\n"),
    (b"AT+CONF? Topic1\n", b"OK \r\n"),
    (b"AT+CONF Topic1=a b=c\r\nAT+CONF? Topic1\r\n", b"OK\r\nOK a b=c\r\n"),
    (b"AT+CONF CustomName=x\\Ay\nAT+CONF? CustomName\n", b"OK\r\nOK x\\Ay\r\n"),
    (b"AT+CONF CustomName=x\\y\n", b"ERR5 INVALID ESCAPE\r\n"),
    (b"AT+GET\n", b"OK\r\n"),
    (b"AT+SEND1 hi\n", b"ERR8 PARAMETER UNDEFINED\r\n"),
    (b"AT+SEND0 hi\n", b"ERR7 OUT OF RANGE\r\n"),
    (b"AT+SEND1,hi\n", b"ERR2 PARSE ERROR\r\n"),
    (b"AT+EVENT?\n", b"OK\r\n"),
    (b"ATI\n", b"ERR2 PARSE ERROR\r\n"),
    (b"AT+\n", b"ERR2 PARSE ERROR\r\n"),
    (b"AT+CONNECT now\n", b"ERR4 PARAMETER ERROR no parameter expected\r\n"),
    (b"AT+CONNECT? \n", b"OK 0 1 DISCONNECTED CUSTOMER\r\n"),
])
def test_bytes_in_bytes_out(sent, expected):
    async def scenario(bench):
        bench.host.write(sent)
        return await bench.host.read_for(0.2)

    assert run(scenario) == expected
