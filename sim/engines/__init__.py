"""The engines that run the badge's firmware: CPython with shims (``sim.engines.cpython``),
and the official CircuitPython on an emulated RP2040 (``sim.engines.circuitpython``)."""

ENGINES = ("cpython", "circuitpython")
