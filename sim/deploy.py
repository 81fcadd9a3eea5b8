"""``python -m sim deploy CIRCUITPY_DIR``: put everything the badge needs on its drive.

Copies boot.py, code.py, firmware/ and lib/ from this repository, and the ``.py``
files of the pinned Adafruit libraries from the installed host packages (so it works
offline), into the drive; writes settings.toml from the template only when the drive
has none. The drive must run CircuitPython 9 or newer (read from boot_out.txt).
"""

import importlib.metadata
import re
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
MIN_CIRCUITPYTHON = 9

# PyPI distribution -> top-level module or package it installs on the badge.
BADGE_DISTRIBUTIONS = {
    "adafruit-circuitpython-sht31d": "adafruit_sht31d",
    "adafruit-circuitpython-displayio-ssd1306": "adafruit_displayio_ssd1306",
    "adafruit-circuitpython-display-text": "adafruit_display_text",
    "adafruit-circuitpython-miniqr": "adafruit_miniqr",
    "adafruit-circuitpython-ticks": "adafruit_ticks",
    "adafruit-circuitpython-busdevice": "adafruit_bus_device",
    "adafruit-circuitpython-asyncio": "asyncio",
}


class DeployError(Exception):
    """Deployment refused; the message says why and what to do."""


def circuitpython_version(drive):
    """(major, minor, text) from the drive's boot_out.txt, or None if there is none."""
    boot_out = Path(drive) / "boot_out.txt"
    if not boot_out.exists():
        return None
    first = boot_out.read_text(errors="replace").splitlines()[:1]
    match = re.search(r"CircuitPython (\d+)\.(\d+)", first[0] if first else "")
    if not match:
        raise DeployError("%s does not say which CircuitPython runs (first line: %r)"
                          % (boot_out, first[0] if first else ""))
    return int(match.group(1)), int(match.group(2)), first[0].strip()


def library_files(distribution, top):
    """(installed path, path relative to lib/) of the .py files of ``top``."""
    files = importlib.metadata.distribution(distribution).files or []
    found = []
    for entry in files:
        parts = Path(entry).parts
        if not parts or parts[0] not in (top, top + ".py") or entry.suffix != ".py":
            continue
        found.append((Path(entry.locate()).resolve(), Path(*parts)))
    if not found:
        raise DeployError("package %s has no %s files installed; run `make deps`"
                          % (distribution, top))
    return found


def write_settings_template(drive):
    """Write settings.toml from the template unless the drive already has one."""
    target = Path(drive) / "settings.toml"
    if target.exists():
        return False
    Path(drive).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / "settings.toml", target)
    return True


def _copy_tree(source, target):
    count = 0
    for path in sorted(source.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        count += 1
    return count


def deploy(drive, *, force=False, repo=REPO_ROOT):
    """Copy the badge's files onto ``drive``; yields one line per step."""
    drive = Path(drive)
    if not drive.is_dir():
        raise DeployError("%s is not a folder: mount the badge's CIRCUITPY drive and "
                          "pass its path" % drive)
    version = circuitpython_version(drive)
    if version is None:
        if not force:
            raise DeployError("%s has no boot_out.txt, so it does not look like a "
                              "CIRCUITPY drive (use --force to deploy anyway)" % drive)
        yield "no boot_out.txt; deploying anyway (--force)"
    elif version[0] < MIN_CIRCUITPYTHON:
        raise DeployError("the badge runs %s; install CircuitPython %d or newer first "
                          "(https://circuitpython.org/board/raspberry_pi_pico/)"
                          % (version[2], MIN_CIRCUITPYTHON))
    else:
        yield "found %s" % version[2]
    for name in ("boot.py", "code.py"):
        shutil.copyfile(repo / name, drive / name)
        yield "copied %s" % name
    for folder in ("firmware", "lib"):
        target = drive / folder
        count = _copy_tree(repo / folder, target)
        yield "copied %s/ (%d files)" % (folder, count)
    for distribution, top in BADGE_DISTRIBUTIONS.items():
        files = library_files(distribution, top)
        for source, relative in files:
            dest = drive / "lib" / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        version_text = importlib.metadata.version(distribution)
        yield "copied lib/%s (%s %s, %d files)" % (top, distribution, version_text,
                                                   len(files))
    if write_settings_template(drive):
        yield "wrote settings.toml from the template"
    else:
        yield "kept the existing settings.toml"
    yield "done: eject the drive; the badge restarts with the new firmware"
