"""The last good name, QR text and photo survive a reboot; bad or partial files never show.

A reboot is a new VirtualBadge on the same drive folder, without an ExpressLink module,
so whatever it shows came from the drive. Power cuts are simulated by leaving the files
a cut would leave: a partial temporary file, a missing or corrupt target.
"""

import builtins
import errno
import os
import sys
from pathlib import Path

from firmware.storage import pack_record
from sim.engines.cpython.badge import VirtualBadge
from sim.content.deliver import BadgeScript, deliver, sleep_until
from sim.content.photo import encode_photo, image_to_bits
from PIL import Image, ImageDraw

THING = "badge-1"
NO_SHIFT = "BADGE_SHIFT_EVERY_S = 0\n"
QR_TEXT = "https://example.org/talks/42"


def frame(badge):
    return list(badge.display.panel_pixels())


def picture_bits():
    image = Image.new("L", (128, 64), 0)
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 5, 70, 58), fill=255)
    draw.rectangle((80, 10, 120, 50), outline=255, width=3)
    return image_to_bits(image, dither="none")


def first_run(make_badge, deliveries, duration_s=12):
    """Boot with the module, deliver ``deliveries`` [(kind, payload)], note each screen."""
    badge = make_badge(settings=NO_SHIFT)
    shots = {}

    async def steps(url):
        t = 4
        for kind, payload in deliveries:
            await sleep_until(badge.clock, t)
            await deliver(url, THING, kind, payload)
            await sleep_until(badge.clock, t + 1.5)
            shots[kind] = frame(badge)
            t += 2

    script = BadgeScript(badge, steps)
    badge.run(duration_s)
    script.result()
    return badge, shots


def reboot(make_badge, presses=(), duration_s=4):
    """A new badge on the same drive, no module; frames at boot and after each press."""
    badge = make_badge(settings=NO_SHIFT, module=False)
    shots = []
    badge.at(2, lambda: shots.append(frame(badge)))
    for index, button in enumerate(presses):
        badge.at(2.5 + index, lambda button=button: badge.press(button))
        badge.at(3 + index, lambda: shots.append(frame(badge)))
    badge.run(duration_s + len(presses))
    return badge, shots


def drive_of(badge):
    return Path(badge.drive_dir) / "badge_data"


def test_content_survives_a_reboot(make_badge):
    photo = encode_photo(picture_bits())
    badge, shots = first_run(make_badge, [("photo", photo), ("qr", QR_TEXT), ("name", "Ada")])
    files = sorted(p.name for p in drive_of(badge).iterdir())
    assert files == ["name.bin", "photo.bin", "qr.bin"]
    again, boot_shots = reboot(make_badge, presses=("B", "B"))
    # Boot shows the name tag (with its QR code), then B: the photo, then B: the QR.
    assert boot_shots[0] == shots["name"]
    assert boot_shots[1] == shots["photo"]
    assert boot_shots[2] == shots["qr"]
    assert any("restored name, qr, photo" in line for line in again.console), again.console
    assert not any("ignoring" in line for line in again.console)


def test_a_write_cut_short_leaves_the_previous_content(make_badge):
    """The second name's write dies halfway through its temporary file (as in a power
    cut: nothing cleans up); after the reboot the first name is back."""
    cut = {}

    def install_cut(loop):
        storage = sys.modules["firmware.storage"]
        real_write = storage._write_file

        def write_then_lose_power(path, data):
            if data.find(b"Bob") < 0:
                return real_write(path, data)
            with open(path, "wb") as file:
                file.write(data[: len(data) // 2])
            cut["path"] = path
            raise OSError(errno.EIO, "power lost")

        storage._write_file = write_then_lose_power
        storage._remove_quietly = lambda path: None

    badge = make_badge(settings=NO_SHIFT)
    badge.on_loop(install_cut)

    async def steps(url):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 6)
        before = frame(badge)
        await deliver(url, THING, "name", "Bob")
        await sleep_until(badge.clock, 8)
        return before

    script = BadgeScript(badge, steps)
    badge.run(9)
    ada_frame = script.result()
    assert cut["path"] == "badge_data/name.tmp"
    assert (drive_of(badge) / "name.tmp").stat().st_size < 20
    assert any("could not store name" in line for line in badge.console)

    again, shots = reboot(make_badge)
    assert shots[0] == ada_frame
    assert any("ignoring badge_data/name.tmp: an interrupted write" in line
               for line in again.console), again.console
    assert not (drive_of(again) / "name.tmp").exists()


def test_a_rename_cut_short_is_finished_at_boot(make_badge, tmp_path):
    """FAT renames onto an existing file by removing it first: a cut in between leaves
    only the complete temporary file, which boot checks and puts in place."""
    badge, shots = first_run(make_badge, [("name", "Ada")], duration_s=7)
    data = drive_of(badge)
    (data / "name.bin").unlink()
    (data / "name.tmp").write_bytes(pack_record("Ada".encode()))
    again, boot = reboot(make_badge)
    assert boot[0] == shots["name"]
    assert any("recovered badge_data/name.bin from badge_data/name.tmp" in line
               for line in again.console)
    assert (data / "name.bin").exists() and not (data / "name.tmp").exists()


def test_corrupt_and_partial_files_are_ignored(make_badge, tmp_path):
    photo = encode_photo(picture_bits())
    badge, _shots = first_run(make_badge, [("photo", photo), ("qr", QR_TEXT), ("name", "Ada")])
    data = drive_of(badge)
    name = bytearray((data / "name.bin").read_bytes())
    name[8] ^= 0x20  # one bit flipped: the record's CRC no longer matches
    (data / "name.bin").write_bytes(bytes(name))
    (data / "name.tmp").write_bytes(pack_record(b"Bob")[:9])  # a cut-short write
    photo_record = (data / "photo.bin").read_bytes()
    (data / "photo.bin").write_bytes(photo_record[:600])  # truncated
    # A record that checks out but holds a QR text the badge would refuse.
    (data / "qr.bin").write_bytes(pack_record(b"\xff\xfe not UTF-8"))

    again, shots = reboot(make_badge)
    console = "\n".join(again.console)
    assert "ignoring badge_data/name.bin: CRC mismatch" in console
    assert "ignoring badge_data/name.tmp: only 9 bytes (partial write?)" in console
    assert "ignoring badge_data/photo.bin: 600 bytes, the record says 1053" in console
    assert "ignoring the stored qr: QR text is not valid UTF-8 text" in console
    assert "restored" not in console
    # Nothing from those files is shown: the badge boots as one with an empty drive.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "settings.toml").write_text(NO_SHIFT)
    fresh = VirtualBadge(drive_dir=empty, module=False)
    fresh_shots = []
    fresh.at(2, lambda: fresh_shots.append(frame(fresh)))
    fresh.run(3)
    assert shots[0] == fresh_shots[0]


def test_a_read_only_drive_keeps_content_in_ram(make_badge, monkeypatch):
    """As when button A was held at power-up: every write to the drive fails with EROFS."""
    real_open, real_mkdir, real_rename = builtins.open, os.mkdir, os.rename

    def read_only(path):
        return str(path).startswith("badge_data")

    def open_read_only(path, mode="r", *args, **kwargs):
        if read_only(path) and any(flag in mode for flag in "wax+"):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, mode, *args, **kwargs)

    def refuse(real):
        def call(path, *args, **kwargs):
            if read_only(path):
                raise OSError(errno.EROFS, "Read-only file system")
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(builtins, "open", open_read_only)
    monkeypatch.setattr(os, "mkdir", refuse(real_mkdir))
    monkeypatch.setattr(os, "rename", refuse(real_rename))
    badge, shots = first_run(make_badge, [("name", "Ada"), ("qr", QR_TEXT), ("name", "Bob")],
                             duration_s=11)
    monkeypatch.undo()
    lines = [line for line in badge.console if "storage: the drive is read-only" in line]
    assert len(lines) == 1 and "kept in RAM" in lines[0], badge.console
    assert not drive_of(badge).exists()
    document = badge.cloud.shadows.document(THING)
    assert document["state"]["reported"]["storage"] == "ram"
    assert document["state"]["reported"]["name"] == "Bob"
    assert shots["name"] != shots["qr"]  # the content is shown all the same
