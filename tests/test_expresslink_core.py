"""ExpressLink protocol core: the specification's byte sequences in and out, no I/O."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from expresslink import (
    Exchange,
    LineAssembler,
    ModuleError,
    ProtocolError,
    Response,
    StateError,
    encode,
    encode_text,
    escape,
    parse_event,
    parse_head,
    unescape,
)
from expresslink import events
from expresslink.commands import MAX_COMMAND_BYTES, command_word
from expresslink.escape import escaped_length
from expresslink.exchange import ticks_diff
from expresslink.messages import (
    Message,
    parse_conf,
    parse_connect,
    parse_connection_status,
    parse_get,
    parse_get_indexed,
    parse_shadow_result,
    parse_time,
)
from expresslink.timeouts import timeout_for

ROOT = Path(__file__).resolve().parents[1]


def exchange_result(reply_chunks, command=b"AT\n"):
    """Run one exchange over the given module bytes; the first non-None result."""
    exchange = Exchange()
    exchange.start(command, 0, 1000)
    for chunk in reply_chunks:
        exchange.receive(chunk)
        result = exchange.next_result()
        if result is not None:
            assert not exchange.busy
            return result
    raise AssertionError("no result from %r" % (reply_chunks,))


def all_lines(assembler):
    lines = []
    while True:
        line = assembler.next_line()
        if line is None:
            return lines
        lines.append(bytes(line))


# -- escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, escaped",
    [
        (b"line1\nline2", b"line1\\Aline2"),
        (b"cr\rhere", b"cr\\Dhere"),
        (b"back\\slash", b"back\\\\slash"),
        (b"\r\n", b"\\D\\A"),
        (b"plain text", b"plain text"),
        (b"", b""),
        ("caf\u00e9\n", b"caf\xc3\xa9\\A"),
    ],
)
def test_escape_examples(raw, escaped):
    assert escape(raw) == escaped
    assert escaped_length(raw) == len(escaped)
    assert unescape(escaped) == (raw.encode() if isinstance(raw, str) else raw)


def test_text_backslash_a_round_trips():
    """Regression (Python reference library): sequential replace turned text \\A into LF."""
    text = b"C:\\Apps and \\D and \\\\A"
    assert unescape(escape(text)) == text
    assert unescape(b"\\\\A") == b"\\A"


def test_backslash_before_newline_is_escaped_once():
    """Regression (Arduino reference library): LF escaped before backslashes were doubled."""
    assert escape(b"\\\n") == b"\\\\\\A"


def test_every_byte_round_trips():
    data = bytes(range(256)) * 2
    assert unescape(escape(data)) == data


@pytest.mark.parametrize("bad", [b"\\n", b"a\\xb", b"end\\", b"\\a", b"\\d", b"\\ "])
def test_invalid_escape_is_a_protocol_error(bad):
    with pytest.raises(ProtocolError):
        unescape(bad)


# -- commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line",
    [
        ("AT", b"AT\n"),
        ("CONF? ThingName", b"AT+CONF? ThingName\n"),
        ("CONF Topic1=", b"AT+CONF Topic1=\n"),
        ("CONF Topic1=badge/x/telemetry", b"AT+CONF Topic1=badge/x/telemetry\n"),
        ("SEND1 hello world", b"AT+SEND1 hello world\n"),
        ("SEND12 a\nb", b"AT+SEND12 a\\Ab\n"),
        ("GET0", b"AT+GET0\n"),
        ("GET", b"AT+GET\n"),
        ("EVENT?", b"AT+EVENT?\n"),
        ("CONNECT!", b"AT+CONNECT!\n"),
        ("FACTORY_RESET", b"AT+FACTORY_RESET\n"),
        ("SHADOW2 INIT", b"AT+SHADOW2 INIT\n"),
        ("SHADOW UPDATE {\"a\": 1}", b'AT+SHADOW UPDATE {"a": 1}\n'),
        ("CONF? Certificate pem", b"AT+CONF? Certificate pem\n"),
        ("at+x", None),
    ],
)
def test_encode_text(text, line):
    if line is None:
        with pytest.raises(ValueError):
            encode_text(text)
    else:
        assert encode_text(text) == line


def test_encode_parts():
    assert encode("CONF?", None, "ThingName") == b"AT+CONF? ThingName\n"
    assert encode("SEND", 3, b"\x00\xff\\") == b"AT+SEND3 \x00\xff\\\\\n"
    assert encode("DISCONNECT") == b"AT+DISCONNECT\n"
    assert encode("CONF", None, "") == b"AT+CONF \n"  # separator kept for an empty parameter


@pytest.mark.parametrize(
    "args",
    [
        ("",),
        ("SEND1",),
        ("CONF X",),
        ("A" * 33,),
        ("SEND", -1),  # the Arduino library's uint8_t -1 default sent GET255
        ("SEND", True),
        ("SEND", "1"),
        ("SEND", 65536),
    ],
)
def test_encode_rejects_caller_mistakes(args):
    with pytest.raises(ValueError):
        encode(*args)


def test_command_limit_counts_escaped_bytes():
    overhead = len(b"AT+SEND1 \n")
    fits = b"x" * (MAX_COMMAND_BYTES - overhead)
    assert len(encode("SEND", 1, fits)) == MAX_COMMAND_BYTES
    with pytest.raises(ValueError):
        encode("SEND", 1, fits + b"x")
    # Fits raw, but each LF doubles when escaped.
    with pytest.raises(ValueError):
        encode("SEND", 1, b"\n" * (MAX_COMMAND_BYTES // 2))


def test_command_word():
    assert command_word(b"AT+send1 x\n") == "SEND"
    assert command_word(b"AT+CONF? ThingName\n") == "CONF?"
    assert command_word(b"AT\n") == "AT"


def test_connect_timeout_covers_the_spec_maximum():
    """Regression: the reference libraries gave up after ~30 s; CONNECT may take 120 s."""
    assert timeout_for("CONNECT") > 120_000
    assert timeout_for("CONF?") < timeout_for("SEND") < timeout_for("CONNECT")


# -- line assembly ----------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r"])
def test_each_eol_style_gives_one_line(eol):
    assembler = LineAssembler()
    assembler.receive(b"OK" + eol + b"OK 1 CONNECTED" + eol)
    assert all_lines(assembler) == [b"OK", b"OK 1 CONNECTED"]


def test_cr_lf_split_across_chunks_is_one_eol():
    assembler = LineAssembler()
    assembler.receive(b"OK\r")
    assert all_lines(assembler) == [b"OK"]
    assembler.receive(b"\nOK 0 DISCONNECTED\r\n")
    assert all_lines(assembler) == [b"OK 0 DISCONNECTED"]


def test_empty_line_is_kept():
    """``OK1 topic`` followed by an empty message line: the empty line is a line."""
    assembler = LineAssembler()
    assembler.receive(b"OK1 badge/t\r\n\r\n")
    assert all_lines(assembler) == [b"OK1 badge/t", b""]


def test_line_split_byte_by_byte():
    assembler = LineAssembler()
    lines = []
    for byte in b"OK 1 CONNECTED\r\nOK\r\n":
        assembler.receive(bytes([byte]))
        lines += all_lines(assembler)
    assert lines == [b"OK 1 CONNECTED", b"OK"]
    assert assembler.pending() == 0


def test_glitch_bytes_dropped_at_line_start_only():
    assembler = LineAssembler()
    assembler.receive(b"\x00\xff\xfe\xfd\xfc\xfb\xfa")
    assert all_lines(assembler) == []
    assembler.receive(b"OK\r\nOK a\x00\xffb\r\n")
    assert all_lines(assembler) == [b"OK", b"OK a\x00\xffb"]
    assembler.drop_glitches = False
    assembler.receive(b"\x00payload\r\n")
    assert all_lines(assembler) == [b"\x00payload"]


def test_overlong_line_raises_once_then_recovers():
    assembler = LineAssembler(capacity=16)
    assembler.receive(b"0123456789abcdefXYZ")
    with pytest.raises(ProtocolError):
        assembler.next_line()
    assembler.receive(b"more junk\r\nOK\r\n")
    assert all_lines(assembler) == [b"OK"]


def test_line_at_capacity_is_accepted():
    assembler = LineAssembler(capacity=16)
    assembler.receive(b"OK 3456789abcdef\r\n")
    assert all_lines(assembler) == [b"OK 3456789abcdef"]


def test_many_lines_in_one_chunk():
    assembler = LineAssembler()
    chunk = b"".join(b"OK %d\r\n" % n for n in range(1000))
    assembler.receive(chunk)
    assert all_lines(assembler) == [b"OK %d" % n for n in range(1000)]


def test_clear_drops_everything():
    assembler = LineAssembler()
    assembler.receive(b"OK 1 CONN")
    assert assembler.next_line() is None
    assert assembler.pending() == 9
    assembler.clear()
    assembler.receive(b"OK\r\n")
    assert all_lines(assembler) == [b"OK"]


# -- response lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, count, detail",
    [
        (b"OK", 0, None),
        (b"OK ", 0, b""),
        (b"OK badge-01", 0, b"badge-01"),
        (b"OK  hello", 0, b" hello"),
        (b"OK 1 CONNECTED", 0, b"1 CONNECTED"),
        (b"OK1 topic", 1, b"topic"),
        (b"OK9 pem", 9, b"pem"),
        (b"OK12 x", 12, b"x"),
        (b"OK1", 1, None),
        (b"OK a\\Ab\\\\c", 0, b"a\nb\\c"),
    ],
)
def test_ok_lines(line, count, detail):
    assert parse_head(line) == (count, detail)


@pytest.mark.parametrize(
    "line, code, text",
    [
        (b"ERR4  PARAMETER ERROR", 4, "PARAMETER ERROR"),
        (b"ERR1 OVERFLOW", 1, "OVERFLOW"),
        (b"ERR3 COMMAND NOT FOUND", 3, "COMMAND NOT FOUND"),
        (b"ERR14 2 UNABLE TO CONNECT", 14, "2 UNABLE TO CONNECT"),
        (
            b"ERR14 5 UNABLE TO CONNECT MQTT device authentication failure",
            14,
            "5 UNABLE TO CONNECT MQTT device authentication failure",
        ),
        (b"ERR25", 25, ""),
    ],
)
def test_err_lines(line, code, text):
    with pytest.raises(ModuleError) as caught:
        parse_head(line)
    assert caught.value.code == code
    assert caught.value.text == text


@pytest.mark.parametrize(
    "line, hint, hint_code",
    [
        (b"ERR14 5 UNABLE TO CONNECT MQTT device authentication failure", "5", 5),
        (b"ERR14 5.1 UNABLE TO CONNECT", "5.1", 5),
        (b"ERR14 1 UNABLE TO CONNECT", "1", 1),
        (b"ERR14 UNABLE TO CONNECT", None, None),
        (b"ERR4 PARAMETER ERROR", None, None),
    ],
)
def test_connect_hint(line, hint, hint_code):
    """Regression (reference libraries): ``int(response[3:])`` crashed on ``ERR14 2 ...``."""
    with pytest.raises(ModuleError) as caught:
        parse_head(line)
    assert caught.value.hint == hint
    assert caught.value.hint_code == hint_code


@pytest.mark.parametrize(
    "line", [b"", b"ok", b"OKAY", b"OK1x", b"OK\tx", b"ERR", b"ERRx", b"ERR4x", b" OK", b"hello"]
)
def test_garbled_lines(line):
    with pytest.raises(ProtocolError):
        parse_head(line)


def test_ok_announcing_too_many_lines():
    with pytest.raises(ProtocolError):
        parse_head(b"OK256 x")


# -- exchange ---------------------------------------------------------------------------


def test_ok_vs_ok_space_empty():
    """Regression (Python reference library): ``.strip()`` merged ``OK`` and ``OK `` + ""."""
    assert exchange_result([b"OK\r\n"]) == Response(None, ())
    assert exchange_result([b"OK \r\n"]) == Response(b"", ())


def test_stray_eols_before_the_reply_are_skipped():
    assert exchange_result([b"\r\n\n\r", b"OK\r\n"]) == Response(None, ())


def test_glitch_before_reply():
    assert exchange_result([b"\x00\xff\xff\x00", b"OK 1 CONNECTED\r\n"]).detail == b"1 CONNECTED"


def test_get_two_line_form():
    result = exchange_result([b"OK1 badge/x/qr\r\nhello\\Aworld\r\n"], b"AT+GET\n")
    assert result == Response(b"badge/x/qr", (b"hello\nworld",))
    assert parse_get(result) == Message("badge/x/qr", b"hello\nworld")


def test_get_empty_payload_stays_distinguishable():
    result = exchange_result([b"OK1 badge/x/qr\r\n", b"\r\n"], b"AT+GET\n")
    assert parse_get(result) == Message("badge/x/qr", b"")
    assert parse_get(exchange_result([b"OK\r\n"], b"AT+GET\n")) is None


def test_extra_line_keeps_leading_bytes():
    """Payload lines are kept as sent, even 0x00 (the glitch filter is for line starts only)."""
    result = exchange_result([b"OK1 t\r\n\x00\xffdata\r\n"], b"AT+GET\n")
    assert result.lines == (b"\x00\xffdata",)


def test_ok9_pem_reads_exactly_nine_lines():
    pem = [
        b"-----BEGIN CERTIFICATE-----",
        b"MIIDWTCCAkGgAwIBAgIUQ0fsVqY8mK1tT4e8X3yJ9Gx3V9AwDQYJKoZIhvcNAQEL",
        b"BQAwTTFLMEkGA1UECwxCQW1hem9uIFdlYiBTZXJ2aWNlcyBPPUFtYXpvbi5jb20g",
        b"SW5jLiBMPVNlYXR0bGUgU1Q9V2FzaGluZ3RvbiBDPVVTMB4XDTIyMTAzMDA5Mzgz",
        b"NFoXDTQ5MTIzMTIzNTk1OVowHjEcMBoGA1UEAwwTQVdTIElvVCBDZXJ0aWZpY2F0",
        b"ZTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAK5fq7lG8P2mU8m3KcG1",
        b"3a9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        b"Zm9vYmFy",
        b"-----END CERTIFICATE-----",
    ]
    stream = b"OK9 pem\r\n" + b"".join(line + b"\r\n" for line in pem) + b"OK\r\n"
    exchange = Exchange()
    exchange.start(b"AT+CONF? Certificate pem\n", 0, 1000)
    exchange.receive(stream)
    result = exchange.next_result()
    assert result.detail == b"pem"
    assert result.lines == tuple(pem)
    assert parse_conf(result) == "\n".join(line.decode() for line in pem)


def test_err_ends_the_exchange():
    exchange = Exchange()
    exchange.start(b"AT+CONF VERSION=1\n", 0, 1000)
    exchange.receive(b"ERR11 UNKNOWN KEY\r\n")
    with pytest.raises(ModuleError) as caught:
        exchange.next_result()
    assert caught.value.code == 11
    assert not exchange.busy


def test_garbage_line_is_a_protocol_error_and_ends_the_exchange():
    exchange = Exchange()
    exchange.start(b"AT\n", 0, 1000)
    exchange.receive(b"#$%garbage\r\nOK\r\n")
    with pytest.raises(ProtocolError):
        exchange.next_result()
    assert not exchange.busy


def test_invalid_escape_in_response_is_a_protocol_error():
    exchange = Exchange()
    exchange.start(b"AT+GET1\n", 0, 1000)
    exchange.receive(b"OK bad\\xescape\r\n")
    with pytest.raises(ProtocolError):
        exchange.next_result()


def test_bytes_before_start_are_dropped():
    exchange = Exchange()
    exchange.receive(b"OK 1 CONNECTED\r\n")  # a late reply sitting in the buffer
    exchange.start(b"AT+CONF? ThingName\n", 0, 1000)
    assert exchange.next_result() is None
    exchange.receive(b"OK badge\r\n")
    assert exchange.next_result().detail == b"badge"


def test_call_order_errors():
    exchange = Exchange()
    with pytest.raises(StateError):
        exchange.next_result()
    exchange.start(b"AT\n", 0, 1000)
    with pytest.raises(StateError):
        exchange.start(b"AT\n", 0, 1000)
    with pytest.raises(ValueError):
        Exchange().start(b"AT\n", 0, 0)


def test_deadline_and_tick_wrap():
    exchange = Exchange()
    assert exchange.deadline_ms() is None
    assert not exchange.expired(10**6)
    exchange.start(b"AT\n", 1000, 50)
    assert exchange.deadline_ms() == 1050
    assert not exchange.expired(1049)
    assert exchange.expired(1050)
    exchange.abort()
    start = (1 << 29) - 10
    exchange.start(b"AT\n", start, 50)
    assert exchange.deadline_ms() == 40
    assert not exchange.expired(start + 5)
    assert not exchange.expired(39)
    assert exchange.expired(40)
    assert ticks_diff(5, (1 << 29) - 5) == 10


def test_overlong_reply_line():
    exchange = Exchange(capacity=64)
    exchange.start(b"AT+GET1\n", 0, 1000)
    exchange.receive(b"OK " + b"x" * 100)
    with pytest.raises(ProtocolError):
        exchange.next_result()
    assert not exchange.busy


# -- events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, event_id, param, param_text, mnemonic, detail",
    [
        (b"OK 2 0 STARTUP", 2, 0, "0", "STARTUP", ""),
        (b"OK 1 1 MSG", 1, 1, "1", "MSG", ""),
        (b"OK 3 0 CONLOST", 3, 0, "0", "CONLOST", ""),
        (b"OK 26 2", 26, 2, "2", "", ""),  # mnemonic omitted (spec example)
        (b"OK  26 0", 26, 0, "0", "", ""),  # double space (spec example)
        (b"OK 6 5.1 CONNECT", 6, 5, "5.1", "CONNECT", ""),  # dotted hint
        (b"OK 6 0 CONNECT", 6, 0, "0", "CONNECT", ""),
        (b"OK 21 1 SHADOW INIT FAILED", 21, 1, "1", "SHADOW INIT FAILED", ""),
        (b"OK 20 0 SHADOW INIT", 20, 0, "0", "SHADOW INIT", ""),
        (b"OK 24 1 SHADOW DELTA", 24, 1, "1", "SHADOW DELTA", ""),
        (b"OK 4 0 OVERRUN badge/x/qr", 4, 0, "0", "OVERRUN", "badge/x/qr"),
        (b"OK 9 3 SUBNACK  not  allowed ", 9, 3, "3", "SUBNACK", "not  allowed"),
        (b"OK 1000 7 VENDOR THING happened here", 1000, 7, "7", "VENDOR THING", "happened here"),
        (b"OK 2", 2, 0, "", "", ""),
    ],
)
def test_event_answers(reply, event_id, param, param_text, mnemonic, detail):
    event = parse_event(exchange_result([reply + b"\r\n"], b"AT+EVENT?\n"))
    assert (event.id, event.param, event.param_text, event.mnemonic, event.detail) == (
        event_id,
        param,
        param_text,
        mnemonic,
        detail,
    )


def test_event_names_from_the_table_when_mnemonic_missing():
    event = parse_event(Response(b"26 2"))
    assert event.id == events.SHADOW_SUBACK
    assert event.name == "SHADOW SUBACK"
    assert parse_event(Response(b"1234 0")).name == "EVENT1234"


@pytest.mark.parametrize("detail", [None, b"", b"  "])
def test_empty_event_queue(detail):
    assert parse_event(Response(detail)) is None


@pytest.mark.parametrize("detail", [b"x 0 MSG", b"1 x MSG", b"1 5. MSG", b"-1 0"])
def test_bad_event_answers(detail):
    with pytest.raises(ProtocolError):
        parse_event(Response(detail))


def test_event_ids_match_the_spec_table():
    assert (events.MSG, events.STARTUP, events.CONLOST, events.OVERRUN) == (1, 2, 3, 4)
    assert (events.CONNECT, events.SUBACK, events.SUBNACK) == (6, 8, 9)
    assert (events.SHADOW_INIT, events.SHADOW_SUBNACK) == (20, 27)


# -- messages, connection, time, configuration, shadow ----------------------------------


def test_get_indexed():
    assert parse_get_indexed(Response(None), 1) is None
    assert parse_get_indexed(Response(b""), 1) == Message(None, b"", 1)
    assert parse_get_indexed(Response(b" hello"), 2) == Message(None, b" hello", 2)
    with pytest.raises(ProtocolError):
        parse_get_indexed(Response(b"t", (b"x",)), 1)


def test_get0_two_line_form_carries_index_0():
    assert parse_get(Response(b"other/topic", (b"{}",)), 0) == Message("other/topic", b"{}", 0)
    with pytest.raises(ProtocolError):
        parse_get(Response(b"topic-without-message"))


@pytest.mark.parametrize(
    "detail, connected, onboarded, state, endpoint",
    [
        (b"1 1 CONNECTED CUSTOMER", True, True, "CONNECTED", "CUSTOMER"),
        (b"0 0 DISCONNECTED STAGING", False, False, "DISCONNECTED", "STAGING"),
        (b"1", True, None, "", ""),  # v0.5 form
    ],
)
def test_connection_status(detail, connected, onboarded, state, endpoint):
    status = parse_connection_status(Response(detail))
    assert (status.connected, status.onboarded, status.state, status.endpoint) == (
        connected,
        onboarded,
        state,
        endpoint,
    )


def test_connect_and_disconnect_answers():
    assert parse_connect(Response(b"1 CONNECTED")) is True
    assert parse_connect(Response(b"0 DISCONNECTED")) is False
    for bad in (None, b"CONNECTED", b"2 MAYBE"):
        with pytest.raises(ProtocolError):
            parse_connect(Response(bad))


@pytest.mark.parametrize(
    "detail, fields, source",
    [
        (b"date 2022/10/30 time 09:38:34.04 SNTP", (2022, 10, 30, 9, 38, 34, 40), "SNTP"),
        (b"2022/10/30 09:38:34.04 SNTP", (2022, 10, 30, 9, 38, 34, 40), "SNTP"),
        (b"2024/02/29 23:59:59 GNSS", (2024, 2, 29, 23, 59, 59, 0), "GNSS"),
        (b"2024/02/29 00:00:00.5", (2024, 2, 29, 0, 0, 0, 500), ""),
    ],
)
def test_time(detail, fields, source):
    module_time = parse_time(Response(detail))
    assert module_time.as_tuple() == fields
    assert module_time.source == source


@pytest.mark.parametrize(
    "detail", [None, b"2022-10-30 09:38:34", b"2022/13/30 09:38:34", b"2022/10/30 9h38", b"date"]
)
def test_bad_time(detail):
    with pytest.raises(ProtocolError):
        parse_time(Response(detail))


def test_conf_values():
    assert parse_conf(Response(b"badge-01")) == "badge-01"
    assert parse_conf(Response(b"value with spaces = and more")) == "value with spaces = and more"
    assert parse_conf(Response(None)) == ""
    assert parse_conf(Response(b"")) == ""


def test_shadow_results():
    assert parse_shadow_result(Response(None)) is None
    accepted = parse_shadow_result(Response(b'1 {"state":{"reported":{"t":21.5}}}'))
    assert accepted.accepted is True
    assert accepted.document == b'{"state":{"reported":{"t":21.5}}}'
    rejected = parse_shadow_result(Response(b"0 version conflict"))
    assert (rejected.accepted, rejected.document) == (False, b"version conflict")
    with pytest.raises(ProtocolError):
        parse_shadow_result(Response(b"2 {}"))


# -- the MicroPython scenario, on CPython -----------------------------------------------


def test_micropython_scenario_runs_on_cpython():
    script = ROOT / "tests" / "mpy" / "expresslink_core_scenario.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "PASS"
