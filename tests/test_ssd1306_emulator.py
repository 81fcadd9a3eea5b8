"""The SSD1306 emulator against the datasheet's byte sequences (Solomon Systech SSD1306)."""

import errno
import logging

import pytest
from PIL import Image

from sim.chips.ssd1306 import SSD1306
from sequences import DRIVER_INIT

W, H = 128, 64


@pytest.fixture
def oled(bus, clock):
    return bus.attach(SSD1306(clock))


def commands(bus, *values):
    """One transaction: control 0x00, then a command stream."""
    bus.writeto(0x3C, bytes((0x00,) + values))


def data(bus, payload):
    """One transaction: control 0x40, then GDDRAM bytes."""
    bus.writeto(0x3C, b"\x40" + bytes(payload))


def ram(oled, seg, page):
    return oled.ram[page * W + seg]


def lit(oled):
    """Set of (x, y) panel pixels that are lit."""
    pixels = oled.panel_pixels()
    return {(i % W, i // W) for i, v in enumerate(pixels) if v}


def power_on(bus):
    commands(bus, 0x8D, 0x14, 0xAF)


def test_reset_state(bus, oled):
    assert oled.addressing_mode == 2  # page mode
    assert not oled.display_on
    assert oled.contrast == 0x7F
    assert (oled.multiplex_ratio, oled.display_offset, oled.start_line) == (64, 0, 0)
    assert (oled.com_pins, oled.clock_divide, oled.precharge, oled.vcomh) == (
        0x12,
        0x80,
        0x22,
        0x20,
    )
    assert not oled.charge_pump
    # about 107 Hz at reset: 370 kHz / (1 * 54 * 64)
    assert oled.frame_rate_hz == pytest.approx(107, abs=1)


def test_addresses_and_presence(bus, clock, oled):
    assert bus.scan() == [0x3C]
    bus.attach(SSD1306(clock, address=0x3D))
    assert bus.scan() == [0x3C, 0x3D]
    with pytest.raises(ValueError):
        SSD1306(clock, address=0x3E)


# -- addressing modes (D1 §10.1.3-10.1.5, the example window 2..125 x pages 1..6) -------


def test_horizontal_mode_window_wraps_to_its_start(bus, oled):
    commands(bus, 0x20, 0x00, 0x21, 0x02, 0x7D, 0x22, 0x01, 0x06)
    count = 124 * 6
    payload = [(k % 251) + 1 for k in range(count)]
    data(bus, payload)
    for k, value in enumerate(payload):
        assert ram(oled, 2 + k % 124, 1 + k // 124) == value
    assert (oled.column, oled.page) == (2, 1)  # wrapped from (125, 6)
    data(bus, [0xEE])
    assert ram(oled, 2, 1) == 0xEE
    # nothing outside the window was touched
    assert ram(oled, 1, 1) == 0 and ram(oled, 126, 6) == 0
    assert ram(oled, 2, 0) == 0 and ram(oled, 2, 7) == 0


def test_vertical_mode_window_wraps_to_its_start(bus, oled):
    commands(bus, 0x20, 0x01, 0x21, 0x02, 0x7D, 0x22, 0x01, 0x06)
    payload = [(k % 251) + 1 for k in range(124 * 6)]
    data(bus, payload)
    for k, value in enumerate(payload):
        assert ram(oled, 2 + k // 6, 1 + k % 6) == value
    assert (oled.column, oled.page) == (2, 1)


def test_page_mode_with_page_and_column_start_commands(bus, oled):
    # reset mode is page addressing: B3 selects page 3, 05 / 12 set column 0x25
    commands(bus, 0xB3, 0x05, 0x12)
    assert (oled.page, oled.column) == (3, 0x25)
    data(bus, [1, 2, 3])
    assert [ram(oled, c, 3) for c in (0x25, 0x26, 0x27)] == [1, 2, 3]
    data(bus, [9] * (128 - 0x28))  # up to column 127
    assert oled.column == 0x25 and oled.page == 3  # wrapped to the start column
    data(bus, [0x77])
    assert ram(oled, 0x25, 3) == 0x77
    assert ram(oled, 0, 4) == 0  # the page never changes


def test_window_commands_set_the_pointer(bus, oled):
    commands(bus, 0x20, 0x00, 0x21, 0x10, 0x20, 0x22, 0x05, 0x07)
    assert (oled.column, oled.page) == (0x10, 5)
    assert oled.column_window == (0x10, 0x20) and oled.page_window == (5, 7)


def test_invalid_addressing_mode_is_ignored(bus, oled):
    commands(bus, 0x20, 0x00, 0x20, 0x03)
    assert oled.addressing_mode == 0


# -- control bytes and argument state (D1 §8.1.5) ---------------------------------------


def test_single_commands_single_data_and_a_final_data_run(bus, oled):
    # 80 B2: page 2; 80 14: column high nibble 4; C0 AA: one data byte at (0x40, 2);
    # 80 01: column low nibble 1; 40 BB CC: data run from column 0x41
    bus.writeto(0x3C, b"\x80\xb2\x80\x14\xc0\xaa\x80\x01\x40\xbb\xcc")
    assert ram(oled, 0x40, 2) == 0xAA
    assert ram(oled, 0x41, 2) == 0xBB and ram(oled, 0x42, 2) == 0xCC


def test_command_stream_carries_arguments(bus, oled):
    commands(bus, 0x81, 0x33, 0xA7, 0xD3, 0x05)
    assert (oled.contrast, oled.inverted, oled.display_offset) == (0x33, True, 5)


def test_data_byte_values_are_never_commands(bus, oled):
    bus.writeto(0x3C, b"\x40\xaf\xa7")
    assert not oled.display_on and not oled.inverted
    assert ram(oled, 0, 0) == 0xAF


def test_argument_is_kept_across_stop(bus, oled):
    bus.writeto(0x3C, b"\x80\x81")
    bus.writeto(0x3C, b"\x80\x20")  # the contrast value, not "addressing mode"
    assert oled.contrast == 0x20
    assert oled.addressing_mode == 2
    bus.writeto(0x3C, b"\x80\x21")
    bus.writeto(0x3C, b"\x80\x05")
    bus.writeto(0x3C, b"\x80\x09")
    assert oled.column_window == (5, 9)


def test_unknown_opcodes_are_logged_no_ops(bus, oled, caplog):
    with caplog.at_level(logging.WARNING, logger="sim.chips.ssd1306"):
        commands(bus, 0xAD, 0x30, 0xA7)  # SSD1315 IREF select: AD and 30 unknown here
    assert oled.unknown_commands == 2
    assert oled.inverted
    assert any(r.name == "sim.chips.ssd1306" for r in caplog.records)
    commands(bus, 0xDB, 0x40)  # an unlisted VCOMH code: an argument, not a start line
    assert oled.vcomh == 0x40 and oled.start_line == 0
    commands(bus, 0xE3)  # NOP
    assert oled.unknown_commands == 2


# -- from RAM to panel (datasheet Tables 10-1..10-3) ---------------------------------------


def test_segment_remap_affects_only_later_writes(bus, oled):
    power_on(bus)
    commands(bus, 0xB0, 0x00, 0x10)
    data(bus, [0x01])  # A0: column 0 -> SEG0
    commands(bus, 0xA1, 0xB0, 0x00, 0x10)
    data(bus, [0x02])  # A1: column 0 -> SEG127
    assert ram(oled, 0, 0) == 0x01 and ram(oled, 127, 0) == 0x02
    # SEG0 is x = 127 and SEG127 is x = 0; COM0 (RAM row 0) is y = 63, row 1 is y = 62
    assert lit(oled) == {(127, 63), (0, 62)}


def test_com_scan_direction_takes_effect_immediately(bus, oled):
    power_on(bus)
    data(bus, [0x01])  # RAM row 0, SEG0
    assert lit(oled) == {(127, 63)}
    commands(bus, 0xC8)
    assert lit(oled) == {(127, 0)}
    commands(bus, 0xC0)
    assert lit(oled) == {(127, 63)}


def common_setup(bus):
    """A1, C8, DA 12, D3 00, start line 0, A8 3F: column col, page p, bit b -> (col, 8p+b)."""
    commands(bus, 0xA1, 0xC8, 0xDA, 0x12, 0xD3, 0x00, 0x40, 0xA8, 0x3F, 0x8D, 0x14, 0xAF)


def test_common_setup_is_upright(bus, oled):
    common_setup(bus)
    commands(bus, 0xB2, 0x05, 0x10)  # page 2, column 5
    data(bus, [0b1000_0001])
    assert lit(oled) == {(5, 16), (5, 23)}


def test_start_line_moves_rows_up(bus, oled):
    common_setup(bus)
    commands(bus, 0xB1, 0x00, 0x10)
    data(bus, [0x01])  # RAM row 8
    assert lit(oled) == {(0, 8)}
    commands(bus, 0x48)  # start line 8: RAM row 8 is shown first
    assert lit(oled) == {(0, 0)}
    commands(bus, 0x40 + 10)  # row 8 wraps to the bottom: (8 - 10) mod 64
    assert lit(oled) == {(0, 62)}


def test_display_offset_shifts_by_com(bus, oled):
    power_on(bus)  # C0, A0
    commands(bus, 0xB0, 0x00, 0x10)
    data(bus, [0x10])  # RAM row 4
    assert lit(oled) == {(127, 59)}  # COM4 -> y = 63 - 4
    commands(bus, 0xD3, 0x04)  # C0: COM c shows row (c + 4): row 4 on COM0
    assert lit(oled) == {(127, 63)}
    commands(bus, 0xC8)  # C8: COM c = (N - 1 - r + D) mod 64 = (63 - 4 + 4) = 63
    assert lit(oled) == {(127, 0)}


def test_multiplex_ratio_darkens_unscanned_coms(bus, oled):
    power_on(bus)
    commands(bus, 0xA5)
    assert len(lit(oled)) == W * H
    commands(bus, 0xA8, 0x1F)  # 32 MUX: COM0..31 only
    assert oled.multiplex_ratio == 32
    assert {y for _, y in lit(oled)} == set(range(32, 64))
    commands(bus, 0xA8, 0x0E)  # 15 MUX is invalid: ignored
    assert oled.multiplex_ratio == 32


@pytest.mark.parametrize(
    "com_pins, y_row1, y_row33",
    [
        (0x12, 62, 30),  # alternative, no remap: row = COM
        (0x32, 63, 31),  # alternative, remap: adjacent rows swapped
        (0x02, 61, 60),  # sequential: COM1 -> row 2, COM33 -> row 3
        (0x22, 60, 61),  # sequential, remap: COM1 -> row 3, COM33 -> row 2
    ],
)
def test_com_pins_configuration(bus, oled, com_pins, y_row1, y_row33):
    power_on(bus)  # C0, no offset: COM c shows RAM row c
    commands(bus, 0xDA, com_pins, 0xB0, 0x00, 0x10)
    data(bus, [0x02])  # RAM row 1 at SEG0
    commands(bus, 0xB4, 0x00, 0x10)
    data(bus, [0x00, 0x02])  # RAM row 33 at SEG1
    assert lit(oled) == {(127, y_row1), (126, y_row33)}


def test_inverse_and_entire_display_on(bus, oled):
    power_on(bus)
    data(bus, [0x01])
    normal = lit(oled)
    assert normal == {(127, 63)}
    commands(bus, 0xA7)
    inverse = lit(oled)
    assert len(inverse) == W * H - 1 and (127, 63) not in inverse
    commands(bus, 0xA5)  # A5 wins over A7
    assert len(lit(oled)) == W * H
    commands(bus, 0xA4)
    assert lit(oled) == inverse
    commands(bus, 0xA6)
    assert lit(oled) == normal


def test_display_off_and_charge_pump(bus, oled):
    data(bus, [0xFF] * 128)
    assert lit(oled) == set()  # reset: display off
    commands(bus, 0xAF)
    assert lit(oled) == set()  # on, but no VCC: pump off (8D 10 at reset)
    commands(bus, 0x8D, 0x14)
    assert len(lit(oled)) == W * 8
    commands(bus, 0xAE)
    assert lit(oled) == set()
    assert len(oled.ram) == 1024 and oled.ram[0] == 0xFF  # RAM survives AE
    commands(bus, 0xAF, 0x8D, 0x10)
    assert lit(oled) == set()
    oled.external_vcc = True
    assert len(lit(oled)) == W * 8


def test_status_byte_read(bus, oled):
    status = bytearray(2)
    bus.readfrom_into(0x3C, status)
    assert status[0] & 0x40 and status[1] == status[0]  # display off
    commands(bus, 0xAF)
    bus.readfrom_into(0x3C, status)
    assert not status[0] & 0x40
    assert status[0] & 0x0F == oled.status_id


def test_scroll_commands_are_stored(bus, oled):
    power_on(bus)
    data(bus, [0x01])
    before = lit(oled)
    commands(bus, 0x26, 0x00, 0x00, 0x07, 0x03, 0x00, 0xFF)  # right, pages 0..3, 2 frames
    assert oled.scroll_setup == (0x26, (0x00, 0x00, 0x07, 0x03, 0x00, 0xFF))
    commands(bus, 0x2F)
    assert oled.scrolling
    assert lit(oled) == before  # modelled as a static image
    commands(bus, 0x2E, 0xA3, 0x08, 0x38)
    assert not oled.scrolling and oled.vertical_scroll_area == (8, 56)


def test_reset_restores_registers_and_keeps_ram(bus, oled):
    commands(bus, 0xAF, 0xA7, 0x20, 0x00, 0x48, 0xA1)
    data(bus, [0x5A])
    bus.writeto(0x3C, b"\x80\x81")  # leave an argument pending
    oled.reset()
    assert (oled.display_on, oled.inverted, oled.addressing_mode) == (False, False, 2)
    assert (oled.start_line, oled.segment_remap, oled.contrast) == (0, False, 0x7F)
    assert ram(oled, 127, 0) == 0x5A  # written under A1: column 0 -> SEG127
    bus.writeto(0x3C, b"\x80\xaf")  # a command again, not the contrast value
    assert oled.display_on and oled.contrast == 0x7F


def test_fault_knobs(bus, oled):
    oled.nack = True
    with pytest.raises(OSError) as failure:
        bus.writeto(0x3C, b"\x80\xaf")
    assert failure.value.errno == errno.ENODEV  # the RP2040 reports a refused address as absent
    assert not oled.display_on
    oled.nack = False
    oled.present = False
    with pytest.raises(OSError) as failure:
        bus.writeto(0x3C, b"\x80\xaf")
    assert failure.value.errno == errno.ENODEV
    assert bus.scan() == []


# -- the driver's sequence (adafruit_displayio_ssd1306's init table) and a full frame -------



def send_80_prefixed(bus, command):
    frame = bytearray()
    for byte in command:
        frame += bytes((0x80, byte))
    bus.writeto(0x3C, frame)


def test_driver_init_then_full_frame_burst(bus, oled, clock):
    for command in DRIVER_INIT:
        send_80_prefixed(bus, command)
    assert oled.display_on and oled.charge_pump and oled.contrast == 0xFF
    assert oled.frame_rate_hz == pytest.approx(88, abs=1)  # D9 F1: K = 1 + 15 + 50
    send_80_prefixed(bus, (0x21, 0x00, 0x7F))
    send_80_prefixed(bus, (0x22, 0x00, 0x07))
    frame = bytes((col * 7 + page * 31) & 0xFF for page in range(8) for col in range(128))
    t0 = clock.now()
    data(bus, frame)
    assert (oled.column, oled.page) == (0, 0)
    # the write is complete at its STOP: control byte + 1024 data bytes later
    assert oled.last_data_write_s == clock.now()
    assert clock.now() - t0 == pytest.approx(((1 + 1025) * 9 + 2) / 400_000)
    assert oled.data_bytes_written == 1024
    pixels = oled.panel_pixels()
    for y in range(H):
        for x in range(W):
            expected = (frame[(y >> 3) * W + x] >> (y & 7)) & 1
            assert pixels[y * W + x] == expected, (x, y)
    data(bus, b"\xff" * 1024)
    assert len(lit(oled)) == W * H
    assert (oled.column, oled.page) == (0, 0)


def test_frame_count_moves_with_visible_changes(bus, oled):
    start = oled.frame_count
    commands(bus, 0x21, 0x00, 0x7F)  # a window: nothing new on the panel
    assert oled.frame_count == start
    data(bus, [1, 2, 3])
    commands(bus, 0xA7)
    assert oled.frame_count == start + 2
    assert oled.writes == 3


def test_png_round_trip(bus, oled, tmp_path):
    common_setup(bus)
    commands(bus, 0xB0, 0x03, 0x10)
    data(bus, [0xFF, 0x0F])
    path = tmp_path / "panel.png"
    oled.save_png(path)
    with Image.open(path) as image:
        assert image.size == (W, H)
        pixels = image.convert("L").tobytes()
    assert bytes(1 if v else 0 for v in pixels) == oled.panel_pixels()
    oled.save_png(tmp_path / "big.png", scale=3)
    with Image.open(tmp_path / "big.png") as image:
        assert image.size == (3 * W, 3 * H)
        assert image.convert("L").getpixel((3 * 3 + 1, 3 * 7 + 1)) == 255  # pixel (3, 7)
        assert image.convert("L").getpixel((3 * 4 + 1, 3 * 7 + 1)) == 0  # (4, 7): 0x0F
