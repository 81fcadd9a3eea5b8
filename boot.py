"""Badge boot: who may write the CIRCUITPY drive.

Normally the firmware writes the drive (it stores received photos, QR text and the
name) and the computer sees it read-only. Hold button A while the badge powers up to
keep the drive writable from USB instead, for updating files.
"""

import os

import board
import digitalio
import storage


def log(topic, message):
    print("boot: %s: %s" % (topic, message))


usb_may_write = True
try:
    from firmware.settings import read_pin

    # The pin of BADGE_PIN_BUTTON_A, or its default (and a message) when that is bad.
    button_a = digitalio.DigitalInOut(read_pin(board, os.getenv, "pin_button_a", log))
    button_a.switch_to_input(pull=digitalio.Pull.UP)
    usb_may_write = not button_a.value  # pressed pulls the pin low
    button_a.deinit()
    if usb_may_write:
        print("boot: button A held; CIRCUITPY stays writable from USB")
except Exception as error:  # a broken firmware/ must not lock out the computer that can fix it
    print("boot: cannot read button A (%s: %s); CIRCUITPY stays writable from USB"
          % (type(error).__name__, error))

if not usb_may_write:
    storage.remount("/", readonly=False)
    print("boot: CIRCUITPY writable by the badge, read-only over USB")
