"""pytest plugin, loaded before any other (``-p sim.pytest_plugin`` in pyproject's
addopts): the standard library's ``code`` module, not the badge's ``code.py``.

The repository root is on the tests' import path (``firmware``, and the badge's drive
layout), and ``python -m pytest`` puts the working directory first anyway. The badge's
``code.py`` there would then be imported by anything that asks for the standard
library's ``code``, as ``pdb`` does, which pytest's debugging plugin imports while it
configures itself. Imported here first, with the root off the path, the standard module
is the one in ``sys.modules``.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import_standard_code():
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if os.path.abspath(p or os.curdir) != _ROOT]
    try:
        import code
    finally:
        sys.path[:] = saved
    if os.path.dirname(os.path.abspath(code.__file__)) == _ROOT:
        raise ImportError("the badge's code.py was imported as the standard module code")


_import_standard_code()
