"""The badge's firmware against what CircuitPython 9.x and 10.x really do.

One test per finding of the CircuitPython source reading (issue 10, item 3): each
failed against the firmware before its fix, on the CPython engine with the shims as
strict as the real modules (test_circuitpython_fidelity.py). The same scenarios are
the CircuitPython engine's to confirm on the real firmware.
"""

import pytest

from golden import assert_golden
from sim.engines.cpython.cp_version import SUPPORTED


def lines_with(badge, text):
    return [line for line in badge.console if text in line]


def log_module():
    import sys

    return sys.modules["firmware.log"]


# -- a. soft reload ---------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["REPL_RELOAD", "AUTO_RELOAD"])
def test_a_badge_comes_back_after_a_soft_reload(make_badge, reason):
    """The display keeps the I2C pins across a reload: code.py must release it before
    it opens the bus again, or busio.I2C raises ValueError ("in use")."""
    badge = make_badge(temperature_c=21.5, humidity_rh=40)
    badge.reload_at(15, reason)
    badge.run(45)
    assert badge.runtime.reloads == 1
    assert "soft reboot (%s)" % reason in badge.console
    after = badge.console[badge.console.index("soft reboot (%s)" % reason):]
    assert any("climate: sensor ready" in line for line in after)
    assert any("cloud: connected as" in line for line in after)
    assert [r for r in badge.i2c.records(0x3C) if r.time_s > 15]  # drawn again
    assert not lines_with(badge, "crashed")
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())


# -- b. settings typos ---------------------------------------------------------------------

TYPOS = ('BADGE_SAMPLE_PERIOD_S = often\n'
         'BADGE_PIN_LED = "GP25\n'
         'BADGE_CONTRAST = 200\n')


@pytest.mark.parametrize("version", ["9.2.1", "10.0.3"])
def test_b_settings_typos_do_not_stop_the_badge_on_9x_to_10_1(make_badge, version):
    badge = make_badge(settings=TYPOS, cp_version=version)
    badge.run(35)
    period = lines_with(badge, "BADGE_SAMPLE_PERIOD_S")
    led = lines_with(badge, "BADGE_PIN_LED")
    assert period and "cannot be read" in period[0] and "BADGE_SAMPLE_PERIOD_S = 10" in period[0]
    assert led and "cannot be read" in led[0] and 'BADGE_PIN_LED = "GP25"' in led[0]
    assert not lines_with(badge, "BADGE_CONTRAST")  # the good line is used
    assert 3 <= badge.sensor.measurements <= 5  # every 10 s, the default


def test_b_settings_on_10_2_are_all_text(make_badge):
    """10.2 returns every value as text and the default for a line it cannot read."""
    badge = make_badge(settings='BADGE_SAMPLE_PERIOD_S = 5\nBADGE_PIN_SDA = GP4\n'
                       + TYPOS.split("\n", 1)[1], cp_version="10.2.1")
    badge.run(31)
    assert not lines_with(badge, "settings:")
    assert 6 <= badge.sensor.measurements <= 7  # every 5 s


# -- c. sleeps that matter are whole milliseconds -------------------------------------------

@pytest.mark.parametrize("version", SUPPORTED)
def test_c_sensor_waits_its_whole_conversion_time(make_badge, version):
    """sleep(0.016) is 15 ms on 9.x-10.1.x, and a sleeper wakes up to 1 ms early: the
    SHT31-D (15 ms maximum conversion) would NACK the read."""
    badge = make_badge(settings="BADGE_SAMPLE_PERIOD_S = 2\n", cp_version=version)
    badge.run(30)
    assert not lines_with(badge, "read failed")
    assert badge.sensor.measurements >= 14


@pytest.mark.parametrize("version", SUPPORTED)
def test_c_no_sleep_comes_to_zero_ms(make_badge, version):
    """The UART poll's 1 ms pause is sleep(0.001) = 0 ms on 9.x-10.1.x: a busy yield."""
    badge = make_badge(cp_version=version)
    badge.at(5, lambda: badge.press("B"))
    badge.run(40)
    assert badge.module is not None and len(badge.module.history) > 10
    assert badge.runtime.zero_ms_sleeps == []


# -- d. nothing on the I2C bus --------------------------------------------------------------

def test_d_without_pull_ups_the_cloud_side_still_starts(make_badge):
    badge = make_badge()
    badge.i2c.pull_ups = False  # no display or sensor board attached
    badge.run(30)
    assert lines_with(badge, "i2c: bus not available (No pull up found on SDA or SCL")
    assert lines_with(badge, "cloud: connected as")
    assert lines_with(badge, "climate: no sensor")
    assert not lines_with(badge, "crashed")


# -- e. uptime past 74.6 hours ---------------------------------------------------------------

def test_e_uptime_stays_right_after_75_hours(make_badge):
    """ticks_diff only spans 2**28 ms (74.6 h): uptime from one difference to the
    boot tick goes negative then."""
    badge = make_badge(settings="BADGE_SAMPLE_PERIOD_S = 3600\n"
                       "BADGE_DIM_AFTER_S = 0\nBADGE_SHIFT_EVERY_S = 0\n")
    seen = {}

    def probe():
        seen["uptime_s"] = log_module().uptime_s()
        seen["now_s"] = badge.clock.now()

    badge.at(75.5 * 3600, probe)
    badge.run(75.5 * 3600 + 1)
    assert seen["uptime_s"] == pytest.approx(seen["now_s"], abs=0.5)


# -- f. tracebacks ---------------------------------------------------------------------------

@pytest.mark.parametrize("version", SUPPORTED)
def test_f_a_crash_prints_its_traceback_without_warnings(make_badge, version):
    badge = make_badge(module=False, cp_version=version)

    def break_sampler():
        import sys

        climate = sys.modules["firmware.climate"]

        def broken(buf):
            raise KeyError("planted")

        climate.decode_measurement = broken

    badge.at(5, break_sampler)
    badge.run(15)
    assert lines_with(badge, "sample_climate: crashed: KeyError")
    assert lines_with(badge, "Traceback (most recent call last)")
    assert not lines_with(badge, "FutureWarning")


# -- g. a display that drops off ----------------------------------------------------------------

def test_g_a_display_that_drops_off_is_not_claimed_lost_or_found(make_badge):
    """CircuitPython's display bus ignores write errors: the badge cannot know that the
    display went away, so it says nothing about it and keeps running."""
    badge = make_badge(temperature_c=21.5, humidity_rh=40)
    badge.at(10, lambda: setattr(badge.display, "present", False))
    badge.at(12, lambda: badge.press("B"))
    badge.at(20, lambda: setattr(badge.display, "present", True))
    badge.at(22, lambda: badge.press("A"))
    badge.run(30)
    assert not lines_with(badge, "display:")
    assert not lines_with(badge, "crashed")
    assert badge.i2c.nacks > 0
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())


# -- h. a button held at power-up --------------------------------------------------------------

@pytest.mark.parametrize("version", ["9.0.5", "9.2.1", "10.2.1"])
def test_h_a_button_held_at_power_up_is_not_a_press(make_badge, version):
    """keypad on 9.0.x queues a press for a key held when the scanner starts."""
    badge = make_badge(temperature_c=21.5, humidity_rh=40, cp_version=version)
    badge.world.set_button("GP14", True)  # B, held from power-up
    badge.at(2, lambda: badge.world.set_button("GP14", False))
    badge.run(30)
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())


# -- i. the Python stack --------------------------------------------------------------------

def test_i_qr_code_is_built_from_a_shallow_stack(make_badge, monkeypatch):
    """CircuitPython's Python stack is 1,536 bytes, and building a QR code in
    adafruit_miniqr is the deepest chain on the badge (about 1.30 KB when a shadow delta
    built it inside the cloud session). The code is now built when it is first drawn, by
    the display task: here the frames from the task's root (``supervise``) to miniqr's
    ``make`` are counted for a QR text from the shadow and from MQTT. The bytes on the
    real stack are for the CircuitPython engine to measure."""
    from sim.content.deliver import BadgeScript, deliver, set_desired, sleep_until

    import builtins
    import sys

    badge = make_badge(settings="BADGE_SHIFT_EVERY_S = 0\n")
    depths = []
    loaded_after = []
    real_import = builtins.__import__

    def importing(name, *args, **kwargs):
        fresh = name == "adafruit_miniqr" and name not in sys.modules
        module = real_import(name, *args, **kwargs)
        if fresh:
            patch(module)  # the badge lets the module go after each code it builds
        return module

    def patch(adafruit_miniqr):
        make = adafruit_miniqr.QRCode.make

        def counted(self, *args, **kwargs):
            import sys

            frame, chain = sys._getframe(), []
            while frame is not None and frame.f_code.co_name != "supervise":
                chain.append(frame.f_code.co_name)
                frame = frame.f_back
            depths.append(list(reversed(chain)))
            return make(self, *args, **kwargs)

        adafruit_miniqr.QRCode.make = counted

    def watch_miniqr():
        monkeypatch.setattr(builtins, "__import__", importing)

    async def steps(url):
        await sleep_until(badge.clock, 5)
        await set_desired(badge.cloud.shadows, "badge-1", {"qr": "https://example.org/a"})
        await sleep_until(badge.clock, 8)
        loaded_after.append("adafruit_miniqr" in sys.modules)
        await deliver(url, "badge-1", "qr", "https://example.org/b")
        await sleep_until(badge.clock, 11)
        loaded_after.append("adafruit_miniqr" in sys.modules)

    badge.at(1, watch_miniqr)
    script = BadgeScript(badge, steps)
    badge.run(12)
    script.result()
    assert len(depths) == 2, depths
    assert loaded_after == [False, False]  # let go after each code (10 KB of heap)
    for chain in depths:
        assert chain[0] == "run" and "draw" in chain, chain  # the display task
        assert len(chain) <= 7, chain
