"""The truth: the badge firmware itself on the official CircuitPython (``make truth``).

Each test deploys this checkout (``.mpy``, as ``python -m sim deploy`` does) and runs it
on 9.2.1 and 10.2.1 under the CircuitPython engine, with the simulator's own chips,
module and embedded broker: content through the cloud (photo, QR code decoded back
from the panel, name), a soft reload in the middle of a run, ten emulated minutes online
with every reading at the broker in order, and the climate screen equal to the CPython
engine's frame. A badge whose code.py ends (a crash the firmware did not contain) fails
at once with its traceback: the failure is the firmware's, named.

Not part of ``make test``; slow: the running badge keeps the RP2040 busy (CircuitPython's
asyncio polls without sleeping in WFI), and a busy RP2040 runs at about 0.23x real time
here, so the ten-minute test takes about 45 minutes per version, the others 2-8 each.
``make truth`` runs each version in its own process, side by side (``tests/truth/run``);
``BADGE_TRUTH_CP="9.2.1"`` chooses the versions of one pytest run.
"""

import os

import pytest
from PIL import Image

from sim.content.deliver import BadgeScript, deliver, sleep_until
from sim.content.payloads import photo_payload
from sim.deploy import write_settings_template
from sim.engines.circuitpython.harness import CodeEndWatch
from sim.engines.circuitpython.parts import MissingPart, find_parts
from sim.engines.circuitpython.report import RunReport

VERSIONS = tuple(os.environ.get("BADGE_TRUTH_CP", "9.2.1 10.2.1").split())
THING = "badge-1"
QR_TEXT = "https://example.org/talks/42"
NAME = "Ada Lovelace"
SUBSCRIBED_BY_S = 60.0  # emulated: the badge must be online and subscribed by then


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    try:
        find_parts(VERSIONS[-1])
    except MissingPart as missing:
        pytest.skip(str(missing))
    from sim.engines.circuitpython.drive import deploy_checkout

    folder = tmp_path_factory.mktemp("truth-drive")
    deploy_checkout(folder)
    return folder


def run_badge(drive, version, duration_s, body=None, reload_at=None, **options):
    """Run the deployed badge; returns (badge, report, body result), where report is the
    run's :class:`RunReport` with its figures in ``report.facts``."""
    from sim.engines.circuitpython.badge import CircuitPythonBadge

    badge = CircuitPythonBadge(drive, version=version, thing=THING, **options)
    report = RunReport(badge)
    watch = CodeEndWatch(badge)
    script = BadgeScript(badge, lambda url: body(url, badge)) if body else None
    if reload_at is not None:
        badge.at(reload_at, badge.soft_reload)
    badge.run(duration_s)
    facts = report.facts = report.as_dict(badge.wall_s)
    assert watch.ended_s is None and not facts["tracebacks"]["count"], (
        "the badge's code.py ended at %s s on CircuitPython %s:\n%s"
        % (watch.ended_s, version, "\n\n".join(facts["tracebacks"]["texts"])
           or "\n".join(badge.console.lines[-30:])))
    return badge, report, script.result() if script else None


async def wait_subscribed(badge):
    """Until the badge has subscribed to its content topics (online)."""
    while not any(body.upper().startswith(b"+SUBSCRIBE4") and reply.startswith(b"OK")
                  for _t, body, reply in badge.module.history):
        assert badge.clock.now() < SUBSCRIBED_BY_S, "not subscribed by %s s" % SUBSCRIBED_BY_S
        await sleep_until(badge.clock, badge.clock.now() + 0.5)
    await sleep_until(badge.clock, badge.clock.now() + 1.0)


def panel(badge):
    return list(badge.display.panel_pixels())


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("version", VERSIONS)
def test_content_through_the_cloud(drive, version, tmp_path):
    import zxingcpp
    from test_badge_content import sample_picture

    source = tmp_path / "picture.jpg"
    sample_picture().save(source, quality=90)
    payload, preview, _info = photo_payload(source, dither="floyd")

    async def body(url, badge):
        await wait_subscribed(badge)
        shots = {}
        for kind, value in (("photo", payload), ("qr", QR_TEXT), ("name", NAME)):
            await deliver(url, THING, kind, value)
            await sleep_until(badge.clock, badge.clock.now() + 3.0)
            shots[kind] = panel(badge)
        return shots

    badge, _report, shots = run_badge(drive, version, 90, body)
    expected = [1 if p else 0 for p in preview.convert("1").get_flattened_data()]
    assert shots["photo"] == expected
    image = Image.new("L", (128, 64))
    image.putdata([255 if p else 0 for p in shots["qr"]])
    big = image.resize((512, 256), Image.Resampling.NEAREST)
    codes = zxingcpp.read_barcodes(big, formats=zxingcpp.BarcodeFormat.QRCode,
                                   try_invert=False)
    assert [code.text for code in codes] == [QR_TEXT]
    reported = badge.cloud.shadows.document(THING)["state"]["reported"]
    assert reported["name"] == NAME


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("version", VERSIONS)
def test_soft_reload_in_the_middle_of_a_run(drive, version):
    badge, report, _ = run_badge(drive, version, 100, reload_at=45)
    assert report.facts["soft_reloads"] == 1
    arrivals = report.telemetry.arrivals
    assert [t for t in arrivals if t < 45], "no reading before the reload"
    assert [t for t in arrivals if t > 60], "no reading after the reload"


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("version", VERSIONS)
def test_climate_screen_equals_the_cpython_engine(drive, version):
    from sim.badge import VirtualBadge

    badge, _report, _ = run_badge(drive, version, 45, temperature_c=21.5, humidity_rh=40)
    twin_drive = drive.parent / ("cpython-" + version)
    write_settings_template(twin_drive)
    twin = VirtualBadge(temperature_c=21.5, humidity_rh=40, drive_dir=twin_drive,
                        thing=THING)
    twin.run(45)
    assert panel(badge) == panel(twin)


@pytest.mark.timeout(7200)  # about 45 min of wall time per version at 0.23x
@pytest.mark.parametrize("version", VERSIONS)
def test_ten_minutes_online_every_reading_at_the_broker_in_order(drive, version):
    _badge, report, _ = run_badge(drive, version, 600)
    sequence = report.telemetry.sequence
    assert len(sequence) >= 600 // 10 - 3  # BADGE_SAMPLE_PERIOD_S = 10; a few to go online
    assert sequence == list(range(sequence[0], sequence[0] + len(sequence)))
    assert report.facts["mem_free_min"] is not None
