"""The label part of the engine check alone, for the CPython engine: the same frame."""

import board
import busio
import displayio

import label_screen

displayio.release_displays()
i2c = busio.I2C(board.GP5, board.GP4, frequency=400_000)
label_screen.show(i2c)
print("check frame shown")
