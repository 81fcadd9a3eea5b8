"""The CircuitPython engine: the official firmware on an emulated RP2040, on our chips.

One boot per version runs ``tests/cp_programs/engine_check`` (I2C scan, the SHT31-D
through adafruit_sht31d as .mpy, a displayio label, an AT round trip with the module, a
keypad press, a planted traceback, a soft reload); the tests read its console. The
label's frame must equal the CPython engine's for the same code, and the same run twice
must give the same console and frames. Skipped, with what is missing and how to get it,
when Node, the npm package, a UF2 or mpy-cross is missing.
"""

import shutil
from pathlib import Path

import pytest

from sim.engines.circuitpython import harness
from sim.core.i2c_bus import I2CTarget, Nack
from sim.engines.circuitpython.parts import MissingPart, UF2_URL

PROGRAM = Path(__file__).resolve().parent / "cp_programs" / "engine_check"
VERSIONS = ("9.2.1", "10.2.1")
LIBRARIES = ("adafruit_sht31d", "adafruit_bus_device", "adafruit_displayio_ssd1306",
             "adafruit_display_text")
TEMPERATURE_C, HUMIDITY_RH = -12.5, 61.0
DURATION_S = 12.0  # emulated; the script stops the run well before

# Taken in order: each rule is armed once the one before it fired.
SCRIPT = [
    ("check frame shown", harness.snapshot("label"), 0),
    ("check keys ready", harness.press("B"), 0.05),
    ("RuntimeError: planted", harness.reload, 0.2),
    ("check sht31d", harness.stop, 0.01),  # the run after the reload has its sensor back
]


def _drive(tmp_path_factory):
    from sim.engines.circuitpython.drive import test_drive

    drive = tmp_path_factory.mktemp("engine-check-drive")
    return test_drive(drive, [PROGRAM / "code.py", PROGRAM / "label_screen.py"], LIBRARIES)


class RefusingChip(I2CTarget):
    """ACKs its address (0x50), refuses every data byte: a NACK on the last one."""

    address = 0x50

    def write(self, data):
        if data:
            raise Nack("refuses data")


def _run(drive, version):
    return harness.run_program(drive, version, SCRIPT, DURATION_S,
                               setup=lambda badge: badge.i2c.attach(RefusingChip()),
                               temperature_c=TEMPERATURE_C, humidity_rh=HUMIDITY_RH)


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    missing = harness.why_missing(VERSIONS[-1])
    if missing:
        pytest.skip(missing)
    return _drive(tmp_path_factory)


_RUNS = {}


@pytest.fixture(scope="module", params=VERSIONS)
def check_run(request, drive):
    version = request.param
    missing = harness.why_missing(version)
    if missing:
        pytest.skip(missing)
    if version not in _RUNS:
        _RUNS[version] = _run(drive, version)
    return _RUNS[version]


def test_scan_finds_the_display_and_the_sensor(check_run):
    # 0x50: the test's own chip that refuses data (RefusingChip)
    assert check_run.checks("scan")[:1] == ["0x3c 0x44 0x50"], check_run.text


def test_a_refused_data_byte_is_an_io_error(check_run):
    assert check_run.checks("refused")[:1] == ["5"], check_run.text  # EIO, as on CPython
    refused = [r for r in check_run.badge.i2c.records(0x50) if r.data]
    assert refused and not refused[0].acked


def test_adafruit_sht31d_reads_what_the_emulator_is_set_to(check_run):
    assert check_run.checks("sht31d")[:1] == ["%.2f %.2f" % (TEMPERATURE_C, HUMIDITY_RH)]
    drive_lib = check_run.badge.drive_dir / "lib"
    assert (drive_lib / "adafruit_sht31d.mpy").exists()
    assert not list(drive_lib.rglob("*.py"))


def test_at_round_trip_with_the_expresslink_emulator(check_run):
    assert check_run.checks("at") == ["OK"], check_run.text
    history = check_run.badge.module.history  # (time, command after "AT", reply)
    assert any(body == b"" and reply == b"OK\r\n" for _t, body, reply in history)


def test_bytes_cost_their_wire_time(check_run):
    """A 17-byte I2C write at 400 kHz: START, address, 17 bytes, STOP = 164 SCL periods
    of 2.5 us = 410 us (plus CircuitPython's own work). AT and OK at 115200 baud: 4 bytes
    each way, 86.8 us each, and the module's 0.2 ms: 894 us (plus the polling loop)."""
    write_us = int(check_run.checks("i2c_write_us")[0])
    assert 410 <= write_us < 520, write_us
    at_us, reply = check_run.checks("at_us")[0].split(" ", 1)
    assert reply == "OK"
    assert 894 <= int(at_us) < 1200, at_us


def test_a_message_through_the_module_reaches_the_embedded_broker(check_run):
    assert check_run.checks("topic") == ["OK"], check_run.text
    assert check_run.checks("connect")[0].startswith("OK 1 CONNECTED"), check_run.text
    assert check_run.checks("send") == ["OK"], check_run.text
    assert check_run.facts["readings_published"] == 1
    assert check_run.report.telemetry.sequence == [1]


def test_the_report_tells_what_happened(check_run):
    facts = check_run.facts
    assert facts["engine"] == "circuitpython"
    assert facts["circuitpython"] == check_run.badge.version
    assert facts["tracebacks"]["count"] == 1
    assert facts["soft_reloads"] == 1
    assert 2.0 < facts["boot_to_first_frame_s"] < facts["emulated_s"]
    assert facts["mem_free_last"] == int(check_run.checks("mem_free=")[0]) > 100_000
    assert facts["wall_s"] > 0


def test_keypad_sees_the_button_press(check_run):
    assert check_run.checks("pressed") == ["1"], check_run.text  # B is GP14, key 1


def test_traceback_captured_from_the_console(check_run):
    tracebacks = check_run.badge.console.tracebacks
    assert len(tracebacks) == 1, check_run.text
    assert tracebacks[0].startswith("Traceback (most recent call last):")
    assert 'File "code.py", line' in tracebacks[0]
    assert tracebacks[0].endswith("RuntimeError: planted for the engine check")


def test_soft_reload_runs_code_py_again_with_the_bus_back(check_run):
    console = check_run.badge.console
    assert console.soft_reloads - console.attach_reloads == 1, check_run.text
    assert check_run.checks("run_reason")[-1] == "supervisor.RunReason.REPL_RELOAD"
    after_reload = check_run.text.split("soft reboot")[-1]
    assert "check scan 0x3c 0x44" in after_reload
    assert "check sht31d -12.50 61.00" in after_reload


def _cpython_label_frame(tmp_path):
    from sim.engines.cpython.badge import VirtualBadge

    root = tmp_path / "cpython-drive"
    root.mkdir()
    shutil.copyfile(PROGRAM / "cpython_code.py", root / "code.py")
    shutil.copyfile(PROGRAM / "label_screen.py", root / "label_screen.py")
    badge = VirtualBadge(code_root=root, drive_dir=root, module=False)
    badge.run(2.0)
    assert any("check frame shown" in line for line in badge.console)
    frame = bytes(badge.display.panel_pixels())
    assert any(frame), "the CPython engine drew nothing"
    return frame


def _save_both(tmp_path, frame, expected):
    from sim.chips.ssd1306_panel import pixels_to_image

    pixels_to_image(frame, 4).save(tmp_path / "circuitpython.png")
    pixels_to_image(expected, 4).save(tmp_path / "cpython.png")
    return "frames differ: see %s" % tmp_path


def test_built_in_font_has_circuitpythons_glyph_metrics_on_both_engines(check_run, tmp_path):
    """CircuitPython's built-in font gives every glyph a whole 6x12 tile with dx = dy = 0;
    Blinka's BDF font says dy = -2, which put baseline-placed text one row lower on the
    CPython engine until the runtime gave it CircuitPython's metrics."""
    from sim.engines.cpython.badge import VirtualBadge

    assert check_run.checks("glyph")[:1] == ["6 12 0 0"]
    root = tmp_path / "font-drive"
    root.mkdir()
    (root / "code.py").write_text(
        "import terminalio\n"
        "g = terminalio.FONT.get_glyph(ord('M'))\n"
        "print('glyph', g.width, g.height, g.dx, g.dy)\n")
    badge = VirtualBadge(code_root=root, drive_dir=root, module=False)
    badge.run(0.5)
    assert "glyph 6 12 0 0" in badge.console


def test_label_frame_equals_the_cpython_engine(check_run, tmp_path):
    expected = _cpython_label_frame(tmp_path)
    frame = check_run.frames["label"]
    assert frame == expected, _save_both(tmp_path, frame, expected)


def test_the_same_run_gives_the_same_console_and_frames(drive):
    version = VERSIONS[-1]
    missing = harness.why_missing(version)
    if missing:
        pytest.skip(missing)
    first = _RUNS.get(version) or _run(drive, version)
    again = _run(drive, version)
    assert "check send OK" in again.text  # the run went through the embedded broker
    assert again.text == first.text
    assert again.frames == first.frames
    assert again.last_frame == first.last_frame
    assert again.badge.clock.now() == first.badge.clock.now()


def test_missing_parts_are_named_with_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("BADGE_RP2040_DIR", str(tmp_path))
    with pytest.raises(MissingPart) as missing:
        from sim.engines.circuitpython.parts import find_firmware

        find_firmware("9.2.1")
    message = str(missing.value)
    assert UF2_URL % "9.2.1" in message
    assert "b23e50784711101d6fd9958778f5541ea0781e9eb317dfe1d775959e80512bd6" in message
    (tmp_path / "firmware").mkdir()
    (tmp_path / "firmware" / "adafruit-circuitpython-raspberry_pi_pico-en_US-9.2.1.uf2"
     ).write_bytes(b"not the official file")
    with pytest.raises(MissingPart, match="not the official"):
        find_firmware("9.2.1")


def test_statements_typed_at_the_repl(tmp_path):
    """The REPL helper issue 10 measures the heap with: a fresh 10.2.1 REPL has about
    163 KB free (162,976 bytes, measured at the emulated Pico's REPL)."""
    version = VERSIONS[-1]
    missing = harness.why_missing(version)
    if missing:
        pytest.skip(missing)
    (tmp_path / "code.py").write_text("print('hello')\n")
    results = harness.run_repl(tmp_path, version, ["import gc", "gc.collect()",
                                                   "print(gc.mem_free())", "1/0"],
                               module=False)
    outputs = dict(results)
    assert 150_000 < int(outputs["print(gc.mem_free())"]) < 175_000
    assert outputs["1/0"].endswith("ZeroDivisionError: division by zero\n")
