"""CircuitPython ``storage`` on the simulated CIRCUITPY drive.

``remount("/", readonly=False)`` lets the firmware write the drive (and, on a real
badge, makes it read-only to the computer over USB). Until then the badge's writes to
the drive fail with EROFS (the runtime enforces it). As on the board, ``remount`` works
in ``boot.py`` (before USB starts) or while no computer sees the drive; from code.py
with USB connected it raises RuntimeError. Other paths than ``/`` raise
``OSError(EINVAL)``.
"""

import errno

from sim.engines.cpython import world as _world


def remount(mount_path, readonly=False, *, disable_concurrent_write_protection=False):
    world = _world.current()
    if mount_path != "/":
        raise OSError(errno.EINVAL, "Invalid argument")
    if world.phase != "boot" and world.usb_connected and world.usb_drive_enabled:
        raise RuntimeError(world.cp_version.remount_refusal)
    world.drive_readonly_for_code = bool(readonly)
    world.boot_log.append(("remount", mount_path, bool(readonly)))


def getmount(mount_path):
    return _Mount(mount_path)


class _Mount:
    def __init__(self, path):
        self.label = "CIRCUITPY"
        self.readonly = getattr(_world.current(), "drive_readonly_for_code", True)


def disable_usb_drive():
    world = _world.current()
    world.usb_drive_enabled = False
    world.boot_log.append(("disable_usb_drive",))


def enable_usb_drive():
    world = _world.current()
    world.usb_drive_enabled = True
    world.boot_log.append(("enable_usb_drive",))


def erase_filesystem(extended=None):
    raise RuntimeError("erase_filesystem is not simulated")


class VfsFat:
    def __init__(self, block_device):
        raise RuntimeError("VfsFat is not simulated")


def mount(filesystem, mount_path, *, readonly=False):
    raise RuntimeError("mount is not simulated")


def umount(mount):
    raise RuntimeError("umount is not simulated")
