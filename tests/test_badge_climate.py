"""Whole-badge scenarios on virtual time: the climate screen, faults, buttons, settings."""

import time

import pytest

from golden import assert_golden
from sim.core.liveness import LoopHeld, check_liveness


def probes(badge, address=0x44):
    """Address-only writes (driver probes) to ``address`` in the I2C log."""
    return [r for r in badge.i2c.log if r.address == address and r.direction == "w"
            and not r.data]


def test_climate_screen_shows_reading(make_badge):
    badge = make_badge(temperature_c=21.5, humidity_rh=40)
    badge.run(30)
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())
    assert not [line for line in badge.console if "crashed" in line]


def test_reading_follows_the_room(make_badge):
    badge = make_badge(temperature_c=21.5, humidity_rh=40)
    badge.at(25, lambda: setattr(badge.sensor, "temperature_c", -7.25))
    badge.at(25, lambda: setattr(badge.sensor, "humidity_rh", 83.6))
    badge.run(40)
    assert_golden("climate_-7.2C_84RH", badge.display.panel_pixels())


def test_missing_sensor_is_shown_and_retried_with_backoff(make_badge):
    badge = make_badge(temperature_c=23.0, humidity_rh=50)
    badge.sensor.present = False
    badge.run(20)
    assert_golden("climate_no_sensor", badge.display.panel_pixels())
    tries = [r.time_s for r in probes(badge)]
    gaps = [round(b - a) for a, b in zip(tries, tries[1:])]
    assert gaps[:4] == [1, 2, 4, 8], gaps
    assert sum("no sensor" in line for line in badge.console) == 1


def test_sensor_that_appears_later_is_used(make_badge):
    badge = make_badge(temperature_c=23.0, humidity_rh=50)
    badge.sensor.present = False
    badge.at(10, lambda: setattr(badge.sensor, "present", True))
    badge.run(40)
    assert badge.sensor.measurements > 0
    assert_golden("climate_23.0C_50RH", badge.display.panel_pixels())


def test_bad_crc_shows_sensor_error_then_recovers(make_badge):
    badge = make_badge(temperature_c=23.0, humidity_rh=50)
    badge.at(5, lambda: setattr(badge.sensor, "bad_crc", True))
    badge.run(15)
    assert any("CRC mismatch" in line for line in badge.console)
    top_line = badge.display.panel_pixels()[:128 * 12]
    badge2 = make_badge(temperature_c=23.0, humidity_rh=50)
    badge2.run(15)
    assert top_line != badge2.display.panel_pixels()[:128 * 12], "status line unchanged"
    badge3 = make_badge(temperature_c=23.0, humidity_rh=50)
    badge3.at(5, lambda: setattr(badge3.sensor, "bad_crc", True))
    badge3.at(15, lambda: setattr(badge3.sensor, "bad_crc", False))
    badge3.run(40)
    assert_golden("climate_23.0C_50RH", badge3.display.panel_pixels())


def test_no_display_keeps_the_badge_running(make_badge):
    badge = make_badge()
    badge.display.present = False
    badge.run(60)
    assert any("display: not available" in line for line in badge.console)
    assert badge.sensor.measurements >= 6


def test_buttons_switch_screens(make_badge):
    badge = make_badge(temperature_c=21.5, humidity_rh=40)
    badge.at(10, lambda: badge.press("B"))
    shots = {}
    badge.at(12, lambda: shots.setdefault("status", badge.display.panel_pixels()))
    badge.at(14, lambda: badge.press("A"))
    badge.at(16, lambda: shots.setdefault("back", badge.display.panel_pixels()))
    badge.run(17)
    assert_golden("status_screen_t12", shots["status"])
    assert_golden("climate_21.5C_40RH", shots["back"])


def test_sample_period_comes_from_settings(make_badge):
    badge = make_badge(settings="BADGE_SAMPLE_PERIOD_S = 2\n")
    badge.run(61)
    assert 29 <= badge.sensor.measurements <= 31


@pytest.mark.parametrize("line, shown", [
    ('BADGE_SAMPLE_PERIOD_S = "often"', "'often'"),
    ("BADGE_SAMPLE_PERIOD_S = 1", "1"),
    ("BADGE_SAMPLE_PERIOD_S = 99999", "99999"),
])
def test_bad_setting_is_reported_and_default_used(make_badge, line, shown):
    badge = make_badge(settings=line + "\n")
    badge.run(61)
    message = [m for m in badge.console if "BADGE_SAMPLE_PERIOD_S" in m]
    assert message and shown in message[0] and "using 10" in message[0], badge.console
    assert 6 <= badge.sensor.measurements <= 7


def test_unknown_pin_name_falls_back_to_default(make_badge):
    badge = make_badge(settings='BADGE_PIN_SDA = "GP99"\n', temperature_c=21.5,
                       humidity_rh=40)
    badge.run(30)
    assert any("no pin board.GP99; using GP4" in m for m in badge.console)
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())


def test_no_task_holds_the_loop_in_normal_operation(make_badge):
    badge = make_badge()
    badge.at(5, badge.clock.stalls.reset)  # boot (display init) is over by then
    badge.at(30, lambda: badge.press("B"))
    badge.at(40, lambda: badge.press("B"))
    badge.run(120)
    # Blocking sleeps and UART writes (the module's commands go out a FIFO at a time).
    check_liveness(badge.clock.stalls, limit_s=0.002, kinds=("sleep", "uart"))
    assert badge.clock.stalls.longest_step_s.get("sleep", 0.0) <= 0.002
    assert len(badge.module.history) > 20  # the module was in use all along


def test_liveness_check_names_a_task_that_blocks(make_badge):
    badge = make_badge()

    async def hog():
        import asyncio
        while True:
            time.sleep(0.05)  # a blocking wait, as a careless driver would do
            await asyncio.sleep(1)

    badge.on_loop(lambda loop: loop.create_task(hog(), name="hog"))
    badge.at(5, badge.clock.stalls.reset)
    badge.run(20)
    with pytest.raises(LoopHeld, match="hog"):
        check_liveness(badge.clock.stalls, limit_s=0.002)


def test_a_press_shows_the_next_screen_within_one_button_scan_and_a_frame(tmp_path):
    """The benchmark's button figure, bounded: a press is seen at the button scanner's
    next scan (20 ms keypad interval) and the new screen is one full frame on I2C."""
    from sim.bench.run import button_latency
    from sim.bench.content import FULL_FRAME_S as frame_s

    results = button_latency(tmp_path / "drive", presses=6)
    scan_s = 20 / 1024  # 0.02 s in CircuitPython's 1/1024 s ticks
    assert len(results) == 6
    for latency_s, wire_s in results:
        assert wire_s == pytest.approx(frame_s)
        assert frame_s <= latency_s <= frame_s + scan_s + 0.002
