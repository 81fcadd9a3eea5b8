"""CircuitPython's built-in ``traceback`` for the MicroPython VM (which has none).

CircuitPython 8+ prints exceptions with ``traceback.print_exception(exc)`` and has no
``sys.print_exception`` from version 10; here both are backed by MicroPython's
``sys.print_exception``.
"""

import io
import sys


def _exception(exc, value):
    return value if isinstance(value, BaseException) else exc


def print_exception(exc, value=None, tb=None, limit=None, file=None, chain=True):
    """Print ``exc`` (or the legacy ``value``) with its traceback to ``file`` (stdout)."""
    sys.print_exception(_exception(exc, value), sys.stdout if file is None else file)


def format_exception(exc, value=None, tb=None, limit=None, chain=True):
    """The traceback text of ``exc`` as a one-item list of str."""
    text = io.StringIO()
    sys.print_exception(_exception(exc, value), text)
    return [text.getvalue()]
