"""The page server's pieces on their own: frames, UART lines, command checks, a slow
page's queue, recordings that are not recordings."""

import asyncio
import json

import pytest

from sim.chips.ssd1306 import SSD1306
from sim.core.clock import VirtualClock
from sim.web import clients
from sim.web.commands import BadCommand, check, parse, qr_fit
from sim.web.frames import FLAG_INVERTED, FLAG_ON, Frame, pack_pixels, unpack_bits
from sim.web.record import RecordingError, load_recording
from sim.web.uart_lines import LineAssembler
from web_harness import run


def chip_with_a_pattern():
    chip = SSD1306(VirtualClock())
    # charge pump on, display on, inverse, then a page of data in page addressing mode
    chip.write(bytes([0x00, 0x8D, 0x14, 0xAF, 0xA7]))
    chip.write(bytes([0x40]) + bytes(range(128)))
    return chip


def test_a_frame_is_the_panel_packed_msb_first():
    chip = chip_with_a_pattern()
    frame = Frame.of(chip, 1.5)
    assert frame.flags == FLAG_ON | FLAG_INVERTED and frame.contrast == 0x7F
    assert frame.pixels() == chip.panel_pixels()
    again = Frame.from_bytes(frame.to_bytes())
    assert (again.t, again.bits, again.flags) == (1.5, frame.bits, frame.flags)
    assert Frame.from_record(json.loads(json.dumps(frame.to_record()))).bits == frame.bits
    row = bytes([1, 0, 0, 0, 0, 0, 0, 1] * 16)
    assert pack_pixels(row * 64)[:16] == b"\x81" * 16
    assert unpack_bits(pack_pixels(row * 64)) == row * 64


def test_a_dark_panel_keeps_the_pixels_its_ram_would_show():
    chip = chip_with_a_pattern()
    lit = Frame.of(chip, 0.0)
    chip.write(bytes([0x00, 0xAE]))  # display off
    dark = Frame.of(chip, 1.0)
    assert not dark.flags & FLAG_ON and dark.bits == lit.bits
    assert not any(chip.panel_pixels())  # the glass itself is dark
    assert not dark.same_picture(lit)


def test_uart_lines_show_noise_and_cut_long_lines():
    lines = LineAssembler(max_chars=12)
    assert lines.feed(b"AT+CONF") == []
    assert lines.feed(b"?\r\nOK\r\n\x00\xffOK") == ["AT+CONF?", "OK"]
    assert lines.feed(b"\r\n" + b"x" * 20 + b"\n") == ["\\x00\\xffOK", "x" * 12 + "\u2026"]


@pytest.mark.parametrize("raw, op, args", [
    ('{"op": "press", "button": "C"}', "press", {"button": "C", "hold_s": 0.1}),
    ('{"op": "climate", "humidity_rh": 0}', "climate", {"humidity_rh": 0.0}),
    ('{"op": "time", "rate": 10.0}', "time", {"rate": 10}),
    ('{"op": "send", "kind": "name", "text": "  Ada  "}', "send",
     {"kind": "name", "payload": "Ada"}),
    ('{"op": "console", "text": "\\u0004"}', "console", {"text": "\x04"}),
])
def test_good_commands(raw, op, args):
    assert check(parse(raw), time_control=True) == (op, args)


@pytest.mark.parametrize("raw", [
    '[1, 2]', '{"op": 3}', '{"op": "climate", "temperature_c": true}',
    '{"op": "climate", "temperature_c": NaN}', '{"op": "time", "rate": true}',
    '{"op": "send", "kind": "name", "text": "\\u200b"}', '{"op": "qr_check"}',
])
def test_bad_commands(raw):
    with pytest.raises(BadCommand):
        check(parse(raw), time_control=True)


def test_time_control_is_refused_where_there_is_none():
    with pytest.raises(BadCommand, match="CPython engine"):
        check(parse('{"op": "time", "rate": 1}'), time_control=False)


def test_qr_fit_says_why_not():
    assert qr_fit("")["reason"] == "QR text is empty"
    assert qr_fit("hello")["fits"] is True


class StuckSocket:
    """A page that never reads: every send waits forever."""

    def __init__(self):
        self.sent = 0

    async def send_bytes(self, data):
        self.sent += 1
        await asyncio.get_running_loop().create_future()

    send_str = send_bytes


def test_a_slow_page_loses_frames_first_and_keeps_the_newest():
    async def scenario():
        page = clients.Page(StuckSocket())
        for index in range(clients.FRAME_SKIP_AFTER * 2):
            page.send(b"frame %d" % index, frame=True)
            page.send("text %d" % index)
        frames = [data for is_frame, data in page.queue if is_frame]
        texts = [data for is_frame, data in page.queue if not is_frame]
        page.task.cancel()
        return frames, texts, page.dropped

    frames, texts, dropped = run(scenario())
    assert frames[-1] == b"frame %d" % (clients.FRAME_SKIP_AFTER * 2 - 1)
    assert len(texts) >= clients.FRAME_SKIP_AFTER * 2 - 1 and dropped > 0


def test_not_a_recording(tmp_path):
    path = tmp_path / "r.jsonl"
    for text, words in (("", "empty"), ('{"type": "clock", "t": 1}\n', "starts with"),
                        ('{"type": "hello"}\n[]\n', "line 2: not a message"),
                        ('{"type": "hello"}\n{"type": "frame", "t": 0, "flags": 1, '
                         '"contrast": 1, "bits": "AAAA"}\n', "line 2: bad frame record")):
        path.write_text(text)
        with pytest.raises(RecordingError, match=words):
            load_recording(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(RecordingError, match="cannot read"):
        load_recording(path)
