"""``python -m sim deploy CIRCUITPY_DIR``: put what the badge runs on its drive.

Ships only the modules the badge can import: the import graph from ``code.py`` and
``boot.py`` through firmware/, lib/ and the pinned Adafruit libraries (the ``.py`` files
of the installed host packages, so it works offline), lazy imports inside functions
included (:func:`portability.import_graph.reachable_modules`). Each is compiled to
``.mpy`` with CircuitPython's own mpy-cross (:mod:`sim.tools.mpy_cross`): from ``.py`` the
badge runs out of heap compiling them. ``code.py`` and ``boot.py`` stay ``.py``
(CircuitPython runs only those names). With ``source=True`` (``--source``) the same
modules are copied as ``.py``, for debugging and for the simulator's CPython engine.

Files of an earlier deploy in the folders the badge's modules own (firmware/ and each
shipped library in lib/) that are not part of this one are removed: a stale ``.py``
beside a new ``.mpy`` would win the import. settings.toml is written from the template
only when the drive has none. The drive must run CircuitPython 9 or newer (read from
boot_out.txt).
"""

import importlib.metadata
import re
import shutil
from pathlib import Path

from portability.import_graph import badge_modules, reachable_modules

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
MIN_CIRCUITPYTHON = 9
ENTRY_FILES = ("boot.py", "code.py")  # run by CircuitPython itself: always .py

# PyPI distribution -> top-level module or package it installs on the badge.
BADGE_DISTRIBUTIONS = {
    "adafruit-circuitpython-sht31d": "adafruit_sht31d",
    "adafruit-circuitpython-displayio-ssd1306": "adafruit_displayio_ssd1306",
    "adafruit-circuitpython-display-text": "adafruit_display_text",
    "adafruit-circuitpython-miniqr": "adafruit_miniqr",
    "adafruit-circuitpython-ticks": "adafruit_ticks",
    "adafruit-circuitpython-busdevice": "adafruit_bus_device",
    "adafruit-circuitpython-asyncio": "asyncio",
}


class DeployError(Exception):
    """Deployment refused; the message says why and what to do."""


def circuitpython_version(drive):
    """(major, minor, text) from the drive's boot_out.txt, or None if there is none."""
    boot_out = Path(drive) / "boot_out.txt"
    if not boot_out.exists():
        return None
    first = boot_out.read_text(errors="replace").splitlines()[:1]
    match = re.search(r"CircuitPython (\d+)\.(\d+)", first[0] if first else "")
    if not match:
        raise DeployError("%s does not say which CircuitPython runs (first line: %r)"
                          % (boot_out, first[0] if first else ""))
    return int(match.group(1)), int(match.group(2)), first[0].strip()


def library_files(distribution, top):
    """(installed path, path relative to lib/) of the .py files of ``top``."""
    files = importlib.metadata.distribution(distribution).files or []
    found = []
    for entry in files:
        parts = Path(entry).parts
        if not parts or parts[0] not in (top, top + ".py") or entry.suffix != ".py":
            continue
        found.append((Path(entry.locate()).resolve(), Path(*parts)))
    if not found:
        raise DeployError("package %s has no %s files installed; run `make deps`"
                          % (distribution, top))
    return found


def _module_name(relative):
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def shippable_modules(repo=REPO_ROOT):
    """``{module: (source .py, its path on the drive)}`` for every module that could go
    on the badge: firmware/ (at the drive's root), lib/ and the pinned libraries (in
    the drive's lib/)."""
    repo = Path(repo)
    found = {}
    for name, file in badge_modules(repo).items():
        found[name] = (file, file.relative_to(repo))
    for distribution, top in BADGE_DISTRIBUTIONS.items():
        for source, relative in library_files(distribution, top):
            found[_module_name(relative)] = (source, Path("lib") / relative)
    return found


def deploy_plan(repo=REPO_ROOT):
    """(shipped, left_out): ``{module: (source, drive path)}`` of the modules the badge
    imports, and of those it never does."""
    candidates = shippable_modules(repo)
    reached = reachable_modules([Path(repo) / name for name in ENTRY_FILES],
                                {name: source for name, (source, _) in candidates.items()})
    shipped = {name: candidates[name] for name in sorted(reached)}
    left_out = {name: where for name, where in sorted(candidates.items())
                if name not in reached}
    return shipped, left_out


def owned_folders(shipped):
    """Drive paths whose ``.py``/``.mpy`` files belong to the deploy: firmware/ and each
    shipped library's package folder or module (``lib/expresslink``, ``lib/adafruit_sht31d``)."""
    owned = set()
    for _source, where in shipped.values():
        parts = where.with_suffix("").parts
        owned.add(Path(*parts[:2]) if parts[0] == "lib" else Path(parts[0]))
    return sorted(owned)


def write_settings_template(drive):
    """Write settings.toml from the template unless the drive already has one."""
    target = Path(drive) / "settings.toml"
    if target.exists():
        return False
    Path(drive).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / "settings.toml", target)
    return True


def cpython_engine_refusal(root):
    """Why the simulator's CPython engine cannot run the deployed folder ``root`` (it
    holds ``.mpy`` modules, which only CircuitPython loads), or None when it can."""
    root = Path(root)
    compiled = sorted(path.relative_to(root) for folder in ("firmware", "lib")
                      for path in (root / folder).rglob("*.mpy"))
    if not compiled:
        return None
    return ("%s holds .mpy modules (%d, e.g. %s), which the CPython engine cannot run: "
            "deploy with --source for it (python -m sim deploy --source %s); the "
            "CircuitPython engine runs either" % (root, len(compiled), compiled[0], root))


def _check_drive(drive, force):
    if not drive.is_dir():
        raise DeployError("%s is not a folder: mount the badge's CIRCUITPY drive and "
                          "pass its path" % drive)
    version = circuitpython_version(drive)
    if version is None:
        if not force:
            raise DeployError("%s has no boot_out.txt, so it does not look like a "
                              "CIRCUITPY drive (use --force to deploy anyway)" % drive)
        return "no boot_out.txt; deploying anyway (--force)"
    if version[0] < MIN_CIRCUITPYTHON:
        raise DeployError("the badge runs %s; install CircuitPython %d or newer first "
                          "(https://circuitpython.org/board/raspberry_pi_pico/)"
                          % (version[2], MIN_CIRCUITPYTHON))
    return "found %s" % version[2]


def _remove_stale(drive, shipped_paths, owned):
    """Delete .py/.mpy files under the ``owned`` drive paths that this deploy did not write."""
    removed = []
    for base in owned:
        candidates = [drive / base.with_suffix(".py"), drive / base.with_suffix(".mpy")]
        if (drive / base).is_dir():
            candidates += [p for p in (drive / base).rglob("*") if p.suffix in (".py", ".mpy")]
        for path in candidates:
            if path.is_file() and path.relative_to(drive) not in shipped_paths:
                path.unlink()
                removed.append(path.relative_to(drive))
    return sorted(removed)


def _group(where):
    """Report line a drive path belongs to: ``firmware/``, ``lib/expresslink``, ..."""
    parts = where.with_suffix("").parts
    return "lib/" + parts[1] if parts[0] == "lib" else parts[0] + "/"


def deploy(drive, *, force=False, source=False, repo=REPO_ROOT, compiler=None):
    """Put the badge's modules on ``drive``; yields one line per step, then a summary.

    ``source``: copy ``.py`` files instead of compiling to ``.mpy``; ``compiler``: the
    mpy-cross to use (default :func:`sim.tools.mpy_cross.find_mpy_cross`).
    """
    from sim.tools import mpy_cross

    drive, repo = Path(drive), Path(repo)
    yield _check_drive(drive, force)
    if not source:
        try:
            compiler = mpy_cross.find_mpy_cross() if compiler is None else compiler
            yield "compiler: %s (%s)" % (compiler, mpy_cross.version_of(compiler))
        except mpy_cross.MpyCrossError as error:
            raise DeployError(str(error)) from None
    shipped, left_out = deploy_plan(repo)
    written = {}  # drive path -> bytes
    for name in ENTRY_FILES:
        shutil.copyfile(repo / name, drive / name)
        written[Path(name)] = (drive / name).stat().st_size
        yield "copied %s" % name
    source_bytes = 0
    groups = {}
    for name, (file, where) in shipped.items():
        source_bytes += file.stat().st_size
        target = where if source else where.with_suffix(".mpy")
        dest = drive / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source:
            shutil.copyfile(file, dest)
        else:
            try:
                mpy_cross.compile_to(file, dest, source_name=where.as_posix(),
                                     compiler=compiler)
            except mpy_cross.MpyCrossError as error:
                raise DeployError(str(error)) from None
        written[target] = dest.stat().st_size
        group = groups.setdefault(_group(where), [0, 0])
        group[0] += 1
        group[1] += written[target]
    versions = {"lib/" + top: "%s %s" % (dist, importlib.metadata.version(dist))
                for dist, top in BADGE_DISTRIBUTIONS.items()}
    verb = "copied" if source else "compiled"
    for group, (count, size) in groups.items():
        origin = " (%s)" % versions[group] if group in versions else ""
        yield "%s %s%s: %d file%s, %d bytes" % (verb, group, origin, count,
                                                "" if count == 1 else "s", size)
    removed = _remove_stale(drive, set(written), owned_folders(shipped))
    if removed:
        yield "removed %d file%s of an earlier deploy (e.g. %s)" % (
            len(removed), "" if len(removed) == 1 else "s", removed[0].as_posix())
    if write_settings_template(drive):
        yield "wrote settings.toml from the template"
    else:
        yield "kept the existing settings.toml"
        if "CIRCUITPY_PYSTACK_SIZE" not in (Path(drive) / "settings.toml").read_text(
                encoding="utf-8", errors="replace"):
            yield ("note: settings.toml has no CIRCUITPY_PYSTACK_SIZE: CircuitPython 9.x "
                   "then gives 1536 bytes of Python stack, too few to spare for the "
                   "longest QR code; add the line CIRCUITPY_PYSTACK_SIZE = 2048")
    module_bytes = sum(size for path, size in written.items() if path.name not in ENTRY_FILES)
    left_bytes = sum(file.stat().st_size for file, _ in left_out.values())
    yield "deployed %d files, %d bytes: %s, and %d modules as %s (%d bytes%s)" % (
        len(written), sum(written.values()), " and ".join(ENTRY_FILES), len(shipped),
        ".py" if source else ".mpy", module_bytes,
        "" if source else "; %d bytes as .py" % source_bytes)
    if left_out:
        yield "left out %d modules the badge never imports (%d bytes of .py): %s" % (
            len(left_out), left_bytes, ", ".join(left_out))
    yield "done: eject the drive; the badge restarts with the new firmware"
