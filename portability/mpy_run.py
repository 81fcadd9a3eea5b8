"""Run the badge's hardware-free modules and the tests/mpy scenarios in a MicroPython VM.

The VM sees a copy of the CIRCUITPY drive at ``/input``: ``firmware/``, ``lib/`` (ours
plus the CircuitPython asyncio port and the pure-Python Adafruit libraries), with the
import path the badge uses (the drive's root, then ``/lib``). Two checks:

- every hardware-free module of ``lib/`` and ``firmware/`` imports (one VM run for all,
  each import caught and reported with the guest's traceback);
- every ``tests/mpy/*.py`` scenario (files starting with ``_`` are helpers) runs in its
  own VM and ends by printing ``PASS``.

``python -m portability.mpy_run`` runs both and exits 1 on any failure;
``python -m portability.mpy_run tests/mpy/content_scenario.py ...`` runs only those scenarios
(``--root DIR`` for another tree than the repository).
"""

import argparse
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from portability import REPO_ROOT, display_path
from portability import mpy_vm
from portability.import_graph import hardware_reasons

SCENARIO_DIR = REPO_ROOT / "tests" / "mpy"
COMPAT_DIR = Path(__file__).with_name("mpy_compat")

# Pure-Python libraries copied into the VM's /lib: {import name: distribution}.
STAGED_LIBRARIES = {
    "asyncio": "adafruit-circuitpython-asyncio",
    "adafruit_ticks": "adafruit-circuitpython-ticks",
    "adafruit_miniqr": "adafruit-circuitpython-miniqr",
    "adafruit_bus_device": "adafruit-circuitpython-busdevice",
    "adafruit_sht31d": "adafruit-circuitpython-sht31d",
}

# The guest's import path: CircuitPython-named stand-ins, the drive's root, /lib.
GUEST_PATH = ["/input/_compat", "/input", "/input/lib"]
GUEST_SCENARIOS = "/input/_scenarios"
PORT_ASYNCIO = "/input/lib/asyncio/__init__.py"
MARK = "@@mpy-check"

# Runs first in every VM: the badge's import path, no garbage collection (see mpy_vm),
# and the built-in TimeoutError that CircuitPython has and MicroPython lacks.
_PRELUDE = """\
import gc
import sys
gc.disable()
sys.path.clear()
sys.path.extend({path!r})
import builtins
class TimeoutError(OSError):
    pass
builtins.TimeoutError = TimeoutError
del TimeoutError
"""

# MicroPython's C ``_asyncio`` compares task times modulo 2**30 ms; CircuitPython's
# (like adafruit_ticks, which the port's Python code uses) modulo 2**29. Across the
# 2**29 wrap only the port's own Python task queue (``asyncio/task.py``) orders tasks as
# the badge's C queue does; hiding ``_asyncio`` makes the port use it.
_PYTHON_TASK_QUEUE = """\
sys.modules["_asyncio"] = None
"""

_IMPORTS = """\
def _check_imports(names):
    import asyncio
    print({mark!r}, "ASYNCIO", asyncio.__file__)
    for name in names:
        print({mark!r}, "BEGIN", name)
        try:
            __import__(name)
        except BaseException as error:
            sys.print_exception(error, sys.stdout)
            print({mark!r}, "FAIL", name)
        else:
            print({mark!r}, "OK", name)
_check_imports({names!r})
"""

_SCENARIO = """\
def _run_scenario(name):
    try:
        module = __import__(name)
    except BaseException as error:
        sys.print_exception(error, sys.stdout)
        print({mark!r}, "FAIL")
        return
    print({mark!r}, "FILE", module.__file__)
_run_scenario({name!r})
"""


@dataclass(frozen=True)
class Outcome:
    """One module import or scenario in the VM."""

    name: str
    ok: bool
    output: str         # what the guest printed for it (traceback included)
    reason: str = ""    # why it failed, in one line

    def __str__(self):
        head = f"{'ok  ' if self.ok else 'FAIL'}  {self.name}" + (f": {self.reason}" if self.reason else "")
        if self.ok or not self.output.strip():
            return head
        return head + "\n" + "\n".join("      " + line for line in self.output.rstrip().splitlines())


def _copy_python(source, target):
    """Copy the .py files under ``source`` (a file or a folder) to ``target``."""
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return
    for file in source.rglob("*.py"):
        if "__pycache__" in file.parts:
            continue
        destination = target / file.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)


def _library_source(name, distribution):
    base = Path(metadata.distribution(distribution).locate_file(""))
    for candidate in (base / name, base / f"{name}.py"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} not found in the installed {distribution}")


@contextmanager
def staged(root=REPO_ROOT, scenario_dir=SCENARIO_DIR):
    """A temporary copy of the drive as the VM sees it; yields its folder."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="badge-mpy-") as folder:
        stage = Path(folder)
        (stage / "lib").mkdir()
        for name, distribution in STAGED_LIBRARIES.items():
            source = _library_source(name, distribution)
            _copy_python(source, stage / "lib" / source.name)
        for part in ("firmware", "lib"):
            if (root / part).is_dir():
                _copy_python(root / part, stage / part)
        _copy_python(COMPAT_DIR, stage / "_compat")
        if scenario_dir is not None and Path(scenario_dir).is_dir():
            _copy_python(Path(scenario_dir), stage / "_scenarios")
        yield stage


def _readable(text, root, scenario_dir):
    """Guest paths in ``text`` turned back into the repository's paths (runner frames dropped)."""
    text = "\n".join(line for line in text.splitlines() if not line.startswith('  File "<stdin>"'))
    text = text.replace("/input/firmware/", "firmware/")
    if scenario_dir is not None:
        text = text.replace(GUEST_SCENARIOS + "/", display_path(scenario_dir, root) + "/")
    lib = Path(root) / "lib"
    if lib.is_dir():
        for entry in lib.iterdir():
            text = text.replace(f"/input/lib/{entry.name}", f"lib/{entry.name}")
    return text


def _vm_failure(run):
    """One line for a run that ended abnormally, or ''."""
    if run.trap:
        return f"the VM trapped ({run.trap})"
    if run.exit_code:
        return f"the guest exited with code {run.exit_code}: {run.stderr.strip()[-300:]}"
    return ""


def _import_batch(stage, names, root):
    """Import ``names`` in one VM: ``(outcomes, asyncio file, crash reason, unreached names)``."""
    run = mpy_vm.run(_PRELUDE.format(path=GUEST_PATH) + _IMPORTS.format(mark=MARK, names=names), stage)
    outcomes, current, lines, asyncio_file = [], None, [], None
    for line in _readable(run.stdout, root, None).splitlines():
        words = line.split(" ", 2)
        if words[0] != MARK:
            lines.append(line)
        elif words[1] == "BEGIN":
            current, lines = words[2], []
        elif words[1] in ("OK", "FAIL"):
            failed = words[1] == "FAIL"
            reason = lines[-1].strip() if failed and lines else ""
            outcomes.append(Outcome(words[2], not failed, "\n".join(lines), reason))
            current = None
        elif words[1] == "ASYNCIO":
            asyncio_file = words[2]
    crash = _vm_failure(run)
    unreached = []
    if crash:
        done = {o.name for o in outcomes}
        if current is not None:
            outcomes.append(Outcome(current, False, "\n".join(lines), crash))
            done.add(current)
        unreached = [name for name in names if name not in done]
    return outcomes, asyncio_file, crash, unreached


def check_imports(root=REPO_ROOT):
    """Outcomes for importing every hardware-free module, plus the asyncio port check.

    All imports share one VM run; when an import crashes the VM (fuel used up, a trap),
    the modules after it get a fresh VM. Returns ``(outcomes, skipped)``; ``skipped``
    maps each hardware module to its import chain, e.g.
    ``["firmware.app", "firmware.buttons", "keypad"]``.
    """
    reasons = hardware_reasons(root)
    pending = sorted(name for name, chain in reasons.items() if chain is None)
    skipped = {name: chain for name, chain in reasons.items() if chain is not None}
    results, asyncio_file = [], None
    with staged(root, None) as stage:
        while True:
            outcomes, found, crash, unreached = _import_batch(stage, pending, root)
            results.extend(outcomes)
            asyncio_file = asyncio_file or found
            if crash and not outcomes:   # the VM dies before any import: report, stop
                results.extend(Outcome(name, False, "", "not reached: " + crash) for name in unreached)
                break
            if not unreached:
                break
            pending = unreached
    if asyncio_file != PORT_ASYNCIO:
        results.append(Outcome("asyncio", False, "",
                               f"asyncio resolves to {asyncio_file}, not the port at {PORT_ASYNCIO}"))
    return sorted(results, key=lambda o: o.name), skipped


def scenario_files(scenario_dir=SCENARIO_DIR):
    """The scenario scripts: ``*.py`` in ``scenario_dir`` not starting with ``_``."""
    folder = Path(scenario_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def run_scenario(path, root=REPO_ROOT, guest_ms=mpy_vm.POWER_UP_TICKS_MS,
                 deadline_s=mpy_vm.DEADLINE_S, python_task_queue=False):
    """Run one scenario script in a fresh VM; it must print PASS as its last line.

    ``guest_ms``: the guest's ``ticks_ms`` when the VM starts; ``deadline_s``: wall
    seconds after which the run is ended and fails (see :mod:`mpy_vm`);
    ``python_task_queue``: the asyncio port's Python task queue instead of the VM's C
    one, which mis-orders tasks across the 2**29 ms wrap (see ``_PYTHON_TASK_QUEUE``).
    """
    path = Path(path)
    scenario_dir = path.parent
    name = path.stem
    with staged(root, scenario_dir) as stage:
        code = (_PRELUDE.format(path=GUEST_PATH + [GUEST_SCENARIOS])
                + (_PYTHON_TASK_QUEUE if python_task_queue else "")
                + _SCENARIO.format(mark=MARK, name=name))
        run = mpy_vm.run(code, stage, guest_ms=guest_ms, deadline_s=deadline_s)
    lines, failed, guest_file = [], False, None
    for line in _readable(run.stdout, root, scenario_dir).splitlines():
        words = line.split(" ", 2)
        if words[0] != MARK:
            lines.append(line)
        elif words[1] == "FAIL":
            failed = True
        elif words[1] == "FILE":
            guest_file = words[2]
    output = "\n".join(lines)
    printed = [line.strip() for line in lines if line.strip()]
    crash = _vm_failure(run)
    if crash:
        return Outcome(name, False, output, crash)
    if failed:
        return Outcome(name, False, output, printed[-1] if printed else "raised")
    expected = f"{display_path(scenario_dir, root)}/{path.name}"
    if guest_file != expected:
        return Outcome(name, False, output,
                       f"'import {name}' found {guest_file}: rename the scenario, it clashes with a badge module")
    if not printed or printed[-1] != "PASS":
        return Outcome(name, False, output, "did not print PASS at the end")
    return Outcome(name, True, output)


def run_all(root=REPO_ROOT, scenario_dir=SCENARIO_DIR):
    """``(import outcomes, skipped hardware modules, scenario outcomes)``."""
    imports, skipped = check_imports(root)
    scenarios = [run_scenario(path, root) for path in scenario_files(scenario_dir)]
    return imports, skipped, scenarios


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m portability.mpy_run", description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, help="run only these scenario scripts")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the tree holding firmware/ and lib/")
    args = parser.parse_args(argv)
    failures = 0
    if not args.scenarios:
        imports, skipped, scenarios = run_all(args.root, args.root / "tests" / "mpy")
        print(f"MicroPython VM: importing {len(imports)} hardware-free module(s)")
        for outcome in imports:
            print("  " + str(outcome))
            failures += not outcome.ok
        for name, chain in sorted(skipped.items()):
            print(f"  skip  {name} (hardware: {' -> '.join(chain)})")
    else:
        scenarios = [run_scenario(path.resolve(), args.root) for path in args.scenarios]
    print(f"MicroPython VM: {len(scenarios)} scenario(s)")
    for outcome in scenarios:
        print("  " + str(outcome))
        failures += not outcome.ok
    print("mpy_run: " + (f"{failures} failure(s)" if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
