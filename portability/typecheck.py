"""Type check the badge's files with mypy and circuitpython-stubs.

``python -m portability.typecheck`` prints mypy's report for code.py, boot.py, firmware/
and lib/ and exits non-zero on errors. Module resolution is pinned down so that nothing
on the host shadows the CircuitPython stubs: MYPYPATH is set here (never inherited), the
simulator's shims (sim/shims) are never on it, and Blinka's board.py / busio.py in
site-packages lose to the ``*-stubs`` packages (PEP 561 stub packages come first).
``board`` resolves to the Raspberry Pi Pico's pin map from circuitpython-stubs'
board_definitions (what ``circuitpython_setboard raspberry_pi_pico`` would install),
so a wrong pin name is an error. ``asyncio`` resolves to typeshed's, which is right for
the portable subset; the lint catches what the badge's port lacks.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from portability import DEFAULT_TARGETS, REPO_ROOT, python_files

CONFIG = Path(__file__).with_name("mypy.ini")
# mypy's cache; two mypy processes must never share one (the tests run several at once:
# tests/conftest.py gives each pytest worker its own through BADGE_MYPY_CACHE).
DEFAULT_CACHE_DIR = REPO_ROOT / ".mypy_cache" / "badge"


def _cache(cache_dir):
    """``cache_dir``, else $BADGE_MYPY_CACHE, else DEFAULT_CACHE_DIR."""
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("BADGE_MYPY_CACHE") or DEFAULT_CACHE_DIR)
BOARD = "raspberry_pi_pico"

# Adafruit libraries without py.typed, copied where mypy can read them: {name: distribution}.
TYPED_COPIES = {
    "adafruit_sht31d": "adafruit-circuitpython-sht31d",
    "adafruit_displayio_ssd1306": "adafruit-circuitpython-displayio-ssd1306",
    "adafruit_display_text": "adafruit-circuitpython-display-text",
    "adafruit_miniqr": "adafruit-circuitpython-miniqr",
    "adafruit_ticks": "adafruit-circuitpython-ticks",
}


# mypy -v lines that name the file a module was read from out of the cache.
_CACHED_FILE = re.compile(
    r"(?:Metadata fresh(?: \(by quickstart\))?|Updating mtime|Using stale metadata) for "
    r"(?P<module>[\w.]+): file (?P<path>[^,]+?)(?:, meta .*)?$")


@dataclass(frozen=True)
class MypyReport:
    """mypy's exit status and printed report."""

    returncode: int
    output: str

    @property
    def ok(self):
        return self.returncode == 0


def _write_if_changed(path, data):
    """Write bytes only when they differ, so mypy's cache stays valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def support_paths(cache_dir=None):
    """Folders for MYPYPATH after lib/: the Pico board stub and the Adafruit library copies."""
    cache_dir = _cache(cache_dir)
    stubs, libraries = cache_dir / "board-stub", cache_dir / "adafruit-libs"
    board = resources.files("board_definitions").joinpath(BOARD).joinpath("__init__.pyi").read_bytes()
    _write_if_changed(stubs / "board" / "__init__.pyi", board)
    for name, distribution in TYPED_COPIES.items():
        base = Path(metadata.distribution(distribution).locate_file(""))
        if (base / name).is_dir():
            for file in (base / name).glob("*.py"):
                _write_if_changed(libraries / name / file.name, file.read_bytes())
        else:
            _write_if_changed(libraries / f"{name}.py", (base / f"{name}.py").read_bytes())
    return [stubs, libraries]


def _mypy(args, root, cache_dir):
    cache_dir = _cache(cache_dir)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["MYPYPATH"] = os.pathsep.join(str(p) for p in [Path(root) / "lib"] + support_paths(cache_dir))
    command = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG),
               "--cache-dir", str(cache_dir / "mypy"), "--python-executable", sys.executable, *args]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)


def run_mypy(root=REPO_ROOT, targets=DEFAULT_TARGETS, cache_dir=None):
    """Type check ``targets`` under ``root``; an empty tree passes."""
    root = Path(root)
    present = [t for t in targets if python_files(root, [t])]
    if not present:
        return MypyReport(0, "typecheck: no badge files to check\n")
    done = _mypy(present, root, cache_dir)
    return MypyReport(done.returncode, done.stdout + done.stderr)


def resolved_files(modules, root=REPO_ROOT, cache_dir=None):
    """``{module: file mypy reads for it}`` for a probe that imports ``modules``."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="badge-mypy-probe-") as folder:
        probe = Path(folder) / "probe_imports.py"
        probe.write_text("".join(f"import {name}\n" for name in modules))
        done = _mypy(["-v", str(probe)], root, cache_dir)
    found = {}
    for line in done.stderr.splitlines():
        # A cold cache logs "Parsing /path/busio-stubs/__init__.pyi (busio)"; a warm one logs
        # "Metadata fresh for busio: file /path/...", or, when the file's mtime or path moved
        # but its hash did not (another venv, a rewritten copy), "Updating mtime for busio:
        # file /path/..., meta ...", "Metadata fresh (by quickstart) for ..." or "Using stale
        # metadata for ...".
        if "Parsing " in line and line.endswith(")"):
            path, _, module = line.split("Parsing ", 1)[1].rpartition(" (")
            found[module[:-1]] = path
            continue
        match = _CACHED_FILE.search(line)
        if match:
            found[match["module"]] = match["path"]
    return {name: found.get(name) for name in modules}


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    report = run_mypy(targets=args or DEFAULT_TARGETS)
    print(report.output, end="")
    return report.returncode


if __name__ == "__main__":
    sys.exit(main())
