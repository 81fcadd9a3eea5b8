"""``python -m sim``: the virtual badge and its tools."""

import sys

from sim.tools.cli import main

sys.exit(main())
