"""Fixtures for the page's server: a CPython-engine badge behind it, on a paced virtual
clock (100x by default: ten simulated seconds take a tenth of a second)."""

import pytest

from web_harness import LiveBadge


@pytest.fixture
def live(tmp_path):
    """Factory: ``live(rate=100, recorder=None, **VirtualBadge options)`` -> a started
    LiveBadge; stopped (and checked to have stopped cleanly) after the test."""
    from sim.core.pace import Pace
    from sim.engines.cpython.badge import VirtualBadge
    from sim.tools.deploy import write_settings_template

    started = []

    def make(rate=100, recorder=None, **options):
        drive = tmp_path / ("drive%d" % len(started))
        drive.mkdir()
        write_settings_template(drive)
        pace = Pace(rate=rate)
        options.setdefault("broker_listen", ("127.0.0.1", 0))
        badge = VirtualBadge(drive_dir=drive, virtual_time=True, pace=pace, **options)
        harness = LiveBadge(badge, pace, recorder=recorder)
        started.append(harness)
        return harness.start()

    yield make
    for harness in started:
        harness.stop()
