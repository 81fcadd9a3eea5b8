"""The CircuitPython engine's parts that need no emulator: the drive image, the
messages about missing parts, and ``run --report`` on the CPython engine."""

import json
import subprocess
import sys
from pathlib import Path

from sim.engines.circuitpython import fat12

ROOT = Path(__file__).resolve().parents[1]


def test_fat12_image_holds_the_folder_with_long_names(tmp_path):
    files = {
        "code.py": b"print('hello')\n",
        "settings.toml": b'BADGE_NAME = "x"\n',
        "lib/adafruit_sht31d.mpy": bytes(range(256)) * 9,  # 2304 bytes: 5 clusters
        "lib/adafruit_display_text/__init__.mpy": b"C\x06" + b"x" * 700,
        "lib/adafruit_display_text/label.mpy": b"C\x06label",
        "firmware/a_name_of_29_characters_abc.py": b"",
        "firmware/thirteen_c.py": b"13",  # 13 and 26 characters: no terminator
        "firmware/twenty_six_characters_a.py": b"26",
        "EMPTY.TXT": b"",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    image = fat12.build_image(tmp_path)
    assert len(image) == fat12.IMAGE_BYTES
    assert image[510:512] == b"\x55\xaa" and image[54:62] == b"FAT12   "
    assert fat12.read_files(image) == files
    assert fat12.build_image(tmp_path) == image  # the same folder, the same bytes


def test_root_drive_keeps_what_the_badge_wrote(tmp_path):
    from sim.engines.circuitpython.drive import write_back

    drive = tmp_path / "CIRCUITPY"
    for name, data in {"code.py": b"run()", "lib/a.mpy": b"C\x06a",
                       "content/old.bin": b"old"}.items():
        (drive / name).parent.mkdir(parents=True, exist_ok=True)
        (drive / name).write_bytes(data)
    image = fat12.build_image(drive)
    files = fat12.read_files(image)
    del files["content/old.bin"]  # the badge deleted it, wrote two files
    files.update({"content/photo.bin": b"\x01\x02", "boot_out.txt": b"Adafruit"})
    written, removed = write_back(drive, files)
    assert written == ["boot_out.txt", "content/photo.bin"]
    assert removed == ["content/old.bin"]
    assert fat12.read_files(fat12.build_image(drive)) == files
    try:
        write_back(drive, {"lib/a.mpy": b""})  # no code.py: a half-written drive
    except ValueError as error:
        assert "left unchanged" in str(error)
    else:
        raise AssertionError("a drive read back without code.py was written back")
    assert (drive / "code.py").read_bytes() == b"run()"


def test_fat12_refuses_a_folder_larger_than_the_drive(tmp_path):
    (tmp_path / "big.bin").write_bytes(bytes(fat12.IMAGE_BYTES))
    try:
        fat12.build_image(tmp_path)
    except fat12.DriveFull as error:
        assert "1024 KiB" in str(error)
    else:
        raise AssertionError("a 1 MiB file fitted on a 1 MiB drive with its FAT")


def _sim(*args, env_extra=None, timeout=120):
    import os

    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_run_without_the_uf2_says_what_is_missing_and_where_to_get_it(tmp_path):
    done = _sim("run", "--engine", "circuitpython", "--cp", "9.2.1", "--headless",
                "--duration", "1", env_extra={"BADGE_RP2040_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert "https://downloads.circuitpython.org/bin/raspberry_pi_pico/en_US/" \
           "adafruit-circuitpython-raspberry_pi_pico-en_US-9.2.1.uf2" in done.stderr
    assert "b23e50784711101d6fd9958778f5541ea0781e9eb317dfe1d775959e80512bd6" in done.stderr
    assert "BADGE_RP2040_DIR" in done.stderr


def test_report_on_the_cpython_engine(tmp_path):
    report = tmp_path / "r.json"
    done = _sim("run", "--headless", "--virtual-time", "--duration", "25",
                "--report", str(report))
    assert done.returncode == 0, done.stderr
    facts = json.loads(report.read_text())
    assert facts["engine"] == "cpython" and facts["circuitpython"] is None
    assert facts["emulated_s"] == 25.0 and facts["wall_s"] > 0
    assert 0 < facts["boot_to_first_frame_s"] < 2
    assert facts["tracebacks"] == {"count": 0, "texts": []}
    assert facts["soft_reloads"] == 0
    assert facts["readings_published"] >= 1
    assert facts["mem_free_min"] is None and facts["mem_free_last"] is None
