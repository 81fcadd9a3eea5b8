"""``make bench`` (``python -m sim bench``): the simulator's figures against their physical
limits. ``run`` measures the virtual badge and gathers the other sections: ``cloud``
(ExpressLink and broker), ``content`` (cloud to pixels), ``heap`` (CircuitPython's heap
per module) and the CircuitPython engine's own (``sim.engines.circuitpython.bench``, kept
with the engine whose mechanisms it measures). ``link_rate`` (``python -m
sim.bench.link_rate``): the publish rate our MQTT link sustains through a broker."""
