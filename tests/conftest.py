"""Shared fixtures: a virtual badge on a fresh drive, on virtual time."""

import os
import sys
from pathlib import Path

import pytest

# Each pytest worker (pytest-xdist, `make test`) type checks with a mypy cache of its
# own: two mypy processes writing one cache stop with an INTERNAL ERROR. One per Python
# too (CI runs the tests on 3.13 and 3.11 in one checkout), so neither run finds the
# other's stubs in its cache.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("BADGE_MYPY_CACHE", str(
        Path(__file__).resolve().parents[1] / ".mypy_cache"
        / ("badge-py%d%d-%s" % (sys.version_info[:2] + (os.environ["PYTEST_XDIST_WORKER"],)))))


@pytest.fixture
def clock():
    """A fresh virtual clock at t = 0."""
    from sim.core.clock import VirtualClock

    return VirtualClock()


@pytest.fixture
def bus(clock):
    """An emulated I2C bus on ``clock``, already locked, for byte-level chip tests."""
    from sim.core.i2c_bus import I2CBus

    i2c = I2CBus(clock)
    assert i2c.try_lock()
    return i2c


@pytest.fixture
def make_badge(tmp_path):
    """Factory: ``make_badge(settings="KEY = 1\\n", **VirtualBadge options)``."""
    from sim.engines.cpython.badge import VirtualBadge
    from sim.tools.deploy import write_settings_template

    def make(settings=None, **options):
        drive = tmp_path / "drive"
        drive.mkdir(exist_ok=True)
        if settings is not None:
            (drive / "settings.toml").write_text(settings)
        else:
            write_settings_template(drive)
        options.setdefault("drive_dir", drive)
        return VirtualBadge(**options)

    return make
