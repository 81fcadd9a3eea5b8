"""Flashing a badge (deploy) and the command line, as a user runs them."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from golden import assert_golden
from sim.tools.deploy import BADGE_DISTRIBUTIONS, DeployError, deploy

REPO = Path(__file__).resolve().parent.parent
CP9 = "Adafruit CircuitPython 9.2.1 on 2024-11-20; Raspberry Pi Pico with rp2040\n"


def fake_drive(path, boot_out=CP9):
    path.mkdir()
    if boot_out is not None:
        (path / "boot_out.txt").write_text(boot_out + "Board ID:raspberry_pi_pico\n")
    return path


def sim(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_deploy_refuses_a_folder_that_is_not_a_drive(tmp_path):
    drive = fake_drive(tmp_path / "d", boot_out=None)
    with pytest.raises(DeployError, match="no boot_out.txt"):
        list(deploy(drive))


def test_deploy_refuses_circuitpython_8(tmp_path):
    drive = fake_drive(tmp_path / "d", "Adafruit CircuitPython 8.2.10 on 2024-02-14; Pico")
    with pytest.raises(DeployError, match="CircuitPython 9 or newer"):
        list(deploy(drive))


def _deployed_files():
    """What a deploy writes: each module the badge imports, plus boot.py and code.py."""
    from sim.tools.deploy import ENTRY_FILES, deploy_plan

    return len(deploy_plan()[0]) + len(ENTRY_FILES)


@pytest.mark.parametrize("source, suffix", [(False, ".mpy"), (True, ".py")])
def test_deploy_copies_everything_and_keeps_settings(tmp_path, source, suffix):
    drive = fake_drive(tmp_path / "d", "Adafruit CircuitPython 10.0.3 on 2025-10-01; Pico")
    (drive / "settings.toml").write_text("BADGE_SAMPLE_PERIOD_S = 30\n")
    lines = list(deploy(drive, source=source))
    assert lines[0].startswith("found Adafruit CircuitPython 10.0.3")
    assert "kept the existing settings.toml" in lines
    assert any("no CIRCUITPY_PYSTACK_SIZE" in line for line in lines)  # an older drive's
    assert (drive / "settings.toml").read_text() == "BADGE_SAMPLE_PERIOD_S = 30\n"
    for name in ("boot.py", "code.py"):
        assert (drive / name).is_file(), name
    for name in ("firmware/app", "lib/adafruit_displayio_ssd1306", "lib/adafruit_miniqr",
                 "lib/asyncio/core", "lib/adafruit_bus_device/i2c_device"):
        assert (drive / (name + suffix)).is_file(), name + suffix
    assert lines[-3].startswith("deployed %d files" % _deployed_files()), lines[-3]
    # The circup requirements list the same libraries.
    listed = [line.strip() for line in
              (REPO / "sim/tools/templates/circup-requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert sorted(listed) == sorted(BADGE_DISTRIBUTIONS.values())


def test_badge_runs_from_a_deployed_drive_alone(tmp_path, make_badge):
    drive = fake_drive(tmp_path / "d")
    list(deploy(drive, source=True))
    badge = make_badge(code_root=drive, drive_dir=drive, strict_libs=True,
                       temperature_c=21.5, humidity_rh=40)
    badge.run(30)
    assert_golden("climate_21.5C_40RH", badge.display.panel_pixels())


def test_a_drive_runs_its_own_libraries_when_the_repository_s_are_imported(tmp_path,
                                                                           make_badge):
    """Other tests import the repository's lib/expresslink on CPython's clock; a badge
    run from a drive must import its own copy, on the simulator's clock (a stale one
    timed out CONNECT in real time, so the badge stayed offline under load)."""
    import expresslink.channel  # noqa: F401 (the repository's copy, as a test imports it)

    drive = fake_drive(tmp_path / "d")
    list(deploy(drive, source=True))
    badge = make_badge(code_root=drive, drive_dir=drive, strict_libs=True)
    badge.run(30)
    assert any("cloud: connected as badge-1" in line for line in badge.console), \
        badge.console[-8:]
    assert Path(sys.modules["expresslink.channel"].__file__).is_relative_to(drive.resolve())


def test_a_drive_missing_a_library_fails_as_on_the_badge(tmp_path, make_badge):
    drive = fake_drive(tmp_path / "d")
    list(deploy(drive, source=True))
    (drive / "lib" / "adafruit_ticks.py").unlink()
    badge = make_badge(code_root=drive, drive_dir=drive, strict_libs=True)
    with pytest.raises(ModuleNotFoundError, match="CIRCUITPY/lib"):
        badge.run(5)


def test_cli_deploy_reports_and_fails_cleanly(tmp_path):
    drive = fake_drive(tmp_path / "d")
    done = sim("deploy", str(drive))
    assert done.returncode == 0, done.stderr
    assert "compiled lib/adafruit_miniqr (adafruit-circuitpython-miniqr 2.1.9)" in done.stdout
    assert "deployed %d files" % _deployed_files() in done.stdout
    refused = sim("deploy", str(tmp_path / "missing"))
    assert refused.returncode == 1
    assert "is not a folder" in refused.stderr


def test_cli_runs_a_source_drive_and_refuses_an_mpy_drive(tmp_path):
    drive = fake_drive(tmp_path / "d")
    assert sim("deploy", "--source", str(drive)).returncode == 0
    shot = tmp_path / "out.png"
    done = sim("run", "--root", str(drive), "--headless", "--duration", "30",
               "--virtual-time", "--temperature", "21.5", "--humidity",
               "40", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    pixels = bytes(1 if p else 0 for p in Image.open(shot).convert("1").get_flattened_data())
    assert_golden("climate_21.5C_40RH", pixels)
    assert sim("deploy", str(drive)).returncode == 0  # the same drive, now .mpy
    refused = sim("run", "--root", str(drive), "--headless", "--duration", "5",
                  "--virtual-time")
    assert refused.returncode == 2
    assert "holds .mpy modules" in refused.stderr
    assert "deploy --source" in refused.stderr


def test_cli_headless_run_writes_the_frame(tmp_path):
    shot = tmp_path / "out.png"
    done = sim("run", "--headless", "--duration", "60", "--virtual-time",
               "--temperature", "21.5", "--humidity", "40", "--screenshot", str(shot),
               "--scale", "3")
    assert done.returncode == 0, done.stderr
    image = Image.open(shot)
    assert image.size == (128, 64)
    assert Image.open(tmp_path / "out-x3.png").size == (384, 192)
    pixels = bytes(1 if p else 0 for p in image.convert("1").get_flattened_data())
    assert_golden("climate_21.5C_40RH", pixels)


@pytest.mark.parametrize("args, message", [
    (["run", "--headless", "--virtual-time"], "--virtual-time needs --duration"),
    (["run", "--headless", "--temperature", "hot"], "'hot' is not a number"),
    (["run", "--headless", "--humidity", "140"], "0..100"),
    (["run", "--headless", "--root", "/nonexistent"], "has no code.py"),
])
def test_cli_refuses_bad_options_with_a_reason(args, message):
    done = sim(*args)
    assert done.returncode == 2
    assert message in done.stderr
