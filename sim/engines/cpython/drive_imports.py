"""What the badge can import on CPython: the shims, then its drive, as on the board.

CircuitPython looks for a module among its built-ins, then in CIRCUITPY's root, then in
CIRCUITPY/lib. Here the built-ins are the simulator's shims (``sim/shims``), and every
boot forgets what an earlier run imported (:func:`purge_modules`), so the badge always
gets its own copies, bound to its own shims. With ``strict_libs``, :class:`DriveOnlyFinder`
makes the Adafruit libraries exist only on the drive, so a deployed drive that misses
one fails here as it would on a badge.
"""

import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

SHIMS_DIR = Path(__file__).resolve().parents[2] / "shims"

# Libraries that live in CIRCUITPY/lib on a badge (top-level import names).
BADGE_LIBRARIES = (
    "adafruit_sht31d",
    "adafruit_displayio_ssd1306",
    "adafruit_display_text",
    "adafruit_miniqr",
    "adafruit_ticks",
    "adafruit_bus_device",
)

_SHIM_NAMES = frozenset(p.stem for p in SHIMS_DIR.glob("*.py"))


def import_paths(code_root):
    """``sys.path`` entries for a badge whose files are in ``code_root``, in its order."""
    code_root = Path(code_root)
    return [SHIMS_DIR, code_root, code_root / "lib"]


def top_level_names(lib_dir):
    """The import names a CIRCUITPY/lib folder offers: its packages and modules, except
    asyncio, which this engine gives the badge from CPython (see
    :mod:`sim.engines.cpython.runtime`)."""
    if not lib_dir.is_dir():
        return frozenset()
    return frozenset(entry.name.split(".")[0] for entry in lib_dir.iterdir()
                     if not entry.name.startswith((".", "_"))) - {"asyncio"}


def purge_modules(code_root):
    """Forget modules from earlier runs: the badge imports afresh at every boot.

    That includes a module of the same name imported from elsewhere (the repository's
    ``lib/expresslink`` imported by a test, when the badge runs from a deployed drive):
    the badge must get its own, bound to its own shims."""
    code_root = Path(code_root)
    roots = (str(SHIMS_DIR), str(code_root / "lib"), str(code_root / "firmware"))
    on_drive = top_level_names(code_root / "lib")
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        top = name.split(".")[0]
        if name in ("code", "boot") or top == "firmware":
            del sys.modules[name]
        elif path.startswith(roots) or name in _SHIM_NAMES or top in on_drive:
            del sys.modules[name]
        elif top in BADGE_LIBRARIES:
            # e.g. adafruit_ticks picks its clock (supervisor) when imported
            del sys.modules[name]


class DriveOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds the badge libraries only on the drive; elsewhere they do not exist."""

    def __init__(self, paths):
        self._paths = [str(p) for p in paths]

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top not in BADGE_LIBRARIES or "." in fullname:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, self._paths)
        if spec is None:
            raise ModuleNotFoundError(
                "no module named '%s' on the drive (copy it to CIRCUITPY/lib)" % fullname,
                name=fullname)
        return spec
