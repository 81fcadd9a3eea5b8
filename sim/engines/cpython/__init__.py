"""The CPython engine: the badge's own files run on CPython, with the shims of
``sim/shims/`` first on the import path (the default engine; ``VirtualBadge``).

- ``badge``: :class:`VirtualBadge`, the emulated parts wired as on the board, and the run;
- ``runtime``: boot.py and code.py run as CircuitPython would (import path, getenv,
  sleeps, the drive, soft reloads);
- ``world``: the one state the shims read (pins, buses, clock);
- ``cp_version``: what the chosen CircuitPython version changes, for the shims;
- ``cp_asyncio_core``: CircuitPython's ``asyncio.core`` poll queue, put in place for a run.
"""
