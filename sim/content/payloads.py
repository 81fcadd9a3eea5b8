"""Cloud side: check photo, QR and name content and encode the MQTT payloads.

Each helper refuses what the badge could not show with a ContentError (a ValueError)
whose message says why and what would fit, and returns the payload text with an
``info`` dict for the command line to print.
"""

import unicodedata

from PIL import Image

from firmware.content_limits import (
    MAX_NAME_CHARS,
    MAX_QR_TEXT_BYTES,
    NAME_LARGE_MAX_CHARS,
    check_name,
    name_scale,
)
from firmware.photo_format import PHOTO_HEIGHT, PHOTO_WIDTH
from firmware.qr_layout import qr_layout, render_qr_into
from sim.content.photo import ContentError, encode_photo, image_to_bits, open_image

# Unicode categories a name tag cannot print: controls, format characters (zero-width
# joiners...), surrogates, private use, unassigned, line and paragraph separators.
_UNPRINTABLE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")

__all__ = ["ContentError", "photo_payload", "qr_payload", "qr_image", "name_payload"]


def photo_payload(path, mode="fit", dither="floyd", invert=False):
    """Picture file -> (payload text, preview image, info).

    The preview is the mode "1" 128x64 image the badge will show (white = lit).
    """
    source = open_image(path)
    bits = image_to_bits(source, mode=mode, dither=dither, invert=invert)
    payload = encode_photo(bits)
    lit = bits.histogram()[255]
    info = {
        "source": str(path),
        "source_format": source.format,
        "source_size": source.size,
        "mode": mode,
        "dither": dither,
        "invert": invert,
        "lit_pixels": lit,
        "payload_chars": len(payload),
    }
    return payload, bits, info


def _utf8(text, what):
    if isinstance(text, bytes):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ContentError(
                f"{what} is not valid UTF-8 ({error.reason} at byte {error.start})"
            ) from None
        return text
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContentError(
            f"{what} cannot be encoded as UTF-8 (it holds a lone surrogate)"
        ) from None


def qr_payload(text):
    """QR text (str or UTF-8 bytes) -> (payload text, info with the badge's layout)."""
    data = _utf8(text, "QR text")
    if not data:
        raise ContentError("QR text is empty")
    if len(data) > MAX_QR_TEXT_BYTES:
        raise ContentError(
            f"QR text is {len(data)} bytes of UTF-8; the badge shows at most"
            f" {MAX_QR_TEXT_BYTES} bytes (a version 9 code at 1 pixel per module)"
        )
    layout = qr_layout(data)
    info = {
        "bytes": len(data),
        "version": layout.version,
        "level": layout.level,
        "scale": layout.scale,
        "size_px": layout.size_px,
        "max_bytes": MAX_QR_TEXT_BYTES,
    }
    return data.decode("utf-8"), info


class _ImageBitmap:
    """``bitmap[x, y] = v`` onto a PIL mode "1" image (v = 1 -> white, lit)."""

    def __init__(self, image):
        self.pixels = image.load()

    def __setitem__(self, key, value):
        self.pixels[key] = 255 if value else 0


def qr_image(text):
    """The 128x64 mode "1" picture of the QR screen for ``text`` (white = lit)."""
    image = Image.new("1", (PHOTO_WIDTH, PHOTO_HEIGHT), 0)
    try:
        layout = qr_layout(text)
    except ValueError as error:
        raise ContentError(str(error)) from None
    render_qr_into(layout, _ImageBitmap(image))
    return image


def name_payload(name):
    """Name (str or UTF-8 bytes) -> (payload text, info); surrounding spaces dropped."""
    data = _utf8(name, "name")
    text = data.decode("utf-8").strip()
    for ch in text:
        category = unicodedata.category(ch)
        if category in _UNPRINTABLE_CATEGORIES:
            raise ContentError(
                f"name holds U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')}), which"
                " cannot be printed; use letters, digits, punctuation and spaces"
            )
    try:
        text = check_name(text)
    except ValueError as error:
        raise ContentError(str(error)) from None
    size = len(text.encode("utf-8"))
    info = {
        "chars": len(text),
        "bytes": size,
        "scale": name_scale(text),
        "large_max_chars": NAME_LARGE_MAX_CHARS,
        "max_chars": MAX_NAME_CHARS,
    }
    return text, info
