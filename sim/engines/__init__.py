"""The engines that run the badge's firmware: CPython with shims (``sim.badge``), and the
official CircuitPython on an emulated RP2040 (``sim.engines.circuitpython``)."""

ENGINES = ("cpython", "circuitpython")
