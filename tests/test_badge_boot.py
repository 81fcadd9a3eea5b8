"""boot.py: button A, on the pin the settings name, decides who may write the drive."""

import shutil

from sim.engines.cpython.badge import REPO_ROOT, VirtualBadge


def boot(make_badge, settings="", held=()):
    """Run the badge's boot.py (and 1 s of code.py) with ``held`` pins low from power-up."""
    badge = make_badge(settings=settings, module=False)
    for pin in held:
        badge.world.set_button(pin, True)
    badge.run(1)
    return badge


def test_button_a_held_keeps_the_drive_writable_from_usb(make_badge):
    badge = boot(make_badge, held=("GP13",))
    assert "boot: button A held; CIRCUITPY stays writable from USB" in badge.console
    assert badge.world.drive_readonly_for_code


def test_button_a_on_the_pin_its_setting_names(make_badge):
    moved = 'BADGE_PIN_BUTTON_A = "GP16"\n'
    badge = boot(make_badge, moved, held=("GP16",))
    assert "boot: button A held; CIRCUITPY stays writable from USB" in badge.console
    assert badge.world.drive_readonly_for_code
    badge = boot(make_badge, moved, held=("GP13",))  # no longer button A
    assert "boot: CIRCUITPY writable by the badge, read-only over USB" in badge.console
    assert not badge.world.drive_readonly_for_code


def test_a_bad_pin_name_falls_back_to_the_default_and_says_so(make_badge):
    badge = boot(make_badge, 'BADGE_PIN_BUTTON_A = "GP99"\n', held=("GP13",))
    assert "boot: settings: no pin board.GP99; using GP13" in badge.console
    assert "boot: button A held; CIRCUITPY stays writable from USB" in badge.console


def test_a_damaged_firmware_leaves_the_drive_to_the_computer(tmp_path):
    """boot.py cannot read the pin map: the computer keeps the drive, to repair it."""
    code = tmp_path / "code"
    (code / "firmware").mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "boot.py", code / "boot.py")
    (code / "firmware" / "__init__.py").write_text("")
    (code / "firmware" / "settings.py").write_text("raise ImportError('damaged')\n")
    badge = VirtualBadge(code_root=code, drive_dir=tmp_path / "drive", module=False)
    badge.run(1)
    assert badge.console == ["boot: cannot read button A (ImportError: damaged); "
                             "CIRCUITPY stays writable from USB"]
    assert badge.world.drive_readonly_for_code
