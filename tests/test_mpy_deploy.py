"""The .mpy deploy: CircuitPython's own compiler, and only the modules the badge imports."""

import ast
import os
import re
import stat
from pathlib import Path

import pytest

from sim.tools import mpy_cross
from portability.import_graph import BADGE_BUILT_INS, reachable_modules
from sim.tools.deploy import DeployError, deploy, shippable_modules

REPO = Path(__file__).resolve().parent.parent
CP10 = "Adafruit CircuitPython 10.2.1 on 2025-11-04; Raspberry Pi Pico with rp2040\n"

# Modules of today's pinned libraries that nothing on the badge imports.
NEVER_IMPORTED = ("adafruit_display_text/__init__", "adafruit_display_text/label",
                  "adafruit_display_text/bitmap_label", "adafruit_display_text/text_box",
                  "adafruit_display_text/outlined_label",
                  "adafruit_display_text/scrolling_label", "adafruit_sht31d",
                  "adafruit_bus_device/spi_device",
                  "asyncio/stream",
                  # fallbacks for modules CircuitPython has built in (_asyncio, traceback)
                  "asyncio/task", "asyncio/traceback")


def fake_drive(path):
    path.mkdir()
    (path / "boot_out.txt").write_text(CP10 + "Board ID:raspberry_pi_pico\n")
    return path


@pytest.fixture(scope="module")
def mpy_drive(tmp_path_factory):
    drive = fake_drive(tmp_path_factory.mktemp("mpy") / "CIRCUITPY")
    list(deploy(drive))
    return drive


@pytest.fixture(scope="module")
def source_drive(tmp_path_factory):
    drive = fake_drive(tmp_path_factory.mktemp("src") / "CIRCUITPY")
    list(deploy(drive, source=True))
    return drive


def modules_on(drive, suffix):
    return sorted(p.relative_to(drive).with_suffix("").as_posix()
                  for folder in ("firmware", "lib") for p in (drive / folder).rglob("*" + suffix))


def test_every_module_is_circuitpython_bytecode(mpy_drive):
    compiled = sorted((mpy_drive / "firmware").rglob("*.mpy")) + sorted(
        (mpy_drive / "lib").rglob("*.mpy"))
    assert len(compiled) > 50
    for path in compiled:
        head = path.read_bytes()[:2]
        assert head == b"C\x06", "%s starts with %r, not CircuitPython's b'C' + version 6" % (
            path.relative_to(mpy_drive), head)
    assert not modules_on(mpy_drive, ".py"), "only .mpy modules in firmware/ and lib/"
    assert (mpy_drive / "code.py").read_bytes() == (REPO / "code.py").read_bytes()
    assert (mpy_drive / "boot.py").read_bytes() == (REPO / "boot.py").read_bytes()


def test_mpy_and_source_drives_ship_the_same_modules(mpy_drive, source_drive):
    assert modules_on(mpy_drive, ".mpy") == modules_on(source_drive, ".py")


def _candidates():
    """{drive path without suffix: module name} of every module that could be shipped."""
    return {where.with_suffix("").as_posix(): name
            for name, (_, where) in shippable_modules(REPO).items()}


def _imports_of(file, name):
    """Every absolute module name a file imports, wherever the import is written."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([p for p in parts if p] + ([base] if base else []))
            found.add(base)
            found.update(base + "." + alias.name for alias in node.names)
    for imported in list(found):
        parts = imported.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


def _lazy_attributes():
    """asyncio's ``{attribute: submodule}`` table: ``asyncio.Event`` imports asyncio.event."""
    init = shippable_modules(REPO)["asyncio"][0]
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_attrs":
            return ast.literal_eval(node.value)
    raise AssertionError("asyncio has no _attrs table any more")


def test_the_drive_holds_every_module_the_badge_imports_and_nothing_else(source_drive):
    candidates = _candidates()
    files = {"code": source_drive / "code.py", "boot": source_drive / "boot.py"}
    for path in modules_on(source_drive, ".py"):
        files[candidates[path]] = source_drive / (path + ".py")
    lazy = _lazy_attributes()
    imported = {}
    for name, file in files.items():
        targets = _imports_of(file, name if name not in ("code", "boot") else "")
        if "asyncio" in targets:
            used = re.findall(r"\basyncio\.(\w+)", file.read_text(encoding="utf-8"))
            targets.update("asyncio." + lazy[attr] for attr in used if attr in lazy)
        for target in targets:
            imported.setdefault(target, name)
    shipped = set(files) - {"code", "boot"}
    wanted = {name for name in imported if name in candidates.values()}
    # fallbacks for what CircuitPython has built in (_asyncio, traceback): never imported
    missing = sorted(wanted - shipped - {"asyncio.task", "asyncio.traceback"})
    assert not missing, "imported but not on the drive: %s" % [
        "%s (imported by %s)" % (m, imported[m]) for m in missing]
    unimported = sorted(shipped - wanted)
    assert not unimported, "on the drive but never imported: %s" % unimported
    for path in NEVER_IMPORTED:
        assert not (source_drive / "lib" / (path + ".py")).exists(), path


def test_lazy_imports_inside_functions_are_shipped(source_drive):
    # code.py imports these inside functions only
    for path in ("firmware/event_line.py", "lib/adafruit_bus_device/i2c_device.py",
                 "lib/adafruit_displayio_ssd1306.py", "lib/asyncio/event.py"):
        assert (source_drive / path).is_file(), path


def test_reachable_modules_follows_lazy_guarded_and_attribute_imports(tmp_path):
    files = {
        "code.py": "import app\n",
        "app.py": "import pkg\ndef later():\n    import late\n    return pkg.Thing\n",
        "late.py": "try:\n    from fancy import x\nexcept ImportError:\n    from plain import x\n",
        "plain.py": "",
        "unused.py": "",
        "pkg/__init__.py": "_attrs = {'Thing': 'thing', 'Other': 'other'}\n"
                           "def __getattr__(attr):\n    return __import__(_attrs[attr])\n"
                           "try:\n    from _asyncio import T\nexcept ImportError:\n"
                           "    from .slow import T\n",
        "pkg/thing.py": "", "pkg/other.py": "", "pkg/slow.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = {"app": tmp_path / "app.py", "late": tmp_path / "late.py",
               "plain": tmp_path / "plain.py", "unused": tmp_path / "unused.py",
               "pkg": tmp_path / "pkg/__init__.py", "pkg.thing": tmp_path / "pkg/thing.py",
               "pkg.other": tmp_path / "pkg/other.py", "pkg.slow": tmp_path / "pkg/slow.py"}
    reached = reachable_modules([tmp_path / "code.py"], modules)
    assert sorted(reached) == ["app", "late", "pkg", "pkg.thing", "plain"]
    assert reached["late"] == "app"
    assert "_asyncio" in BADGE_BUILT_INS
    everything = reachable_modules([tmp_path / "code.py"], modules, built_ins=())
    assert "pkg.slow" in everything


def test_a_second_deploy_removes_what_the_first_left(tmp_path):
    drive = fake_drive(tmp_path / "d")
    list(deploy(drive, source=True))
    (drive / "lib" / "asyncio" / "stream.py").write_text("# old deploy\n")
    (drive / "lib" / "user_library.py").write_text("# not ours: stays\n")
    lines = list(deploy(drive))
    from sim.tools.deploy import deploy_plan

    removed = len(deploy_plan()[0]) + 1  # each module's .py, and the stale stream.py
    assert any(line.startswith("removed %d files" % removed) for line in lines), lines
    assert modules_on(drive, ".py") == ["lib/user_library"]  # not ours: it stays


def test_deploy_prints_what_it_shipped(tmp_path):
    lines = list(deploy(fake_drive(tmp_path / "d")))
    summary = [line for line in lines if line.startswith("deployed ")]
    assert summary and " .mpy " in summary[0] and "bytes as .py" in summary[0]
    assert any(line.startswith("left out 11 modules") for line in lines)


def _fake_compiler(path, version_line):
    path.write_text("#!/bin/sh\necho '%s'\n" % version_line)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_mpy_cross_says_what_is_missing_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(mpy_cross.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(mpy_cross.MpyCrossError) as missing:
        mpy_cross.find_mpy_cross()
    assert "CIRCUITPY_MPY_CROSS=%s: no such file" % (tmp_path / "nowhere") in str(missing.value)
    assert "prebuilt mpy-cross" in str(missing.value)
    assert "--source" in str(missing.value)
    micropython = _fake_compiler(tmp_path / "mpy-cross", "MicroPython v1.22.0 on 2023-12-27")
    monkeypatch.setenv(mpy_cross.ENV_VAR, str(micropython))
    with pytest.raises(mpy_cross.MpyCrossError, match="not CircuitPython's mpy-cross"):
        mpy_cross.find_mpy_cross()
    with pytest.raises(DeployError, match="not CircuitPython's mpy-cross"):
        list(deploy(fake_drive(tmp_path / "d")))
    assert not (tmp_path / "d" / "code.py").exists(), "nothing written without a compiler"


def test_the_env_var_chooses_the_compiler(tmp_path, monkeypatch):
    built = mpy_cross.find_mpy_cross()
    copy = tmp_path / "elsewhere" / "mpy-cross"
    copy.parent.mkdir()
    copy.write_bytes(built.read_bytes())
    copy.chmod(0o755)
    monkeypatch.setenv(mpy_cross.ENV_VAR, str(copy))
    assert mpy_cross.find_mpy_cross() == copy
    out = mpy_cross.compile_to(REPO / "firmware" / "log.py", tmp_path / "out" / "log.mpy")
    assert out.read_bytes()[:2] == b"C\x06"
    assert "CircuitPython" in mpy_cross.version_of(copy)


def test_compile_to_reports_a_module_that_does_not_compile(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(mpy_cross.MpyCrossError, match="could not compile .*bad.py"):
        mpy_cross.compile_to(bad, tmp_path / "bad.mpy")
    assert not (tmp_path / "bad.mpy").exists()


def test_the_built_compiler_is_circuitpythons():
    if os.environ.get(mpy_cross.ENV_VAR):
        pytest.skip("%s chooses another compiler" % mpy_cross.ENV_VAR)
    assert mpy_cross.find_mpy_cross() == mpy_cross.BUILT
    assert mpy_cross.version_of(mpy_cross.BUILT).startswith("CircuitPython 10.2.1")
