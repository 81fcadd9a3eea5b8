"""Byte sequences shared by the chip tests, with their sources."""

# The SSD1306 set-up adafruit_displayio_ssd1306 3.0.6 sends (its init table): AE;
# 20 00; 81 CF; A1; A6; C8; A8 3F; D5 80; D9 F1; DA 12; DB 40; 8D 14; AF; then 81 FF
# (brightness 1.0). Each command sits behind control byte 0x80.
DRIVER_INIT = [
    (0xAE,),
    (0x20, 0x00),
    (0x81, 0xCF),
    (0xA1,),
    (0xA6,),
    (0xC8,),
    (0xA8, 0x3F),
    (0xD5, 0x80),
    (0xD9, 0xF1),
    (0xDA, 0x12),
    (0xDB, 0x40),
    (0x8D, 0x14),
    (0xAF,),
    (0x81, 0xFF),
]
