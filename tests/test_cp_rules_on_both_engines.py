"""The rules the CPython engine's shims copy, checked against the real CircuitPython.

``tests/cp_programs/cp_rules`` prints what it sees of asyncio sleeps, ``os.getenv``,
``sys.print_exception``, the drive before a remount and ``busio``'s argument checks and
errors. It runs on the CircuitPython engine (the official firmware) and on the CPython
engine with the same version chosen; their check lines must be the same. Skipped, with
what is missing, when the CircuitPython engine cannot run here.
"""

import shutil
from pathlib import Path

import pytest

from sim.engines.circuitpython.harness import why_missing

PROGRAM = Path(__file__).resolve().parent / "cp_programs" / "cp_rules"
VERSIONS = ("9.2.1", "10.2.1")
LIBRARIES = ("asyncio", "adafruit_ticks")


def checks(lines):
    return [line.strip() for line in lines if line.startswith("check ")]


def on_circuitpython(tmp_path, version):
    from sim.engines.circuitpython import harness
    from sim.engines.circuitpython.drive import test_drive

    drive = test_drive(tmp_path / "cp-drive", [PROGRAM / "code.py", PROGRAM / "settings.toml"],
                       LIBRARIES)
    run = harness.run_program(drive, version, [("check done", harness.stop, 0.01)], 60.0)
    return checks(run.lines)


def on_cpython(tmp_path, version):
    from sim.engines.cpython.badge import VirtualBadge

    root = tmp_path / "cpython-drive"
    shutil.copytree(PROGRAM, root)
    badge = VirtualBadge(code_root=root, drive_dir=root, module=False, cp_version=version)
    badge.run(10)
    return checks(badge.console)


@pytest.mark.parametrize("version", VERSIONS)
def test_cpython_engine_sees_what_circuitpython_does(tmp_path, version):
    missing = why_missing(version)
    if missing:
        pytest.skip(missing)
    cpython = on_cpython(tmp_path, version)
    assert cpython[-1] == "check done", cpython
    real = on_circuitpython(tmp_path, version)
    assert real[-1] == "check done", real
    assert cpython == real
