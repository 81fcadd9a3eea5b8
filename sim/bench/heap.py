"""Heap bench: what the badge's modules keep of a Pico's heap, per CircuitPython version.

The checkout is deployed (``.mpy``, as ``python -m sim deploy`` does) with a program of
its own in place of ``code.py`` (``tests/cp_programs/heap/code.py``): it imports each
module the badge ships, dependencies first, and prints the heap each one keeps after
``gc.collect()``. The figure at steady state (everything running, every screen drawn)
is the badge's own, from ``run --engine circuitpython --report``: see
docs/hardware-and-settings.md (Heap budget).
"""

import shutil
import tempfile
from pathlib import Path

from portability.import_graph import module_imports

PROGRAM = Path(__file__).resolve().parents[2] / "tests" / "cp_programs" / "heap" / "code.py"
VERSIONS = ("9.2.1", "10.2.1")


def import_order():
    """Every module the badge ships, each after the modules it imports."""
    from sim.tools.deploy import deploy_plan

    shipped, _left_out = deploy_plan()
    files = {name: Path(source) for name, (source, _where) in shipped.items()}
    needs = {name: sorted(d for d in module_imports(name, file, files) if d in files and d != name)
             for name, file in files.items()}
    order, seen = [], set()

    def visit(name):
        if name not in seen:
            seen.add(name)
            for needed in needs[name]:
                visit(needed)
            order.append(name)

    for name in sorted(files):
        visit(name)
    return order


def measure(version, drive):
    """``{"start": bytes, "imports": bytes, "free": bytes, "modules": {name: bytes}}``."""
    from sim.engines.circuitpython.harness import run_program, stop

    run = run_program(drive, version, [("heap imports", stop, 0.01)], duration_s=60)
    found = {"modules": {}, "failed": []}
    # Only the run with the console attached: the first one, cut short by the host's
    # Ctrl-C, may leave a line half printed.
    starts = [index for index, line in enumerate(run.lines) if "code.py output:" in line]
    for line in run.lines[starts[-1] + 1 if starts else 0:]:
        words = line.split()
        if line.startswith("heap start"):
            found["start"] = int(words[2])
        elif line.startswith("heap mod"):
            found["modules"][words[2]] = int(words[3])
        elif line.startswith("heap fail"):
            found["failed"].append(line)
        elif line.startswith("heap imports"):
            found["imports"], found["free"] = int(words[2]), int(words[4])
    return found


def report(out=print, versions=VERSIONS, top=12):
    from sim.engines.circuitpython.drive import deploy_checkout

    with tempfile.TemporaryDirectory() as folder:
        drive = Path(folder) / "CIRCUITPY"
        deploy_checkout(drive)
        shutil.copyfile(PROGRAM, drive / "code.py")
        (drive / "heap_order.txt").write_text("\n".join(import_order()) + "\n")
        out("heap (every module the badge ships, imported from .mpy; bytes kept after gc.collect())")
        for version in versions:
            found = measure(version, drive)
            if "imports" not in found:
                out("  CircuitPython %s: no figures (%s)" % (version, found["failed"] or "no output"))
                continue
            out("  CircuitPython %s: %d free at start, modules keep %d, %d free after"
                % (version, found["start"], found["imports"], found["free"]))
            packages = {}
            for name, size in found["modules"].items():
                key = name.split(".")[0] if not name.startswith("firmware") else name
                packages[key] = packages.get(key, 0) + size
            biggest = sorted(packages.items(), key=lambda item: -item[1])[:top]
            out("    biggest: " + ", ".join("%s %.1f KB" % (name, size / 1024)
                                            for name, size in biggest))
            for line in found["failed"]:
                out("    " + line)
