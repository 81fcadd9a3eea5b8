"""The CircuitPython engine's idle skip changes nothing the badge can see.

CircuitPython's asyncio waits in a loop that never sleeps the CPU; the engine moves the
clock over that loop's idle turns (sim/engines/circuitpython/node/idle.mjs). The same
program (``tests/cp_programs/idle_wait``: sleeps of 1 ms to 250 ms, a key press seen
through keypad) runs with and without the skip: every wait must end at the same
millisecond of ``ticks_ms`` and ``monotonic_ns``, and the skip must have happened.

The key press may be seen one keypad scan tick (1 ms) apart: CircuitPython scans keys in
its 1/1024 s tick interrupt, which re-arms itself 977 us after it runs, so the tick's
phase moves by the few nanoseconds an interrupt's entry differs by when the CPU is
woken from a skip rather than from an instruction; a real Pico's interrupt latency
varies by as much with whatever instruction is executing.
"""

import re

from pathlib import Path

import pytest

from sim.engines.circuitpython import harness

PROGRAM = Path(__file__).resolve().parent / "cp_programs" / "idle_wait" / "code.py"
SCRIPT = [
    ("check keys ready", harness.press("B"), 0.3),  # lands inside the 250 ms sleep
    ("check done", harness.stop, 0.01),
]


@pytest.mark.parametrize("version", ["9.2.1", "10.2.1"])
def test_skipping_idle_turns_leaves_the_program_unchanged(version, tmp_path):
    missing = harness.why_missing(version)
    if missing:
        pytest.skip(missing)
    from sim.engines.circuitpython.drive import test_drive

    drive = test_drive(tmp_path / "drive", [PROGRAM], ["asyncio", "adafruit_ticks"])
    runs = {skip: harness.run_program(drive, version, SCRIPT, 10.0, module=False,
                                      idle_skip=skip)
            for skip in (True, False)}
    seen = {skip: [line for line in run.lines if line.startswith(("wait ", "check "))]
            for skip, run in runs.items()}
    assert "check done" in seen[False], runs[False].text[-2000:]
    assert len(seen[False]) == 13
    waits = {skip: [line for line in lines if not line.startswith("wait key")]
             for skip, lines in seen.items()}
    assert waits[True] == waits[False]
    keys = {skip: [int(n) for n in re.findall(r"\d+", next(
        line for line in lines if line.startswith("wait key")))] for skip, lines in seen.items()}
    assert abs(keys[True][0] - keys[False][0]) <= 1  # ticks_ms
    assert abs(keys[True][1] - keys[False][1]) <= 1_000_000  # monotonic_ns
    skipped = runs[True].badge.bridge.node_stats
    assert skipped["skips"] > 100 and skipped["skippedNanos"] > 0.2e9
    assert runs[False].badge.bridge.node_stats["skips"] == 0
    assert skipped["instructions"] < runs[False].badge.bridge.node_stats["instructions"]
