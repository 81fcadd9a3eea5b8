"""Size limits of the badge's content (QR text, name tag) and their checks, in one place.

The numbers follow from the 128x64 screen:

- QR codes: a code of version V has 17 + 4V modules a side and needs a 4-module quiet
  zone on each side, so (17 + 4V + 8) px must fit the 64 px height at 1 px per module:
  V <= 9 (61 px), which is also the largest version adafruit_miniqr builds. Version 9 at
  error correction level L holds 232 data codewords; byte mode spends 4 bits on the mode
  and 8 on the length, so it carries 230 bytes of text. Short texts get a larger scale
  and a stronger level (see firmware/qr_layout.py).
- Names: the terminalio font cell is 6x12 px. One line of 128 px holds 21 characters at
  scale 1, and 10 at scale 2 (12 px per character). Characters are code points of UTF-8
  text; a code point takes at most 4 bytes, hence MAX_NAME_BYTES.
"""

from micropython import const

SCREEN_WIDTH_PX = const(128)
SCREEN_HEIGHT_PX = const(64)

QR_QUIET_ZONE_MODULES = const(4)
QR_MAX_VERSION = const(9)
MAX_QR_TEXT_BYTES = const(230)

NAME_LARGE_MAX_CHARS = const(10)  # scale 2: 128 // 12
MAX_NAME_CHARS = const(21)  # scale 1: 128 // 6
MAX_NAME_BYTES = const(84)  # MAX_NAME_CHARS code points of up to 4 UTF-8 bytes

# The longest line the badge takes from the module (its UART receive buffer and its
# line buffer): the largest content, a photo, is 1392 characters of base64, plus room
# for line breaks in it. A longer message is refused as it arrives (the module may
# send 9 KB; keeping that whole would cost 20 KB of the Pico's heap).
MAX_LINE_BYTES = const(2048)


def name_scale(name):
    """Text scale (2 or 1) the name tag uses for ``name`` (a str)."""
    return 2 if len(name) <= NAME_LARGE_MAX_CHARS else 1


def _text_of(raw, what):
    """``raw`` (bytes-like or str) as str; ValueError when it is not UTF-8."""
    if isinstance(raw, str):
        return raw
    try:
        return str(raw, "utf-8")
    except ValueError:  # UnicodeError is a ValueError on CPython and MicroPython
        raise ValueError(what + " is not valid UTF-8 text")


def check_name(raw):
    """Validate a name tag payload (UTF-8 bytes or str); return the name as str.

    Surrounding spaces are dropped. Raises ValueError saying why: not UTF-8, empty,
    longer than MAX_NAME_CHARS characters (or MAX_NAME_BYTES bytes), or holding a
    control character (line breaks included: the name is one line).
    """
    if not isinstance(raw, str) and len(raw) > MAX_NAME_BYTES:
        raise ValueError(
            "name is %d bytes; at most %d bytes (%d characters) fit"
            % (len(raw), MAX_NAME_BYTES, MAX_NAME_CHARS)
        )
    name = _text_of(raw, "name").strip()
    if not name:
        raise ValueError("name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(
            "name is %d characters; at most %d fit on one line (%d at the large size)"
            % (len(name), MAX_NAME_CHARS, NAME_LARGE_MAX_CHARS)
        )
    for ch in name:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            raise ValueError("name holds a control character (code %d)" % code)
    return name


def check_qr_text(raw):
    """Validate a QR payload (UTF-8 bytes or str); return its UTF-8 bytes.

    Raises ValueError when it is not UTF-8, empty or longer than MAX_QR_TEXT_BYTES.
    Whether a shorter text fits a smaller area is for qr_layout to decide.
    """
    if isinstance(raw, str):
        data = raw.encode("utf-8")
    else:
        data = bytes(raw)
        _text_of(data, "QR text")
    if not data:
        raise ValueError("QR text is empty")
    if len(data) > MAX_QR_TEXT_BYTES:
        raise ValueError(
            "QR text is %d bytes; at most %d bytes fit on the screen"
            % (len(data), MAX_QR_TEXT_BYTES)
        )
    return data
