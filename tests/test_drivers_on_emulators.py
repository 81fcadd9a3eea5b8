"""The unmodified Adafruit drivers (from .venv) against the emulated SHT31-D and SSD1306."""

import time
import types

import pytest

from sim.chips.sht31d import SHT31D
from sim.chips.ssd1306 import SSD1306
from sim.core.i2c_bus import I2CBus
from sequences import DRIVER_INIT

adafruit_sht31d = pytest.importorskip("adafruit_sht31d")

W, H = 128, 64
T_STEP_C = 175 / 65535  # one count of S_T
RH_STEP = 100 / 65535  # one count of S_RH


@pytest.fixture
def bus(clock):
    """Unlocked: the drivers take the lock themselves."""
    return I2CBus(clock)


def virtual_time(clock):
    """A stand-in for a driver's ``time`` module that runs on the virtual clock."""
    return types.SimpleNamespace(
        sleep=lambda seconds: clock.block(seconds, "sleep"),
        time=clock.now,
        monotonic=clock.now,
    )


# -- SHT31-D through adafruit_sht31d ---------------------------------------------------------


@pytest.fixture
def sensor(bus, clock, monkeypatch):
    monkeypatch.setattr(adafruit_sht31d, "time", virtual_time(clock))
    sensor = bus.attach(SHT31D(clock))
    sensor.temperature_c = 23.4
    sensor.humidity_rh = 45.6
    return sensor


def test_driver_init_sequence(bus, sensor):
    adafruit_sht31d.SHT31D(bus)
    # adafruit_sht31d 2.3.31: a probe (empty write), then 30 93 (break), 30 A2 (reset)
    assert [(r.direction, r.data) for r in bus.records(0x44)] == [
        ("w", b""),
        ("w", b"\x30\x93"),
        ("w", b"\x30\xa2"),
    ]


@pytest.mark.parametrize(
    "repeatability", [adafruit_sht31d.REP_HIGH, adafruit_sht31d.REP_MED, adafruit_sht31d.REP_LOW]
)
def test_single_shot_reads_the_set_values(bus, sensor, repeatability):
    sht = adafruit_sht31d.SHT31D(bus)
    sht.repeatability = repeatability
    assert sht.temperature == pytest.approx(23.4, abs=T_STEP_C)
    assert sht.relative_humidity == pytest.approx(45.6, abs=RH_STEP)
    sensor.temperature_c = -12.5
    sensor.humidity_rh = 38.0
    assert sht.temperature == pytest.approx(-12.5, abs=T_STEP_C)
    assert round(sht.relative_humidity, 1) == 38.0  # raw 0x6147 reads back 37.9995
    assert sensor.measurements == 4


def test_clock_stretching(bus, clock, sensor):
    sht = adafruit_sht31d.SHT31D(bus)
    sht.clock_stretching = True
    stalled_before = clock.stalls.total_s.get("i2c", 0.0)
    assert sht.temperature == pytest.approx(23.4, abs=T_STEP_C)
    # the driver sleeps 1 ms, the sensor holds SCL for the rest of the 15 ms
    assert clock.stalls.total_s["i2c"] - stalled_before > 0.0135
    assert bus.records(0x44)[-2].data == b"\x2c\x06"


def test_periodic_mode(bus, clock, sensor):
    sht = adafruit_sht31d.SHT31D(bus)
    sht.mode = adafruit_sht31d.MODE_PERIODIC  # 4 Hz, high repeatability
    assert sensor.periodic
    clock.advance(0.3)
    assert sht.temperature == pytest.approx(23.4, abs=T_STEP_C)
    sensor.humidity_rh = 60.0
    clock.advance(0.3)
    assert sht.relative_humidity == pytest.approx(60.0, abs=RH_STEP)
    sht.mode = adafruit_sht31d.MODE_SINGLE
    assert not sensor.periodic
    assert sht.temperature == pytest.approx(23.4, abs=T_STEP_C)


def test_serial_number_heater_and_status(bus, sensor):
    sensor.serial_number = 0x0BADCAFE
    sht = adafruit_sht31d.SHT31D(bus)
    assert sht.serial_number == 0x0BADCAFE
    assert sht.status == 0x8010  # after the driver's soft reset
    assert sht.heater is False
    sht.heater = True
    assert sht.heater is True and sensor.heater
    assert sht.status == 0xA010
    assert sht.temperature == pytest.approx(23.4 + sensor.heater_rise_c, abs=T_STEP_C)
    sht.heater = False
    assert not sensor.heater


def test_absent_sensor(bus, clock, monkeypatch):
    monkeypatch.setattr(adafruit_sht31d, "time", virtual_time(clock))
    with pytest.raises(ValueError, match="No I2C device"):
        adafruit_sht31d.SHT31D(bus)
    sensor = bus.attach(SHT31D(clock))
    sensor.present = False
    with pytest.raises(ValueError, match="No I2C device"):
        adafruit_sht31d.SHT31D(bus)


def test_bad_crc(bus, sensor):
    sht = adafruit_sht31d.SHT31D(bus)
    sensor.bad_crc = True
    with pytest.raises(RuntimeError, match="CRC mismatch"):
        sht.temperature


def test_nacking_sensor_raises_oserror(bus, sensor):
    sht = adafruit_sht31d.SHT31D(bus)
    sensor.nack = True
    with pytest.raises(OSError):
        sht.temperature
    assert bus.try_lock()  # the driver released the bus lock on the way out


# -- SSD1306 through i2cdisplaybus + adafruit_displayio_ssd1306 -------------------------------


@pytest.fixture
def display_env(bus, clock, monkeypatch):
    """displayio with its background refresh thread stopped and sleeps on the clock."""
    displayio = pytest.importorskip("displayio")
    import busdisplay

    displayio._stop_background()
    displayio.release_displays()
    fake_time = types.SimpleNamespace(
        sleep=lambda seconds: clock.block(seconds, "sleep"), monotonic=time.monotonic
    )
    monkeypatch.setattr(busdisplay, "time", fake_time)
    oled = bus.attach(SSD1306(clock))
    yield oled
    displayio.release_displays()


def make_display(bus):
    import adafruit_displayio_ssd1306
    import i2cdisplaybus

    display_bus = i2cdisplaybus.I2CDisplayBus(bus, device_address=0x3C)
    return adafruit_displayio_ssd1306.SSD1306(display_bus, width=W, height=H, auto_refresh=False)


def commands_sent(records):
    """The commands in a run of ``80 xx 80 yy ...`` writes, one tuple per transaction."""
    sent = []
    for record in records:
        data = record.data
        assert data[0::2] == b"\x80" * (len(data) // 2), data.hex()
        sent.append(tuple(data[1::2]))
    return sent


def lit_pixels(oled):
    return {(i % W, i // W) for i, v in enumerate(oled.panel_pixels()) if v}


def test_display_init_sequence(bus, display_env):
    make_display(bus)
    assert commands_sent(bus.records(0x3C)) == DRIVER_INIT
    oled = display_env
    assert oled.display_on and oled.charge_pump and oled.segment_remap
    assert oled.com_scan_reversed and oled.addressing_mode == 0


def test_bitmap_is_shown_upright(bus, display_env):
    import displayio

    oled = display_env
    display = make_display(bus)
    bitmap = displayio.Bitmap(W, H, 2)
    palette = displayio.Palette(2)
    palette[0] = 0x000000
    palette[1] = 0xFFFFFF
    expected = {(0, 0), (127, 0), (0, 63), (127, 63), (1, 0), (0, 2)}
    expected |= {(x, y) for x in range(10, 30) for y in range(5, 15)}  # a filled rectangle
    expected |= {(x, y) for x in range(64, 96) for y in range(40, 56) if (x // 4 + y // 4) % 2}
    for x, y in expected:
        bitmap[x, y] = 1
    group = displayio.Group()
    group.append(displayio.TileGrid(bitmap, pixel_shader=palette))
    display.root_group = group
    bus.clear_log()
    display.refresh()
    # a full refresh: column window, page window, then 0x40 + 1024 bytes
    writes = bus.records(0x3C)
    assert commands_sent(writes[:2]) == [(0x21, 0x00, 0x7F), (0x22, 0x00, 0x07)]
    assert writes[2].data[0] == 0x40 and len(writes[2].data) == 1025
    assert lit_pixels(oled) == expected


def test_label_is_drawn_with_the_terminal_font(bus, display_env):
    import displayio
    import terminalio
    from adafruit_display_text import label

    oled = display_env
    display = make_display(bus)
    text = "Hi 7"
    group = displayio.Group()
    group.append(label.Label(terminalio.FONT, text=text, color=0xFFFFFF, x=20, y=30))
    display.root_group = group
    display.refresh()
    # Terminus 6x12 cells; the label's y is the middle of the cell (top = y - 5)
    expected = set()
    for i, char in enumerate(text):
        glyph = terminalio.FONT.get_glyph(ord(char))
        for py in range(glyph.height):
            for px in range(glyph.width):
                if glyph.bitmap[glyph.tile_index * glyph.width + px, py]:
                    expected.add((20 + 6 * i + px, 30 - 5 + py))
    assert expected  # the font has pixels for these characters
    assert lit_pixels(oled) == expected


def test_sleep_and_wake(bus, display_env):
    oled = display_env
    display = make_display(bus)
    display.sleep()
    assert not oled.display_on and oled.panel_pixels() == bytes(W * H)
    display.wake()
    assert oled.display_on
