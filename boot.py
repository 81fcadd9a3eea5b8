"""Badge boot: who may write the CIRCUITPY drive.

Normally the firmware writes the drive (it stores received photos, QR text and the
name) and the computer sees it read-only. Hold button A while the badge powers up to
keep the drive writable from USB instead, for updating files.
"""

import board
import digitalio
import storage

button_a = digitalio.DigitalInOut(board.GP13)
button_a.switch_to_input(pull=digitalio.Pull.UP)
usb_may_write = not button_a.value  # pressed pulls the pin low
button_a.deinit()

if usb_may_write:
    print("boot: button A held; CIRCUITPY stays writable from USB")
else:
    storage.remount("/", readonly=False)
    print("boot: CIRCUITPY writable by the badge, read-only over USB")
