"""The simulator's tools: the command line (``python -m sim``: ``cli``, ``cloud_cli``),
the live terminal view of ``make sim`` (``interactive``, ``terminal``), and ``deploy``
(``deploy``, ``mpy_cross``, and the ``templates/`` a drive starts from)."""
