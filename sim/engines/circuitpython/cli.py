"""``python -m sim run --engine circuitpython``: one badge on the real CircuitPython.

The drive is ``--root DIR`` (a deployed CIRCUITPY folder, ``.mpy`` or ``.py``) or, by
default, this checkout deployed to a temporary folder first. Time is always the emulated
RP2040's: ``--duration`` counts emulated seconds, and ``--virtual-time`` changes
nothing. Headless runs go as fast as the emulator can (far faster than real time while
the RP2040 sleeps, slower while it computes); the live view keeps emulated time from
running ahead of the wall clock. Missing parts (Node, the npm package, the UF2) end the run with what is missing
and how to get it (exit code 2).
"""

import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from sim.tools.run_options import UsageError


def _drive(args):
    """(drive folder, scratch folder to remove or None); UsageError when the options
    name no drive this engine can run."""
    if args.drive:
        raise UsageError("--drive is for the CPython engine; the CircuitPython engine runs "
                         "the deployed folder given with --root")
    if args.root:
        root = Path(args.root).resolve()
        if not (root / "code.py").exists():
            raise UsageError("%s has no code.py: deploy first (python -m sim deploy %s)"
                             % (root, root))
        return root, None
    from sim.tools.deploy import DeployError
    from sim.engines.circuitpython.drive import deploy_checkout

    scratch = Path(tempfile.mkdtemp(prefix="badge-circuitpy-"))
    try:
        deploy_checkout(scratch)
    except DeployError as error:
        shutil.rmtree(scratch, ignore_errors=True)
        raise UsageError("deploy: %s" % error) from None
    return scratch, scratch


def _write_back(drive, files):
    """--root: the folder keeps what the badge wrote to its drive, as a board's would."""
    from sim.engines.circuitpython.drive import write_back

    try:
        written, removed = write_back(drive, files)
    except ValueError as error:
        print("drive: %s" % error, file=sys.stderr)
        return
    for what, paths in (("written", written), ("removed", removed)):
        if paths:
            print("drive: %s %s: %s" % (what, drive, ", ".join(paths)))


def build_badge(args, listen):
    """The CircuitPythonBadge the options ask for, on its drive: (badge, drive, scratch
    folder to remove afterwards or None). UsageError says what is wrong or missing."""
    from sim.engines.circuitpython.badge import CircuitPythonBadge
    from sim.engines.circuitpython.parts import MissingPart, find_parts

    try:
        find_parts(args.cp)
    except MissingPart as missing:
        raise UsageError("circuitpython engine: %s" % missing) from None
    drive, scratch = _drive(args)
    try:
        badge = CircuitPythonBadge(
            drive, version=args.cp, temperature_c=args.temperature,
            humidity_rh=args.humidity, seed=args.seed, module=not args.no_module,
            broker_url=args.broker, broker_listen=listen, thing=args.thing,
            echo=sys.stdout if args.console else None)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return badge, drive, scratch


def run_circuitpython(args):
    from sim.engines.circuitpython.report import RunReport
    from sim.tools.run_options import startup_items

    items = startup_items(args)
    badge, drive, scratch = build_badge(args, args.listen or ("127.0.0.1", 0))
    try:
        report = RunReport(badge) if args.report else None
        startup = None
        if items or args.screen:
            from sim.content.startup import StartupContent

            startup = StartupContent(badge, items, args.screen)
        if args.reload_at is not None:
            badge.at(args.reload_at, badge.soft_reload)
        badge.on_loop(lambda loop: loop.add_signal_handler(signal.SIGINT, badge.stop))
        started = time.monotonic()
        if args.headless:
            badge.run(args.duration)
        else:
            from sim.tools.interactive import attach_live_view

            with attach_live_view(badge):
                badge.run(args.duration, real_time=True)
        wall_s = time.monotonic() - started
        if scratch is None and badge.drive_files is not None:
            _write_back(drive, badge.drive_files)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print("CircuitPython %s: %.1f emulated s in %.1f s of wall time (%.2fx)"
          % (args.cp, badge.clock.now(), wall_s, badge.clock.now() / max(wall_s, 1e-9)))
    if report is not None:
        report.write(args.report, wall_s)
        print("report: %s" % args.report)
    from sim.tools.cli import finish_run

    return finish_run(args, badge, startup, items)
