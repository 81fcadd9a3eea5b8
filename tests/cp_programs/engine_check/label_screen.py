"""A displayio label on the SSD1306: the frame both engines must draw alike."""

import displayio
import terminalio
from i2cdisplaybus import I2CDisplayBus

import adafruit_displayio_ssd1306
from adafruit_display_text import label


def show(i2c, text="Engine check 0x3C"):
    """Build the display on ``i2c``, show ``text`` twice and refresh once."""
    bus = I2CDisplayBus(i2c, device_address=0x3C)
    display = adafruit_displayio_ssd1306.SSD1306(bus, width=128, height=64,
                                                 auto_refresh=False)
    group = displayio.Group()
    group.append(label.Label(terminalio.FONT, text=text, x=4, y=12))
    group.append(label.Label(terminalio.FONT, text="-12.5 C / 61 %", x=10, y=40, scale=1))
    display.root_group = group
    display.refresh()
    return display
