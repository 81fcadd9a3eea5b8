"""The OLED as the page sees it: one snapshot of an SSD1306, packed as protocol.md says.

A :class:`Frame` holds the simulated time ``t`` (s), ``flags`` (bit 0 panel lit: display
on (AF) and powered; bit 1 inverted (A7); bit 2 entire display on (A5)), ``contrast``
(0-255) and ``bits``: 1024 bytes, 64 rows of 16, MSB = leftmost pixel. While the panel
is dark the bits are what the RAM would show if it were lit, so the page can paint a
dark panel and still show the content on hover or in a replay.
"""

import base64
import struct

from sim.chips.ssd1306_panel import HEIGHT, WIDTH, panel_pixels

FRAME_TAG = 0x46  # "F"
FLAG_ON, FLAG_INVERTED, FLAG_ENTIRE_ON = 1, 2, 4
BITS_BYTES = WIDTH * HEIGHT // 8
FRAME_BYTES = 11 + BITS_BYTES
_HEAD = struct.Struct("<BdBB")


class _LitView:
    """The chip as if its panel were powered: for the pixels of a dark panel."""

    panel_lit = True

    def __init__(self, chip):
        self._chip = chip

    def __getattr__(self, name):
        return getattr(self._chip, name)


def pack_pixels(pixels):
    """64 x 128 bytes of 0/1 (``panel_pixels()``) -> 1024 bytes, MSB = leftmost."""
    out = bytearray(BITS_BYTES)
    for index in range(0, WIDTH * HEIGHT, 8):
        chunk = pixels[index:index + 8]
        out[index >> 3] = ((chunk[0] << 7) | (chunk[1] << 6) | (chunk[2] << 5)
                           | (chunk[3] << 4) | (chunk[4] << 3) | (chunk[5] << 2)
                           | (chunk[6] << 1) | chunk[7])
    return bytes(out)


def unpack_bits(bits):
    """1024 packed bytes -> 64 x 128 bytes of 0/1, row-major (``panel_pixels()``'s form)."""
    out = bytearray(WIDTH * HEIGHT)
    for index, byte in enumerate(bits):
        base = index << 3
        for bit in range(8):
            out[base + bit] = (byte >> (7 - bit)) & 1
    return bytes(out)


class Frame:
    """One picture of the panel; compare with ``same_picture`` (ignores ``t``)."""

    __slots__ = ("t", "flags", "contrast", "bits")

    def __init__(self, t, flags, contrast, bits):
        self.t = float(t)
        self.flags = flags
        self.contrast = contrast
        self.bits = bytes(bits)

    @classmethod
    def of(cls, chip, t):
        """Snapshot ``chip`` (an SSD1306) at simulated time ``t``; call on its loop."""
        lit = chip.panel_lit
        pixels = chip.panel_pixels() if lit else panel_pixels(_LitView(chip))
        flags = ((FLAG_ON if lit else 0) | (FLAG_INVERTED if chip.inverted else 0)
                 | (FLAG_ENTIRE_ON if chip.entire_on else 0))
        return cls(t, flags, chip.contrast, pack_pixels(pixels))

    def same_picture(self, other):
        return (other is not None and self.bits == other.bits and self.flags == other.flags
                and self.contrast == other.contrast)

    def pixels(self):
        """64 x 128 bytes of 0/1, as ``panel_pixels()`` gives them (for a lit panel)."""
        return unpack_bits(self.bits)

    # -- wire and file forms -----------------------------------------------------------
    def to_bytes(self):
        """The binary WebSocket message (protocol.md, "frame")."""
        return _HEAD.pack(FRAME_TAG, self.t, self.flags, self.contrast) + self.bits

    @classmethod
    def from_bytes(cls, data):
        if len(data) != FRAME_BYTES or data[0] != FRAME_TAG:
            raise ValueError("a frame is %d bytes starting with 'F'" % FRAME_BYTES)
        _tag, t, flags, contrast = _HEAD.unpack_from(data)
        return cls(t, flags, contrast, data[11:])

    def to_record(self):
        """The JSON object a recording keeps for this frame."""
        return {"type": "frame", "t": self.t, "flags": self.flags,
                "contrast": self.contrast, "bits": base64.b64encode(self.bits).decode("ascii")}

    @classmethod
    def from_record(cls, record):
        """Back from :meth:`to_record`; ValueError when a field is missing or wrong."""
        try:
            bits = base64.b64decode(record["bits"], validate=True)
            frame = cls(record["t"], int(record["flags"]), int(record["contrast"]), bits)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError("bad frame record (%s)" % error) from None
        if len(frame.bits) != BITS_BYTES or not 0 <= frame.contrast <= 255:
            raise ValueError("bad frame record: %d bytes of pixels, contrast %d"
                             % (len(frame.bits), frame.contrast))
        return frame
