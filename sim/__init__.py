"""The badge's virtual twin: CircuitPython shims, chip emulators, tools.

The cloud tools share the badge's own format code (``firmware.photo_format``,
``firmware.qr_layout``...), so the repository root must be importable. It is appended,
not prepended: the badge's ``code.py`` must never shadow the standard ``code`` module.
"""

import sys as _sys
from pathlib import Path as _Path

_ROOT = str(_Path(__file__).resolve().parent.parent)
if _ROOT not in _sys.path:
    _sys.path.append(_ROOT)
