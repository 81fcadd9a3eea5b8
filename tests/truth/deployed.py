"""The deployed badge for make truth: this checkout deployed once per test module."""

import pytest

from sim.engines.circuitpython.parts import MissingPart, find_parts


def deploy_once(tmp_path_factory, versions, name):
    """A folder holding this checkout deployed as ``.mpy`` (``python -m sim deploy``),
    or a pytest skip saying which part of the CircuitPython engine is missing."""
    try:
        find_parts(versions[-1])
    except MissingPart as missing:
        pytest.skip(str(missing))
    from sim.engines.circuitpython.drive import deploy_checkout

    folder = tmp_path_factory.mktemp(name)
    deploy_checkout(folder)
    return folder
