"""CIRCUITPY folders for the engine: the deployed badge, or a small test drive.

:func:`deploy_checkout` runs ``python -m sim deploy`` into a folder (what ``run
--engine circuitpython`` uses without ``--root``). :func:`test_drive` makes a drive
of a few program files plus Adafruit libraries compiled to ``.mpy`` with CircuitPython's
own mpy-cross (:mod:`sim.tools.mpy_cross`), as a real badge would hold them.
"""

import shutil
from pathlib import Path

from sim.tools.deploy import BADGE_DISTRIBUTIONS, deploy, library_files, write_settings_template


def deploy_checkout(drive, *, source=False):
    """Deploy this checkout's firmware into ``drive`` (created if needed); the lines
    ``deploy`` printed."""
    drive = Path(drive)
    drive.mkdir(parents=True, exist_ok=True)
    lines = list(deploy(drive, force=True, source=source))
    write_settings_template(drive)
    return lines


def test_drive(drive, program_files, libraries=(), *, compiled=True):
    """Copy ``program_files`` (paths) to the top of ``drive`` and the named Adafruit
    libraries (top-level module names, e.g. ``"adafruit_sht31d"``) into ``drive/lib``,
    as ``.mpy`` (``compiled``) or ``.py``. Returns ``drive``."""
    from sim.tools import mpy_cross

    drive = Path(drive)
    (drive / "lib").mkdir(parents=True, exist_ok=True)
    for path in program_files:
        shutil.copyfile(path, drive / Path(path).name)
    by_module = {top: dist for dist, top in BADGE_DISTRIBUTIONS.items()}
    compiler = mpy_cross.find_mpy_cross() if compiled else None
    for top in libraries:
        for source, relative in library_files(by_module[top], top):
            target = drive / "lib" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if compiled:
                mpy_cross.compile_to(source, target.with_suffix(".mpy"),
                                     source_name=relative.as_posix(), compiler=compiler)
            else:
                shutil.copyfile(source, target)
    return drive


def write_back(drive, files):
    """Make ``drive`` hold what the badge left on its CIRCUITPY (``files``: {relative
    path: bytes}, as :func:`sim.engines.circuitpython.fat12.read_files` reads them), as a
    real board's drive would after the run. Returns (written, removed): relative paths."""
    drive = Path(drive).resolve()
    if "code.py" not in files:  # a drive read back half-written: keep the folder as it is
        raise ValueError("the badge's drive read back has no code.py: %s left unchanged"
                         % drive)
    written, removed = [], []
    for relative, data in sorted(files.items()):
        target = (drive / relative).resolve()
        if drive not in target.parents:
            raise ValueError("%r is outside the drive" % relative)
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(relative)
    for path in sorted(p for p in drive.rglob("*") if p.is_file()):
        relative = path.relative_to(drive).as_posix()
        if relative not in files:
            path.unlink()
            removed.append(relative)
    return written, removed
