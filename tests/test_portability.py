"""The badge's files are real CircuitPython: mypy with the stubs, the lint, a MicroPython VM.

These run the three checks on the repository itself (code.py, boot.py, firmware/, lib/,
tests/mpy/). A failure names the file and line; the same report comes from
``python -m portability.typecheck``, ``python -m portability.cp_lint`` and
``python -m portability.mpy_run``.
"""

import pytest

from portability import cp_lint, mpy_run, typecheck


def test_badge_files_type_check_against_circuitpython_stubs():
    report = typecheck.run_mypy()
    assert report.ok, "mypy with circuitpython-stubs:\n" + report.output


def test_badge_files_use_no_cpython_only_features():
    findings = cp_lint.lint_paths()
    assert not findings, "CircuitPython lint:\n" + "\n".join(map(str, findings))


def test_hardware_free_modules_import_in_micropython():
    outcomes, _skipped = mpy_run.check_imports()
    failed = [o for o in outcomes if not o.ok]
    assert not failed, "imports in the MicroPython VM:\n" + "\n".join(map(str, failed))


@pytest.mark.parametrize("scenario", mpy_run.scenario_files(), ids=lambda p: p.stem)
def test_micropython_scenario_passes(scenario):
    outcome = mpy_run.run_scenario(scenario)
    assert outcome.ok, str(outcome)
