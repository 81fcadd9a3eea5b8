"""The photo payload: base64 text of a versioned 128x64 1-bit image with a CRC-32.

Binary layout, version 1 (1042 bytes; 1392 characters of base64)::

    offset  size  content
    0       3     magic b"BPH"
    3       1     format version, 1
    4       10    PBM P4 header b"P4\\n128 64\\n"
    14      1024  PBM P4 raster: 64 rows of 16 bytes, top row first, most significant
                  bit = leftmost pixel; bit 1 = black = OLED pixel off,
                  bit 0 = white = OLED pixel lit
    1038    4     CRC-32 (IEEE 802.3, as zlib.crc32) of bytes 0..1037, big-endian

Bytes 4..1037 are a valid PBM file on their own. The decoder also accepts any other
PBM P4 header spelling (single spaces, tabs or line breaks between the fields; no
comments) as long as it says 128x64. The MQTT payload is the standard base64 alphabet
with "=" padding; whitespace anywhere in it is ignored.

Everything is checked before the caller's frame buffer is touched, so a bad photo never
reaches the screen.
"""

import binascii

from micropython import const

PHOTO_WIDTH = const(128)
PHOTO_HEIGHT = const(64)
FRAME_BYTES = const(1024)  # PHOTO_WIDTH * PHOTO_HEIGHT // 8
PHOTO_MAGIC = b"BPH"
PHOTO_VERSION = const(1)
SUPPORTED_VERSIONS = (1,)
PBM_HEADER = b"P4\n128 64\n"
PHOTO_BINARY_BYTES = const(1042)  # 4 + 10 + 1024 + 4
PHOTO_PAYLOAD_CHARS = const(1392)  # base64 of PHOTO_BINARY_BYTES

_CRC_BYTES = const(4)
_MAX_HEADER_BYTES = const(32)


class PhotoError(ValueError):
    """A photo payload the badge refuses; the message says why."""


# -- base64 checking -------------------------------------------------------------

_B64_NONE = const(0)
_B64_DIGIT = const(1)
_B64_PAD = const(2)
_SPACE = const(3)


def _byte_classes():
    """256-entry table: what each byte is in base64 text (and PBM whitespace)."""
    table = bytearray(256)
    for lo, hi in ((65, 90), (97, 122), (48, 57)):
        for code in range(lo, hi + 1):
            table[code] = _B64_DIGIT
    table[43] = _B64_DIGIT  # +
    table[47] = _B64_DIGIT  # /
    table[61] = _B64_PAD  # =
    for code in (9, 10, 13, 32):
        table[code] = _SPACE
    return table


_BYTE_CLASS = _byte_classes()


def _check_base64(data):
    """Raise PhotoError unless ``data`` (bytes) is well-formed padded base64."""
    digits = 0
    pads = 0
    classes = _BYTE_CLASS
    for offset in range(len(data)):
        code = data[offset]
        kind = classes[code]
        if kind == _B64_DIGIT:
            if pads:
                raise PhotoError(
                    "photo: base64 text goes on after '=' padding (offset %d)" % offset
                )
            digits += 1
        elif kind == _B64_PAD:
            pads += 1
        elif kind == _B64_NONE:
            raise PhotoError(
                "photo: not base64: byte 0x%02X at offset %d is outside the alphabet"
                % (code, offset)
            )
    if not digits:
        raise PhotoError("photo: payload is empty")
    if pads > 2 or (digits + pads) % 4:
        raise PhotoError(
            "photo: base64 length %d is not a whole number of 4-character groups"
            " (truncated or badly padded)" % (digits + pads)
        )


# -- PBM header -------------------------------------------------------------------


def _pbm_number(data, pos, end):
    """Parse a decimal field at ``pos``; return (value, position after it)."""
    value = 0
    start = pos
    while pos < end and 48 <= data[pos] <= 57 and pos - start < 5:
        value = value * 10 + data[pos] - 48
        pos += 1
    if pos == start:
        raise PhotoError("photo: PBM header has no number at offset %d" % pos)
    return value, pos


def _parse_pbm_header(data, pos):
    """Check a P4 header at ``pos``; return the offset of the first raster byte."""
    end = min(len(data), pos + _MAX_HEADER_BYTES)
    if data[pos : pos + 2] != b"P4":
        raise PhotoError("photo: image is not a binary PBM (P4) bitmap")
    pos += 2
    sizes = []
    for _ in range(2):
        if pos >= end or _BYTE_CLASS[data[pos]] != _SPACE:
            raise PhotoError("photo: PBM header is malformed")
        while pos < end and _BYTE_CLASS[data[pos]] == _SPACE:
            pos += 1
        if pos < end and data[pos] == 35:  # '#'
            raise PhotoError("photo: PBM comments are not supported")
        value, pos = _pbm_number(data, pos, end)
        sizes.append(value)
    if sizes[0] != PHOTO_WIDTH or sizes[1] != PHOTO_HEIGHT:
        raise PhotoError(
            "photo: image is %dx%d, the badge shows %dx%d"
            % (sizes[0], sizes[1], PHOTO_WIDTH, PHOTO_HEIGHT)
        )
    if pos >= end or _BYTE_CLASS[data[pos]] != _SPACE:
        raise PhotoError("photo: PBM header is malformed")
    return pos + 1


# -- decoding ---------------------------------------------------------------------


def check_photo(binary):
    """Validate a decoded photo (bytes); return the offset of its 1024 raster bytes."""
    size = len(binary)
    if binary[0:3] != PHOTO_MAGIC[0:size]:
        raise PhotoError(
            "photo: not a badge photo (starts %r, expected %r)" % (bytes(binary[0:3]), PHOTO_MAGIC)
        )
    if size < 4:
        raise PhotoError(
            "photo: truncated: %d bytes, a version 1 photo is %d" % (size, PHOTO_BINARY_BYTES)
        )
    version = binary[3]
    if version not in SUPPORTED_VERSIONS:
        raise PhotoError(
            "photo: format version %d is not supported (supported: %s)"
            % (version, ", ".join([str(v) for v in SUPPORTED_VERSIONS]))
        )
    if size < 4 + len(PBM_HEADER):
        raise PhotoError(
            "photo: truncated: %d bytes, a version 1 photo is %d" % (size, PHOTO_BINARY_BYTES)
        )
    raster = _parse_pbm_header(binary, 4)
    expected = raster + FRAME_BYTES + _CRC_BYTES
    if size < expected:
        raise PhotoError("photo: truncated: %d bytes, this photo needs %d" % (size, expected))
    if size > expected:
        raise PhotoError(
            "photo: %d bytes of trailing data after the CRC (%d bytes, expected %d)"
            % (size - expected, size, expected)
        )
    crc_at = raster + FRAME_BYTES
    stored = (
        (binary[crc_at] << 24)
        | (binary[crc_at + 1] << 16)
        | (binary[crc_at + 2] << 8)
        | binary[crc_at + 3]
    )
    # binascii.crc32 is built into CircuitPython 9.x and 10.x on the Pico (as zlib.crc32).
    computed = binascii.crc32(memoryview(binary)[:crc_at])
    if stored != computed:
        raise PhotoError(
            "photo: CRC mismatch (stored %08X, computed %08X): corrupted in transit"
            % (stored, computed)
        )
    return raster


def decode_photo_binary(payload):
    """Validate a photo payload; return (binary photo bytes, offset of its raster).

    ``payload``: the base64 text (bytes preferred; a str is encoded once). Raises
    PhotoError (a ValueError) with the reason when anything is wrong.
    """
    if isinstance(payload, str):
        payload = payload.encode()
    _check_base64(payload)
    try:
        binary = binascii.a2b_base64(payload)
    except ValueError as error:  # binascii.Error is a ValueError
        raise PhotoError("photo: not base64 (%s)" % error)
    return binary, check_photo(binary)


def stored_crc(binary):
    """The CRC-32 a checked photo binary carries in its last 4 bytes (int)."""
    at = len(binary) - _CRC_BYTES
    return (binary[at] << 24) | (binary[at + 1] << 16) | (binary[at + 2] << 8) | binary[at + 3]


def decode_photo(payload, frame):
    """Validate a photo payload and copy its raster into ``frame``; return ``frame``.

    ``payload``: the base64 text (bytes preferred; a str is encoded once).
    ``frame``: a preallocated bytearray(1024) that receives the PBM raster, 16 bytes per
    row, MSB = leftmost pixel, bit 1 = dark. Raises PhotoError (a ValueError) with the
    reason, leaving ``frame`` untouched, when anything is wrong.
    """
    if len(frame) != FRAME_BYTES:
        raise ValueError("frame buffer must be %d bytes" % FRAME_BYTES)
    binary, raster = decode_photo_binary(payload)
    frame[:] = memoryview(binary)[raster : raster + FRAME_BYTES]
    return frame


def pixel_lit(frame, x, y):
    """True when pixel (x, y) of a decoded frame is lit on the OLED."""
    return not (frame[(y << 4) + (x >> 3)] & (0x80 >> (x & 7)))


def blit_photo(frame, bitmap, lit=1, dark=0):
    """Write a decoded frame into ``bitmap`` (anything with ``bitmap[x, y] = v``).

    Lit pixels get ``lit``, the others ``dark``; with a displayio.Bitmap whose palette
    maps 1 to white, value 1 lights the pixel.
    """
    index = 0
    for y in range(PHOTO_HEIGHT):
        for x0 in range(0, PHOTO_WIDTH, 8):
            byte = frame[index]
            index += 1
            mask = 0x80
            for x in range(x0, x0 + 8):
                bitmap[x, y] = dark if byte & mask else lit
                mask >>= 1
