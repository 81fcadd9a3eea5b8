"""Command line of the simulator: ``python -m sim [command] [options]``.

With no command it runs the main job: the virtual badge behind a page in the browser
(``page``, sim/tools/web_view.py); ``--view terminal`` draws it in the terminal instead.
``python -m sim COMMAND --help`` explains each command.
"""

import argparse
import shutil
import signal
import sys
import time
from pathlib import Path

from sim.tools.run_options import UsageError, cpython_drive, cpython_root, startup_items


def _number(text, low=None, high=None, what="a value"):
    """argparse type: a float, optionally within [low, high], or a clear refusal."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise argparse.ArgumentTypeError("%s is %s..%s, got %s" % (what, low, high, text))
    return value


def _positive_float(text):
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0, got %s" % text)
    return value


def _humidity(text):
    return _number(text, 0, 100, "relative humidity (%)")


def _temperature(text):
    return _number(text, -40, 125, "what the SHT31-D measures (deg C)")


def _listen(text):
    """argparse type: HOST:PORT for an embedded broker to listen on."""
    from sim.cloud.run import parse_listen

    try:
        return parse_listen(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _broker_url(text):
    """argparse type: mqtt://host:port or mqtts://host:port, checked before the run."""
    from sim.cloud.mqtt_link import parse_broker_url

    try:
        parse_broker_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _add_run_options(parser):
    parser.add_argument("--headless", action="store_true",
                        help="no live view (for scripts and CI)")
    parser.add_argument("--duration", type=_positive_float, metavar="S",
                        help="stop after S simulated seconds")
    parser.add_argument("--virtual-time", action="store_true",
                        help="run on a virtual clock: deterministic, far faster than "
                             "real time (needs --duration)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="write the last frame as a 128x64 PNG")
    parser.add_argument("--scale", type=int, default=1, metavar="N",
                        help="also write the screenshot scaled N times as NAME-xN.png")
    parser.add_argument("--temperature", type=_temperature, default=22.0, metavar="C",
                        help="temperature the sensor reports, deg C (default 22)")
    parser.add_argument("--humidity", type=_humidity, default=45.0, metavar="RH",
                        help="relative humidity the sensor reports, %% (default 45)")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="let readings wander like a real room's (about 0.05 deg C, "
                             "0.3 %%RH), the same way for the same seed; default: steady")
    parser.add_argument("--root", metavar="DIR",
                        help="run the firmware from a deployed CIRCUITPY folder")
    parser.add_argument("--drive", metavar="DIR",
                        help="folder the badge uses as its drive (default: a fresh "
                             "temporary one; with --root, the root itself)")
    parser.add_argument("--console", action="store_true",
                        help="echo the badge's console (headless runs)")
    parser.add_argument("--broker", type=_broker_url, metavar="URL",
                        help="MQTT broker for the module (mqtt://host:port or "
                             "mqtts://host:port); default: an embedded one in this process")
    parser.add_argument("--listen", type=_listen, metavar="HOST:PORT",
                        help="where the embedded broker listens (default 127.0.0.1:1883 "
                             "in real time, a free port with --virtual-time)")
    parser.add_argument("--thing", default="badge-1", metavar="NAME",
                        help="the ExpressLink module's ThingName (default badge-1)")
    parser.add_argument("--no-module", action="store_true",
                        help="run without the ExpressLink module (offline badge)")
    parser.add_argument("--qr", metavar="TEXT", help="deliver this QR text at start-up")
    parser.add_argument("--photo", metavar="IMAGE",
                        help="deliver this image (any format Pillow reads) at start-up")
    parser.add_argument("--name", metavar="NAME", help="deliver this name at start-up")
    parser.add_argument("--screen", choices=("name", "photo", "qr", "climate", "status"),
                        help="choose the screen at start-up (through the device shadow)")
    from sim.engines import ENGINES
    from sim.engines.circuitpython.parts import DEFAULT_VERSION, VERSIONS

    parser.add_argument("--engine", choices=ENGINES, default="cpython",
                        help="cpython: the firmware on CPython with shims (default); "
                             "circuitpython: the official CircuitPython UF2 on an emulated "
                             "RP2040, running the deployed drive (--root, or this checkout "
                             "deployed to a temporary drive); its time is always emulated")
    parser.add_argument("--cp", choices=VERSIONS, default=DEFAULT_VERSION, metavar="VERSION",
                        help="CircuitPython version: %s (default %s)"
                             % (", ".join(VERSIONS), DEFAULT_VERSION))
    parser.add_argument("--report", metavar="FILE",
                        help="write what the run did as JSON (engine, times, tracebacks, "
                             "soft reloads, readings at the broker, free heap)")
    parser.add_argument("--reload-at", type=_positive_float, metavar="S",
                        help="soft reload (Ctrl-C, Ctrl-D on the console) at S seconds")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="The conference badge's virtual twin. With no command: the badge "
                    "page (python -m sim page: the badge live in a browser page; see "
                    "python -m sim page --help for its options).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run one virtual badge")
    _add_run_options(run)

    from sim.tools.web_view import add_page_options, add_replay_command

    page = sub.add_parser("page", help="the badge live in a browser page (the default)")
    _add_run_options(page)
    add_page_options(page)
    add_replay_command(sub)

    deploy = sub.add_parser("deploy", help="copy the firmware onto a CIRCUITPY drive")
    deploy.add_argument("drive", metavar="CIRCUITPY_DIR")
    deploy.add_argument("--force", action="store_true",
                        help="deploy even if boot_out.txt is missing")
    deploy.add_argument("--source", action="store_true",
                        help="copy .py files instead of compiling to .mpy (debugging, "
                             "the CPython engine)")

    bench = sub.add_parser("bench", help="measure speed, stalls and bus costs")
    bench.add_argument("--duration", type=_positive_float, default=600.0, metavar="S",
                       help="simulated seconds for the speed figure (default 600)")
    from sim.tools.cloud_cli import add_cloud_commands

    parser.cloud_handlers = add_cloud_commands(sub)
    return parser


def _run(args):
    if args.engine == "circuitpython":
        from sim.engines.circuitpython.cli import run_circuitpython

        return run_circuitpython(args)
    from sim.engines.cpython.badge import VirtualBadge

    if args.virtual_time and args.duration is None:
        print("--virtual-time needs --duration S: a virtual clock runs as fast as it "
              "can, so it must know when to stop", file=sys.stderr)
        return 2
    root = cpython_root(args)
    items = startup_items(args)
    listen = args.listen or ("127.0.0.1", 0 if args.virtual_time else 1883)
    drive, scratch = cpython_drive(args, root)
    badge = VirtualBadge(
        code_root=root or Path(__file__).resolve().parents[2], drive_dir=drive,
        virtual_time=args.virtual_time, temperature_c=args.temperature,
        humidity_rh=args.humidity, strict_libs=root is not None,
        echo=args.console, seed=args.seed, module=not args.no_module,
        broker_url=args.broker, broker_listen=listen, thing=args.thing,
        cp_version=args.cp)
    report = None
    if args.report:
        from sim.engines.circuitpython.report import RunReport

        report = RunReport(badge)
    if args.reload_at is not None:
        badge.at(args.reload_at, lambda: badge.runtime.soft_reload())
    started = time.monotonic()
    startup = None
    if items or args.screen:
        from sim.content.startup import StartupContent

        startup = StartupContent(badge, items, args.screen)
    try:
        # Ctrl-C ends the run the way --duration does: parts shut down cleanly.
        badge.on_loop(lambda loop: loop.add_signal_handler(signal.SIGINT, badge.stop))
        if args.headless:
            badge.run(args.duration)
        else:
            from sim.tools.interactive import attach_live_view

            with attach_live_view(badge):
                try:
                    badge.run(args.duration)
                except KeyboardInterrupt:
                    pass
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if report is not None:
        report.write(args.report, time.monotonic() - started)
        print("report: %s" % args.report)
    return finish_run(args, badge, startup, items)


def finish_run(args, badge, startup, items):
    """The end of a run on either engine: start-up errors, what content was delivered,
    the screenshot. Returns the exit code."""
    if badge.startup_error:
        print(badge.startup_error, file=sys.stderr)
        return 1
    if startup is not None:
        for kind, size in startup.delivered:
            print("delivered %s: %d bytes" % (kind, size))
        if startup.error is not None:
            print("start-up content: %s" % startup.error, file=sys.stderr)
            return 1
        if len(startup.delivered) < len(items):
            print("start-up content: the run ended before everything was delivered; "
                  "give it a longer --duration", file=sys.stderr)
            return 1
    if args.screenshot:
        shot = Path(args.screenshot)
        badge.screenshot(shot)
        print("screenshot: %s (128x64)" % shot)
        if args.scale > 1:
            scaled = shot.with_name("%s-x%d%s" % (shot.stem, args.scale, shot.suffix))
            badge.screenshot(scaled, scale=args.scale)
            print("screenshot: %s (%dx%d)" % (scaled, 128 * args.scale, 64 * args.scale))
    return 0


def _deploy(args):
    from sim.tools.deploy import DeployError, deploy

    try:
        for line in deploy(Path(args.drive), force=args.force, source=args.source):
            print(line)
    except DeployError as error:
        print("deploy: %s" % error, file=sys.stderr)
        return 1
    return 0


def _bench(args):
    from sim.bench.run import main as bench_main

    return bench_main(args)


def main(argv=None):
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["page"] + argv  # no command: the page, with its options
    args = parser.parse_args(argv)
    from sim.tools.web_view import run_page, run_replay

    handlers = {"run": _run, "page": run_page, "replay": run_replay, "deploy": _deploy,
                "bench": _bench}
    handlers.update(parser.cloud_handlers)
    try:
        return handlers[args.command](args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
