"""QR codes on the screen: choose version, error correction and scale, centre, draw.

Rules (issue 4): the largest integer scale s at which the code and its 4-module quiet
zone fit the area, (17 + 4V + 8) * s <= min(width, height); at that scale the
strongest error correction level (H, then Q, M, L) that still fits; centred; dark
modules on a lit quiet zone. The text goes in one byte-mode segment (adafruit_miniqr
encodes only that mode, versions 1..9, no ECI: readers guess UTF-8 from the bytes).

The choice comes from the standard's capacity table, so only one code is built.
"""

import sys

from micropython import const

try:
    from typing import Any
except ImportError:
    pass

from firmware.content_limits import (
    QR_MAX_VERSION,
    QR_QUIET_ZONE_MODULES,
    SCREEN_HEIGHT_PX,
    SCREEN_WIDTH_PX,
)

# Data codewords of QR versions 1..9 per error correction level (ISO/IEC 18004, table 7).
_DATA_CODEWORDS = {
    "L": bytes((19, 34, 55, 80, 108, 136, 156, 194, 232)),
    "M": bytes((16, 28, 44, 64, 86, 108, 124, 154, 182)),
    "Q": bytes((13, 22, 34, 48, 62, 76, 88, 110, 132)),
    "H": bytes((9, 16, 26, 36, 46, 60, 66, 86, 100)),
}
LEVELS_STRONGEST_FIRST = ("H", "Q", "M", "L")
_MINIQR_LEVEL = {"L": 1, "M": 0, "Q": 3, "H": 2}  # adafruit_miniqr.L, .M, .Q, .H
# Byte mode in versions 1..9: 4-bit mode indicator + 8-bit length = 12 bits of overhead.
_BYTE_MODE_OVERHEAD_BITS = const(12)


def qr_modules(version):
    """Modules per side of a QR code of ``version``."""
    return 17 + 4 * version


def qr_capacity(version, level):
    """Bytes of text one byte-mode segment carries at ``version`` and ``level``."""
    return (_DATA_CODEWORDS[level][version - 1] * 8 - _BYTE_MODE_OVERHEAD_BITS) // 8


def _box_modules(version):
    return qr_modules(version) + 2 * QR_QUIET_ZONE_MODULES


def _largest_version(side_px):
    """Largest version whose code and quiet zone fit ``side_px`` at 1 px per module."""
    version = QR_MAX_VERSION
    while version >= 1 and _box_modules(version) > side_px:
        version -= 1
    return version


def _smallest_version(level, byte_count, max_version):
    """Smallest version up to ``max_version`` that carries ``byte_count`` bytes, or 0."""
    for version in range(1, max_version + 1):
        if qr_capacity(version, level) >= byte_count:
            return version
    return 0


def qr_max_bytes(width=SCREEN_WIDTH_PX, height=SCREEN_HEIGHT_PX, level="L"):
    """Most bytes of text a QR code at ``level`` can carry on a width x height area."""
    version = _largest_version(min(width, height))
    return qr_capacity(version, level) if version else 0


class QRLayout:
    """A QR code placed on an area of width x height pixels.

    ``left``, ``top`` and ``size_px`` give the square of the code with its quiet zone;
    ``code_left`` and ``code_top`` the first module; ``scale`` is pixels per module.
    ``dark(row, col)`` tells whether a module is dark.
    """

    def __init__(self, bits, version, level, scale, width, height, byte_count):
        self.bits = bits  # dark modules, row by row, most significant bit first
        self.version = version
        self.level = level
        self.scale = scale
        self.modules = qr_modules(version)
        self.byte_count = byte_count
        self.width = width
        self.height = height
        self.size_px = _box_modules(version) * scale
        self.left = (width - self.size_px) // 2
        self.top = (height - self.size_px) // 2
        self.code_left = self.left + QR_QUIET_ZONE_MODULES * scale
        self.code_top = self.top + QR_QUIET_ZONE_MODULES * scale

    def dark(self, row, col):
        """True when module (row, col) is dark."""
        at = row * self.modules + col
        return bool(self.bits[at >> 3] & (0x80 >> (at & 7)))


def qr_layout(text, width=SCREEN_WIDTH_PX, height=SCREEN_HEIGHT_PX):
    """Lay out ``text`` (str, or bytes used as they are) as a QR code on the area.

    Raises ValueError when the text is empty or does not fit at 1 pixel per module; the
    message gives the text's size and the maximum that fits.
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    byte_count = len(data)
    if not byte_count:
        raise ValueError("QR text is empty")
    side = min(width, height)
    max_version = _largest_version(side)
    if max_version < 1:
        raise ValueError("a %dx%d area is too small for a QR code" % (width, height))
    version = _smallest_version("L", byte_count, max_version)
    if not version:
        raise ValueError(
            "QR text is %d bytes; at most %d bytes fit on %dx%d pixels"
            % (byte_count, qr_capacity(max_version, "L"), width, height)
        )
    scale = side // _box_modules(version)
    level = "L"
    for candidate in LEVELS_STRONGEST_FIRST:
        candidate_version = _smallest_version(candidate, byte_count, max_version)
        if candidate_version and side // _box_modules(candidate_version) >= scale:
            level = candidate
            version = candidate_version
            break
    # adafruit_miniqr is imported for this only and let go afterwards: its code keeps
    # about 10 KB of the badge's heap, and a code is built once per text. (Built here,
    # not in a helper: this is the deepest call chain on the badge's 1.5 KB stack.)
    import adafruit_miniqr

    qr = adafruit_miniqr.QRCode(qr_type=version, error_correct=_MINIQR_LEVEL[level])
    qr.add_data(data)
    qr.make()
    matrix = qr.matrix  # type: Any  # indexed [row, col]
    modules = qr_modules(version)
    bits = bytearray((modules * modules + 7) // 8)
    at = 0
    for row in range(modules):
        for col in range(modules):
            if matrix[row, col]:
                bits[at >> 3] |= 0x80 >> (at & 7)
            at += 1
    del qr, matrix, adafruit_miniqr
    sys.modules.pop("adafruit_miniqr", None)
    return QRLayout(bits, version, level, scale, width, height, byte_count)


def render_qr_into(layout, bitmap, lit=1, dark=0, x0=0, y0=0, clear=True):
    """Draw ``layout`` into ``bitmap`` (anything with ``bitmap[x, y] = v``).

    The quiet zone and light modules get ``lit``, dark modules ``dark``. The layout's
    area starts at (x0, y0); with ``clear`` the rest of that area is set to ``dark``.
    """
    left = x0 + layout.left
    top = y0 + layout.top
    if clear:
        right = left + layout.size_px
        bottom = top + layout.size_px
        for y in range(y0, y0 + layout.height):
            inside_rows = top <= y < bottom
            for x in range(x0, x0 + layout.width):
                if not (inside_rows and left <= x < right):
                    bitmap[x, y] = dark
    render_qr_at(layout, bitmap, left, top, layout.scale, lit, dark)


def box_px(layout, scale=1):
    """Side in pixels of ``layout``'s code with its quiet zone at ``scale``."""
    return (layout.modules + 2 * QR_QUIET_ZONE_MODULES) * scale


def render_qr_at(layout, bitmap, left, top, scale=1, lit=1, dark=0):
    """Draw ``layout``'s code and quiet zone with the box's top-left corner at
    (left, top), ``scale`` pixels per module (the layout's own scale or any other)."""
    quiet = QR_QUIET_ZONE_MODULES
    modules = layout.modules
    bits = layout.bits
    box = modules + 2 * quiet
    for box_row in range(box):
        row = box_row - quiet
        row_in_code = 0 <= row < modules
        y_start = top + box_row * scale
        for box_col in range(box):
            col = box_col - quiet
            value = lit
            if row_in_code and 0 <= col < modules:
                at = row * modules + col
                if bits[at >> 3] & (0x80 >> (at & 7)):
                    value = dark
            x_start = left + box_col * scale
            for y in range(y_start, y_start + scale):
                for x in range(x_start, x_start + scale):
                    bitmap[x, y] = value
