"""The portability gate: checks that stand in for a real badge (type check, CircuitPython
lint, MicroPython run). Not part of the simulator: they read the badge's files only.

Each check looks at the files that go onto the CIRCUITPY drive (``code.py``,
``boot.py``, ``firmware/``, ``lib/``) and runs as ``python -m portability.<name>``:

- ``typecheck``: mypy with ``circuitpython-stubs`` and the Raspberry Pi Pico pin map;
- ``cp_lint``: CPython-only language and library use that the stubs cannot see;
- ``mpy_run``: imports every hardware-free module, and runs ``tests/mpy/*.py``,
  inside a MicroPython VM with the CircuitPython asyncio port.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# What goes onto the badge's drive, relative to the repository root.
DEFAULT_TARGETS = ("code.py", "boot.py", "firmware", "lib")

# Files that may build hardware objects from ``board`` and ``busio``.
ENTRY_FILES = ("code.py", "boot.py")


def python_files(root, targets=DEFAULT_TARGETS):
    """Sorted ``.py`` files under ``targets`` (files or folders, relative to ``root``).

    Missing targets are skipped, so an empty tree has nothing to check. Caches and
    hidden folders are ignored.
    """
    root = Path(root)
    found = set()
    for target in targets:
        path = Path(target)
        if not path.is_absolute():
            path = root / path
        if path.is_file() and path.suffix == ".py":
            found.add(path)
        elif path.is_dir():
            for file in path.rglob("*.py"):
                parts = file.relative_to(path).parts
                if any(p.startswith(".") or p == "__pycache__" for p in parts):
                    continue
                found.add(file)
    return sorted(found)


def display_path(path, root):
    """``path`` relative to ``root`` when it lies inside it, else as given."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)
