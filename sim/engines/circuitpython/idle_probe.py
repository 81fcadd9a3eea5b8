"""Find the head of CircuitPython's ``select.poll`` wait loop in a UF2 (for parts.IDLE_LOOPS).

``python -m sim.engines.circuitpython.idle_probe [VERSION ...]`` boots each version with a
program that waits in ``asyncio.sleep``, records a few thousand instructions of that wait
and prints the loop's head. The wait is a loop that never leaves its function's frame:
the head is the target of the one short backward branch taken once per turn by the
outermost frame of the recorded cycle (the highest stack pointer in thread mode).
"""

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROGRAM = """\
import asyncio


async def wait():
    print("probe waiting")
    await asyncio.sleep(20)


asyncio.run(wait())
"""
TRACE_AT_S = 7.0  # well inside the 20 s wait on every version
TRACE_COUNT = 20000
SHORT_BRANCH = 256  # bytes: a loop's back edge, not a return to a caller


def loop_head(trace):
    """The head address of the loop the recorded thread-mode instructions turn in."""
    thread = [(pc, sp) for pc, sp, ipsr in trace if ipsr == 0]
    top = max(sp for _pc, sp in thread)
    edges = Counter()
    for (pc, sp), (next_pc, next_sp) in zip(thread, thread[1:]):
        if sp == next_sp == top and 0 < pc - next_pc <= SHORT_BRANCH:
            edges[next_pc] += 1
    if not edges:
        raise RuntimeError("no loop in the outermost frame of the trace")
    (head, turns), = edges.most_common(1)
    return head, turns


def probe(version):
    from sim.engines.circuitpython.badge import CircuitPythonBadge
    from sim.engines.circuitpython.drive import test_drive

    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "code.py"
        program.write_text(PROGRAM)
        drive = test_drive(Path(tmp) / "drive", [program], ["asyncio", "adafruit_ticks"])
        badge = CircuitPythonBadge(drive, version=version, module=False)
        path = Path(tmp) / "trace.json"
        badge.trace = {"at": int(TRACE_AT_S * 1e9), "count": TRACE_COUNT, "path": str(path)}
        badge.run(TRACE_AT_S + 5.0)
        text = badge.console.all_text
        if "probe waiting" not in text or "Traceback" in text.split("probe waiting")[-1]:
            raise RuntimeError("the probe program did not run:\n" + text)
        return loop_head(json.loads(path.read_text()))


def main(argv):
    from sim.engines.circuitpython.parts import VERSIONS

    for version in argv or VERSIONS:
        head, turns = probe(version)
        print("%s: head 0x%08X (%d turns in %d instructions)"
              % (version, head, turns, TRACE_COUNT))


if __name__ == "__main__":
    main(sys.argv[1:])
