"""``make bench``, CircuitPython engine section: boot, speed and the bridge's cost.

- boot to first frame: emulated seconds from power-up until the badge's own deployed
  firmware first lights pixels on the SSD1306;
- speed: emulated seconds per wall second while booting, while busy (a tight loop of
  I2C writes), waiting in asyncio (CircuitPython's poll loop never sleeps the CPU; the
  engine skips its idle turns, node/idle.mjs) and in ``time.sleep`` (emulated time
  jumps to the next alarm whenever the CPU waits for an interrupt);
- the bridge's cost: wall time the RP2040 spends waiting on Python per I2C transaction
  and per UART byte, with the whole phase's wall time against the same program with
  Node ACKing the addresses itself and nobody on the UART (same wire time, no bridge).
"""

import tempfile
import time
from pathlib import Path

from sim.engines.circuitpython.badge import CircuitPythonBadge
from sim.engines.circuitpython.parts import DEFAULT_VERSION, MissingPart, find_parts

PROGRAM = Path(__file__).resolve().parent / "bench_program" / "code.py"


def _phases(drive, version, local):
    """{phase: (emulated s, wall s, count)} of one run of the bench program."""
    badge = CircuitPythonBadge(drive, version=version, module=not local,
                               local_chips=[0x3C, 0x44] if local else None)
    marks = {}

    def on_line(line, time_s):
        words = line.split()
        if len(words) >= 3 and words[0] == "bench":
            marks[(words[1], words[2])] = (time_s, time.perf_counter(), words[3:],
                                           badge.bridge.link_wall_s)
            if words[1:3] == ["idle", "end"]:
                badge.stop()

    badge.console.on_line.append(on_line)
    started = time.perf_counter()
    badge.run(60.0)
    phases = {"boot": (marks[("i2c", "start")][0], marks[("i2c", "start")][1] - started, 0,
                       0.0)}
    for name in ("i2c", "uart", "asyncio", "idle"):
        (t0, w0, count, b0), (t1, w1, extra, b1) = marks[(name, "start")], marks[(name, "end")]
        number = int(count[0]) if count else 0
        if name == "uart" and extra:
            number += int(extra[0])
        phases[name] = (t1 - t0, w1 - w0, number, b1 - b0)
    phases["stats"] = badge.bridge.node_stats
    return phases


RUNNING_S = 120.0  # emulated seconds of the running badge (online, a reading every 10 s)


def running_badge(version):
    """(emulated s, wall s, node stats) of the deployed badge running online."""
    from sim.engines.circuitpython.drive import deploy_checkout

    with tempfile.TemporaryDirectory() as tmp:
        deploy_checkout(tmp)
        badge = CircuitPythonBadge(tmp, version=version)
        started = time.perf_counter()
        badge.run(RUNNING_S)
        return badge.clock.now(), time.perf_counter() - started, badge.bridge.node_stats


def boot_to_first_frame(version):
    """Emulated seconds until the deployed badge firmware first lights the panel."""
    from sim.engines.circuitpython.drive import deploy_checkout

    with tempfile.TemporaryDirectory() as tmp:
        deploy_checkout(tmp)
        badge = CircuitPythonBadge(tmp, version=version)
        badge.console.on_line.append(
            lambda line, t: badge.stop() if badge.first_frame.time_s is not None else None)
        badge.run(20.0)
        return badge.first_frame.time_s, badge.wall_s


def report(out=print, version=DEFAULT_VERSION):
    try:
        find_parts(version)
    except MissingPart as missing:
        out("CircuitPython engine: not measured: %s" % missing)
        return
    first_s, wall_s = boot_to_first_frame(version)
    out("CircuitPython %s engine: boot to the badge's first frame %.2f emulated s "
        "(%.1f s of wall time)" % (version, first_s, wall_s))
    emulated, wall, stats = running_badge(version)
    out("  emulated s per wall s, the badge running online: %.2f (%.0f emulated s in %.1f "
        "wall s, boot included; %.0f%% of emulated time skipped in the poll loop's idle "
        "turns, %.0f%% in WFI)"
        % (emulated / wall, emulated, wall, 100 * stats.get("skippedNanos", 0) / 1e9 / emulated,
           100 * stats.get("idleNanos", 0) / 1e9 / emulated))
    with tempfile.TemporaryDirectory() as tmp:
        from sim.engines.circuitpython.drive import test_drive

        drive = test_drive(Path(tmp), [PROGRAM], ["asyncio", "adafruit_ticks"])
        bridged = _phases(drive, version, local=False)
        local = _phases(drive, version, local=True)
    for name, what in (("boot", "booting"), ("i2c", "busy with I2C"),
                       ("asyncio", "in asyncio.sleep"), ("idle", "in time.sleep")):
        emulated, wall, _, _ = bridged[name]
        out("  emulated s per wall s, %s: %.2f (%.2f emulated s in %.2f wall s)"
            % (what, emulated / wall, emulated, wall))
    for name, unit in (("i2c", "I2C transaction"), ("uart", "UART byte (sent + received)")):
        e1, w1, n1, linked = bridged[name]
        w0 = local[name][1]
        out("  bridge cost per %s: %.0f us of wall time waiting on Python (%d in %.2f s; "
            "the whole phase %.2f s bridged, %.2f s with Node ACKing by itself and no "
            "UART peer; wire time %.1f emulated ms either way)"
            % (unit, linked / max(n1, 1) * 1e6, n1, linked, w1, w0, e1 * 1e3))
    stats = bridged["stats"]
    out("  %d syncs with Python, %d instructions, %.1f emulated s skipped in WFI, %.1f in "
        "%d idle turns of the poll loop"
        % (stats.get("syncs", 0), stats.get("instructions", 0),
           stats.get("idleNanos", 0) / 1e9, stats.get("skippedNanos", 0) / 1e9,
           stats.get("skips", 0)))
