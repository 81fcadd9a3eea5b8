"""Emulated chips of the badge, written from their datasheets (SSD1306, SHT3x-DIS)."""

from sim.chips.sht31d import SHT31D
from sim.chips.ssd1306 import SSD1306

__all__ = ["SHT31D", "SSD1306"]
