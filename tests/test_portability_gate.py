"""Each portability check catches a planted violation, and passes a clean badge tree.

Trees are planted in temporary folders laid out like the repository (code.py, boot.py,
firmware/, lib/, a scenario folder), so these tests do not depend on the real firmware.
"""

import os
import textwrap
from pathlib import Path

import pytest

from portability import cp_lint, mpy_run, mpy_vm, typecheck
from portability.cp_lint import RULES, lint_paths, lint_source


def plant(root, files):
    """Write ``{relative path: source}`` under ``root``."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"))
    return root


def line_of(source, marker="# <-"):
    """1-based line of the first line holding ``marker``."""
    for number, line in enumerate(textwrap.dedent(source).lstrip("\n").splitlines(), 1):
        if marker in line:
            return number
    raise AssertionError(f"no {marker!r} in the planted source")


# -- a clean badge tree: all three checks pass ---------------------------------------

CLEAN_TREE = {
    "code.py": '''
        """Planted badge entry: builds the hardware and runs the app."""
        import board
        import busio
        import digitalio
        import displayio
        import i2cdisplaybus
        import keypad

        import adafruit_displayio_ssd1306
        from firmware import app


        def main():
            displayio.release_displays()
            i2c = busio.I2C(board.GP5, board.GP4, frequency=400_000)
            bus = i2cdisplaybus.I2CDisplayBus(i2c, device_address=0x3C)
            display = adafruit_displayio_ssd1306.SSD1306(bus, width=128, height=64)
            uart = busio.UART(board.GP0, board.GP1, baudrate=115200, receiver_buffer_size=512)
            keys = keypad.Keys((board.GP13, board.GP14, board.GP15), value_when_pressed=False)
            led = digitalio.DigitalInOut(board.GP25)
            led.direction = digitalio.Direction.OUTPUT
            app.run(display, uart, keys, led)


        main()
    ''',
    "boot.py": '''
        """Planted boot: the drive stays writable from USB."""
        import storage

        storage.remount("/", readonly=True)
    ''',
    "firmware/__init__.py": '"""Planted firmware package."""\n',
    "firmware/app.py": '''
        """Planted app: runs the ticker."""
        import asyncio

        from firmware import ticker

        try:
            from typing import Any
        except ImportError:
            pass


        def run(display: "Any", uart: "Any", keys: "Any", led: "Any") -> None:
            asyncio.run(ticker.main(3))
    ''',
    "firmware/ticker.py": '''
        """Planted ticker: two tasks taking turns."""
        import asyncio

        from adafruit_ticks import ticks_diff, ticks_ms
        from ringbuf import RingBuffer


        async def tick(name, count, out):
            for _ in range(count):
                out.put(name)
                await asyncio.sleep(0)


        async def main(count):
            out = RingBuffer(8)
            start = ticks_ms()
            await asyncio.gather(tick("a", count, out), tick("b", count, out))
            assert ticks_diff(ticks_ms(), start) >= 0
            return out.items()
    ''',
    "lib/ringbuf.py": '''
        """Planted library: a bounded buffer that drops the oldest item."""


        class RingBuffer:
            def __init__(self, size: int) -> None:
                self._items: list = []
                self._size = size

            def put(self, item) -> None:
                if len(self._items) == self._size:
                    self._items.pop(0)
                self._items.append(item)

            def items(self) -> list:
                return list(self._items)
    ''',
    "scenarios/ticker_scenario.py": '''
        import asyncio

        from firmware import ticker

        assert asyncio.run(ticker.main(2)) == ["a", "b", "a", "b"]
        print("PASS")
    ''',
}


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory):
    return plant(tmp_path_factory.mktemp("clean"), CLEAN_TREE)


def test_clean_tree_passes_the_type_check(clean_tree):
    report = typecheck.run_mypy(clean_tree)
    assert report.ok, report.output
    assert "no issues found in 6 source files" in report.output


def test_clean_tree_passes_the_lint(clean_tree):
    assert lint_paths(root=clean_tree) == []


def test_clean_tree_imports_and_runs_in_micropython(clean_tree):
    outcomes, skipped = mpy_run.check_imports(clean_tree)
    assert {o.name: o.ok for o in outcomes} == {
        "firmware": True, "firmware.app": True, "firmware.ticker": True, "ringbuf": True}
    assert skipped == {}
    outcome = mpy_run.run_scenario(clean_tree / "scenarios" / "ticker_scenario.py", clean_tree)
    assert outcome.ok, str(outcome)


def test_empty_tree_passes_every_check(tmp_path):
    assert typecheck.run_mypy(tmp_path).ok
    assert lint_paths(root=tmp_path) == []
    outcomes, skipped = mpy_run.check_imports(tmp_path)
    assert outcomes == [] and skipped == {}


# -- mypy with circuitpython-stubs ------------------------------------------------------

BAD_CODE = '''
    """Planted badge entry with three CircuitPython API mistakes."""
    import board
    import busio
    import displayio


    def build():
        i2c = busio.I2C(board.GP5, board.GP4)
        old = displayio.I2CDisplay(i2c, device_address=0x3C)  # <- display
        pin = board.GP99  # <- pin
        uart = busio.UART(board.GP0, board.GP1, baud=115200)  # <- uart
        return old, pin, uart
'''

# Host modules that would hide all three mistakes if mypy ever read them.
SHADOWS = {
    "board.py": "GP99 = object()\nGP0 = GP1 = GP4 = GP5 = object()\n",
    "busio.py": "class I2C:\n    def __init__(self, *a, **k): pass\n"
                "class UART:\n    def __init__(self, *a, **k): pass\n",
    "displayio.py": "class I2CDisplay:\n    def __init__(self, *a, **k): pass\n",
}


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    root = plant(tmp_path_factory.mktemp("mypy"), {**CLEAN_TREE, "code.py": BAD_CODE})
    shims = plant(root / "sim" / "shims", SHADOWS)
    patch = pytest.MonkeyPatch()
    # Even with the simulator's shims on every path the environment offers, the stubs win.
    patch.setenv("MYPYPATH", str(shims))
    patch.setenv("PYTHONPATH", str(shims))
    try:
        yield typecheck.run_mypy(root)
    finally:
        patch.undo()


@pytest.mark.parametrize("marker, message", [
    ("display", 'Module "displayio" does not explicitly export attribute "I2CDisplay"'),
    ("pin", 'Module has no attribute "GP99"'),
    ("uart", 'Unexpected keyword argument "baud" for "UART"'),
])
def test_mypy_reports_circuitpython_api_misuse(mypy_report, marker, message):
    line = line_of(BAD_CODE, "# <- " + marker)
    expected = f"code.py:{line}: error: {message}"
    assert expected in mypy_report.output, mypy_report.output
    assert not mypy_report.ok


def test_mypy_reports_nothing_in_the_clean_modules(mypy_report):
    errors = [line for line in mypy_report.output.splitlines() if ": error:" in line]
    assert len(errors) == 3 and all(e.startswith("code.py:") for e in errors), mypy_report.output


def test_hardware_modules_resolve_to_the_circuitpython_stubs(tmp_path):
    modules = ["board", "busio", "displayio", "i2cdisplaybus", "keypad", "supervisor",
               "microcontroller", "storage", "digitalio", "terminalio", "micropython"]
    resolved = typecheck.resolved_files(modules + ["asyncio", "adafruit_sht31d"], root=tmp_path)
    assert resolved["board"].endswith("board-stub/board/__init__.pyi"), resolved["board"]
    for name in modules[1:]:
        assert resolved[name].endswith(f"{name}-stubs/__init__.pyi"), (name, resolved[name])
    assert "typeshed/stdlib/asyncio" in resolved["asyncio"]
    assert resolved["adafruit_sht31d"].endswith("adafruit-libs/adafruit_sht31d.py")


def test_resolution_is_read_from_a_warm_cache_whose_file_moved(tmp_path):
    # A second run on the same cache, after the file's mtime moved (as when another venv
    # or a rewritten copy holds the same bytes): mypy logs "Updating mtime for board".
    cache = tmp_path / "cache"
    first = typecheck.resolved_files(["board"], root=tmp_path, cache_dir=cache)
    stub = Path(first["board"])
    assert stub.is_file(), first
    moved = stub.stat().st_mtime - 100
    os.utime(stub, (moved, moved))
    again = typecheck.resolved_files(["board"], root=tmp_path, cache_dir=cache)
    assert again == first


# -- the CircuitPython lint: each rule on a planted line ---------------------------------

LINT_CASES = [
    ("missing-module", "import dataclasses  # <-"),
    ("missing-module", "from functools import partial  # <-"),
    ("missing-module", "import enum  # <-"),
    ("missing-module", "from __future__ import annotations  # <-"),
    ("missing-name", "import time\nstart = time.perf_counter()  # <-"),
    ("missing-name", "import time\nnow = time.time_ns()  # <-"),
    ("missing-name", "import time\ntime.sleep_ms(5)  # <-"),
    ("missing-name", "import asyncio\nqueue = asyncio.Queue()  # <-"),
    ("missing-name", "import asyncio as aio\nlimit = aio.Semaphore(2)  # <-"),
    ("missing-name", "from asyncio import TaskGroup  # <-"),
    ("missing-name", "import asyncio\nflag = asyncio.ThreadSafeFlag()  # <-"),
    ("missing-name", "from collections import defaultdict  # <-"),
    ("missing-name", "import sys\nsys.print_exception(ValueError())  # <-"),
    ("missing-name", "import os\nname = os.path.join('a', 'b')  # <-"),
    ("missing-name", "import re\nfound = re.findall('a', 'aa')  # <-"),
    ("missing-method", "name = 'badge-1'.removeprefix('badge-')  # <-"),
    ("missing-method", "name = 'a.txt'.removesuffix('.txt')  # <-"),
    ("missing-method", "text = '{a}'.format_map({'a': 1})  # <-"),
    ("missing-method", "text = '7'.zfill(3)  # <-"),
    ("typing-import", "from typing import List  # <-"),
    ("typing-import", "import typing  # <-"),
    ("type-only-name",
     "try:\n    from typing import Optional\nexcept ImportError:\n    pass\nkind = Optional  # <-"),
    ("type-only-name", "if TYPE_CHECKING:  # <-\n    pass"),
    ("asyncio-submodule", "import asyncio.queues  # <-"),
    ("asyncio-submodule", "from asyncio.tasks import Task  # <-"),
    ("asyncio-bare-sleep",
     "import asyncio\nasync def f():\n    await asyncio.gather(asyncio.sleep(0))  # <-"),
    ("asyncio-bare-sleep",
     "import asyncio\nasync def f():\n    await asyncio.wait_for(asyncio.sleep(1), 2)  # <-"),
    ("asyncio-bare-sleep",
     "from asyncio import create_task, sleep\ntask = create_task(sleep(0))  # <-"),
    ("asyncio-timeout-error",
     "import asyncio\nasync def f(c):\n    try:\n        await asyncio.wait_for(c, 1)\n"
     "    except TimeoutError:  # <-\n        pass"),
    ("hardware-import", "import board  # <-"),
    ("hardware-import", "from busio import UART  # <-"),
    ("match-statement", "x = 1\nmatch x:  # <-\n    case 1:\n        pass"),
    ("except-star", "try:  # <-\n    pass\nexcept* ValueError:\n    pass"),
    ("except-star", "group = ExceptionGroup('x', [ValueError()])  # <-"),
    ("positional-only-params", "def f(a, /, b):  # <-\n    return a"),
    ("async-generator", "async def lines():  # <-\n    yield b'OK'"),
    ("async-comprehension", "async def f(source):\n    return [x async for x in source]  # <-"),
    ("keyword-argument", "parts = 'a,b'.split(',', maxsplit=1)  # <-"),
    ("keyword-argument", "print('x', flush=True)  # <-"),
    ("keyword-argument", "n = int('ff', base=16)  # <-"),
    ("keyword-argument", "raw = (5).to_bytes(2, byteorder='big')  # <-"),
    ("keyword-argument", "raw = 'é'.encode(encoding='utf-8')  # <-"),
    ("decode-errors", "text = b'\\xff'.decode('utf-8', 'ignore')  # <-"),
    ("decode-errors", "text = b'\\xff'.decode('utf-8', errors='replace')  # <-"),
    ("deque-arguments", "from collections import deque\noutbox = deque()  # <-"),
    ("deque-arguments", "import collections\noutbox = collections.deque((), maxlen=8)  # <-"),
    ("json-keywords", "import json\ntext = json.dumps({}, indent=2)  # <-"),
    ("json-keywords", "import json\ndata = json.loads('{}', object_hook=dict)  # <-"),
    ("class-keywords", "class Meta(type):\n    pass\nclass A(metaclass=Meta):  # <-\n    pass"),
    ("special-method", "class A:\n    def __init_subclass__(cls):  # <-\n        pass"),
    ("fstring-conversion-width", "x = 'a'\ntext = f'{x!r:>8}'  # <-"),
    ("fstring-conversion-width", "text = '{!r:>8}'.format('a')  # <-"),
    ("regex-feature", "import re\nTWO = re.compile('[0-9]{2}')  # <-"),
    ("regex-feature", "import re\nTOPIC = re.compile('(?P<thing>[a-z]+)')  # <-"),
    ("syntax", "def f(:  # <-\n    pass"),
]


@pytest.mark.parametrize("rule, source", LINT_CASES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(LINT_CASES)])
def test_lint_flags_planted_violation(rule, source):
    findings = lint_source(source, "firmware/planted.py")
    assert [(f.rule, f.line) for f in findings] == [(rule, line_of(source))], findings
    assert findings[0].message and str(findings[0]).startswith(f"firmware/planted.py:{line_of(source)}:")


def test_every_lint_rule_has_a_planted_case():
    assert {rule for rule, _ in LINT_CASES} == set(RULES)


CLEAN_SOURCES = [
    "if (n := 3) > 2:\n    pass",
    "try:\n    from typing import Optional\n    from busio import I2C\nexcept ImportError:\n    pass\n"
    "def f(bus: 'I2C', x: Optional[int] = None) -> Optional[int]:\n    return x",
    "try:\n    import ujson as json\nexcept ImportError:\n    import json",
    "import sys\ndef log(e):\n    if hasattr(sys, 'print_exception'):\n        sys.print_exception(e)",
    "import sys\nprint('x', file=sys.stderr)",
    "import asyncio\nasync def nap():\n    await asyncio.sleep(0)\n"
    "async def f(c):\n    await asyncio.gather(nap(), nap())\n    try:\n        await asyncio.wait_for(c, 1)\n"
    "    except asyncio.TimeoutError:\n        pass",
    "import time\nnow = time.monotonic_ns()",
    "from collections import OrderedDict, deque, namedtuple\noutbox = deque((), 8)",
    "text = '{:>8}'.format(repr('a'))\nparts = 'a b c'.split(' ', 1)",
    "import re\nTWO = re.compile('[0-9][0-9]')",
    "from micropython import const\n_ADDRESS = const(0x44)\nf = lambda x=1: x",
    "class A:\n    __slots__ = ('x',)",
    "raw = (5).to_bytes(2, 'big')\ntext = b'ok'.decode('utf-8')",
]


@pytest.mark.parametrize("source", CLEAN_SOURCES)
def test_lint_accepts_portable_code(source):
    assert lint_source(source, "firmware/planted.py") == []


def test_only_entry_files_may_import_board_and_busio(tmp_path):
    plant(tmp_path, {
        "code.py": "import board\nimport busio\n",
        "boot.py": "import board\n",
        "firmware/pins.py": "import board\n",
        "lib/uart_pump.py": "import busio\n",
    })
    flagged = [(f.path, f.rule) for f in lint_paths(root=tmp_path)]
    assert flagged == [("firmware/pins.py", "hardware-import"), ("lib/uart_pump.py", "hardware-import")]


def test_lint_command_exits_non_zero_on_findings(tmp_path, capsys, monkeypatch):
    plant(tmp_path, {"firmware/bad.py": "import enum\n"})
    monkeypatch.chdir(tmp_path)
    assert cp_lint.main([str(tmp_path / "firmware")]) == 1
    assert "firmware/bad.py:1:0: [missing-module] enum" in capsys.readouterr().out


# -- the MicroPython VM ------------------------------------------------------------------

VM_TREE = {
    "lib/clean_counter.py": "COUNT = 3\n",
    "lib/uses_dataclasses.py": '''
        import dataclasses


        @dataclasses.dataclass
        class Reading:
            t: float
    ''',
    "firmware/__init__.py": "",
    "firmware/screen.py": "import displayio\n",
    "firmware/view.py": "from firmware import screen\n",
    "scenarios/raises_scenario.py": '''
        import clean_counter


        def check():
            raise ValueError("planted failure %d" % clean_counter.COUNT)  # <-


        check()
        print("PASS")
    ''',
    "scenarios/silent_scenario.py": "import clean_counter\nprint('done', clean_counter.COUNT)\n",
    "scenarios/good_scenario.py": "import clean_counter\nassert clean_counter.COUNT == 3\nprint('PASS')\n",
}


@pytest.fixture(scope="module")
def vm_tree(tmp_path_factory):
    return plant(tmp_path_factory.mktemp("vm"), VM_TREE)


def test_vm_import_fails_for_a_module_using_dataclasses(vm_tree):
    outcomes, skipped = mpy_run.check_imports(vm_tree)
    by_name = {o.name: o for o in outcomes}
    assert set(by_name) == {"clean_counter", "uses_dataclasses", "firmware"}
    assert by_name["clean_counter"].ok and by_name["firmware"].ok
    failed = by_name["uses_dataclasses"]
    assert not failed.ok
    assert failed.reason == "ImportError: no module named 'dataclasses'"
    assert 'File "lib/uses_dataclasses.py", line 1' in failed.output
    # Hardware modules are not imported, and the report says which import is to blame.
    assert skipped == {"firmware.screen": ["firmware.screen", "displayio"],
                       "firmware.view": ["firmware.view", "firmware.screen", "displayio"]}


def test_vm_scenario_that_raises_fails_with_its_traceback(vm_tree):
    source = VM_TREE["scenarios/raises_scenario.py"]
    outcome = mpy_run.run_scenario(vm_tree / "scenarios" / "raises_scenario.py", vm_tree)
    assert not outcome.ok
    assert outcome.reason == "ValueError: planted failure 3"
    assert f'File "scenarios/raises_scenario.py", line {line_of(source)}, in check' in outcome.output


def test_vm_scenario_without_pass_fails(vm_tree):
    outcome = mpy_run.run_scenario(vm_tree / "scenarios" / "silent_scenario.py", vm_tree)
    assert not outcome.ok
    assert outcome.reason == "did not print PASS at the end"
    assert outcome.output.strip() == "done 3"


def test_vm_scenario_that_prints_pass_passes(vm_tree):
    outcome = mpy_run.run_scenario(vm_tree / "scenarios" / "good_scenario.py", vm_tree)
    assert outcome.ok, str(outcome)


def test_vm_offers_the_badge_asyncio_port_and_time(vm_tree):
    probe = (
        "import asyncio, time\n"
        "print(asyncio.__file__, hasattr(time, 'monotonic'), hasattr(time, 'ticks_ms'))\n"
        "print(TimeoutError is not asyncio.TimeoutError, issubclass(TimeoutError, OSError))\n"
    )
    with mpy_run.staged(vm_tree, None) as stage:
        run = mpy_vm.run(mpy_run._PRELUDE.format(path=mpy_run.GUEST_PATH) + probe, stage)
    assert run.ok, run.stderr
    # The port from /lib shadows nothing else; time has CircuitPython's names, not MicroPython's.
    assert run.stdout.splitlines() == ["/input/lib/asyncio/__init__.py True False", "True True"]


# -- the commands exit non-zero on failure -------------------------------------------------

def test_typecheck_command_exits_non_zero_on_errors(tmp_path, capsys):
    plant(tmp_path, {"code.py": "import board\npin = board.GP99\n"})
    assert typecheck.main([str(tmp_path / "code.py")]) == 1
    assert 'code.py:2: error: Module has no attribute "GP99"' in capsys.readouterr().out


def test_mpy_run_command_exits_non_zero_on_a_failing_scenario(vm_tree, capsys):
    root = ["--root", str(vm_tree)]
    assert mpy_run.main([str(vm_tree / "scenarios" / "good_scenario.py")] + root) == 0
    assert mpy_run.main([str(vm_tree / "scenarios" / "silent_scenario.py")] + root) == 1
    assert "FAIL  silent_scenario: did not print PASS at the end" in capsys.readouterr().out
