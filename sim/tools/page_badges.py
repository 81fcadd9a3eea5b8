"""The badge behind the page, for either engine, with its hub (sim/web/hub.py).

``build_badge(args)`` takes the options of ``python -m sim`` and returns
``(badge, hub, scratch folder or None)``; options it cannot honour raise
:class:`~sim.tools.run_options.UsageError`, which says what is wrong.
The CPython engine runs on a virtual clock with a :class:`~sim.core.pace.Pace` (time
control); the CircuitPython engine on its emulated RP2040's time (none).
"""

from pathlib import Path


def build_badge(args):
    if args.engine == "circuitpython":
        return _circuitpython(args)
    return _cpython(args)


def _cpython(args):
    from sim.core.pace import Pace, parse_rate
    from sim.engines.cpython.badge import VirtualBadge
    from sim.tools.run_options import cpython_drive, cpython_root
    from sim.web.hub import Hub

    root = cpython_root(args, deploy_hint="python -m sim deploy %s --source")
    drive, scratch = cpython_drive(args, root)
    pace = Pace(rate=parse_rate(args.rate))
    badge = VirtualBadge(
        code_root=root or Path(__file__).resolve().parents[2], drive_dir=drive,
        virtual_time=True, pace=pace, temperature_c=args.temperature,
        humidity_rh=args.humidity, strict_libs=root is not None, echo=args.console,
        seed=args.seed, module=not args.no_module, broker_url=args.broker,
        broker_listen=args.listen or ("127.0.0.1", 1883), thing=args.thing,
        cp_version=args.cp)
    return badge, Hub(badge, pace, bus=bool(args.record)), scratch


def _circuitpython(args):
    from sim.engines.circuitpython.cli import build_badge as build_circuitpython_badge
    from sim.web.hub import Hub

    badge, _drive, scratch = build_circuitpython_badge(args, args.listen or ("127.0.0.1", 1883))
    return badge, Hub(badge, bus=bool(args.record)), scratch
