"""The badge application: tasks, screens, message formats and persistence."""

import sys

VERSION = "0.1.0"


def let_go(name):
    """Forget the submodule ``firmware.<name>`` after a rare job (a photo arriving):
    once nothing else holds it, its code leaves the heap; the next job imports it again."""
    sys.modules.pop("firmware." + name, None)
    globals().pop(name, None)
