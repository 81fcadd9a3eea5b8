"""Any picture Pillow reads -> the badge's 128x64 1-bit photo, its payload and preview.

Pictures here are Pillow images of mode "1", 128x64, white = a lit OLED pixel; the
preview PNG therefore shows exactly what the badge shows. The payload format is the
one firmware/photo_format.py decodes (magic "BPH", version 1, PBM P4, CRC-32).
"""

import base64
import zlib
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from firmware.photo_format import (
    PBM_HEADER,
    PHOTO_HEIGHT,
    PHOTO_MAGIC,
    PHOTO_VERSION,
    PHOTO_WIDTH,
)

MODES = ("fit", "fill")
DITHERS = ("floyd", "ordered", "none")

# Bayer's 8x8 ordered dither index matrix (values 0..63).
_BAYER_8 = (
    (0, 32, 8, 40, 2, 34, 10, 42),
    (48, 16, 56, 24, 50, 18, 58, 26),
    (12, 44, 4, 36, 14, 46, 6, 38),
    (60, 28, 52, 20, 62, 30, 54, 22),
    (3, 35, 11, 43, 1, 33, 9, 41),
    (51, 19, 59, 27, 49, 17, 57, 25),
    (15, 47, 7, 39, 13, 45, 5, 37),
    (63, 31, 55, 23, 61, 29, 53, 21),
)

# sRGB <-> linear light, for luminance (Rec. 709 primaries, as sRGB uses).
_TO_LINEAR = [
    (v / 255 / 12.92) if v <= 10 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in range(256)
]


def _to_srgb(linear):
    """Linear light 0..1 -> sRGB-encoded 0..255 (float)."""
    if linear <= 0.0031308:
        return 255 * 12.92 * linear
    return 255 * (1.055 * linear ** (1 / 2.4) - 0.055)


class ContentError(ValueError):
    """Content the badge cannot show; the message says why and what would fit."""


def open_image(path):
    """Open ``path`` with Pillow; ContentError naming the file and Pillow's reason."""
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise ContentError(f"{path}: no such file") from None
    except UnidentifiedImageError:
        raise ContentError(f"{path}: not an image Pillow can read") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ContentError(f"{path}: cannot read the image ({error})") from None
    return image


def _flatten(image):
    """First frame, upright, transparency composited on black, as RGB."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16") or image.mode == "I":
        high = image.getextrema()[1]
        factor = 1 / 256 if image.mode.startswith("I;16") or high > 255 else 1
        image = image.convert("I").point(lambda v: v * factor).convert("L")
    elif image.mode == "F":
        factor = 255 if image.getextrema()[1] <= 1 else 1
        image = image.point(lambda v: v * factor).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    return image.convert("RGB")


def _luminance(rgb):
    """RGB image -> list of rows of sRGB-encoded luminance (0..255 floats)."""
    width, height = rgb.size
    data = rgb.tobytes()
    lin = _TO_LINEAR
    rows = []
    for y in range(height):
        row = []
        base = y * width * 3
        for x in range(width):
            i = base + 3 * x
            y_lin = 0.2126 * lin[data[i]] + 0.7152 * lin[data[i + 1]] + 0.0722 * lin[data[i + 2]]
            row.append(_to_srgb(y_lin))
        rows.append(row)
    return rows


def _dither(rows, method, origin_x, origin_y):
    """Grey rows (0..255) -> rows of 0/1 (1 = lit). Bayer cells align to the screen."""
    if method == "none":
        return [[1 if v >= 128 else 0 for v in row] for row in rows]
    if method == "ordered":
        out = []
        for y, row in enumerate(rows):
            bayer_row = _BAYER_8[(y + origin_y) & 7]
            out.append(
                [
                    1 if v > (bayer_row[(x + origin_x) & 7] + 0.5) * 4 else 0
                    for x, v in enumerate(row)
                ]
            )
        return out
    # Floyd-Steinberg, serpentine scan.
    height = len(rows)
    width = len(rows[0]) if rows else 0
    grey = [list(row) for row in rows]
    out = [[0] * width for _ in range(height)]
    for y in range(height):
        forward = y % 2 == 0
        xs = range(width) if forward else range(width - 1, -1, -1)
        step = 1 if forward else -1
        row = grey[y]
        below = grey[y + 1] if y + 1 < height else None
        for x in xs:
            old = row[x]
            bit = 1 if old >= 128 else 0
            out[y][x] = bit
            err = old - 255 * bit
            ahead = x + step
            if 0 <= ahead < width:
                row[ahead] += err * 7 / 16
            if below is not None:
                behind = x - step
                if 0 <= behind < width:
                    below[behind] += err * 3 / 16
                below[x] += err * 5 / 16
                if 0 <= ahead < width:
                    below[ahead] += err * 1 / 16
    return out


def image_to_bits(source, mode="fit", dither="floyd", invert=False):
    """Convert a picture to the badge's 128x64 1-bit photo (PIL mode "1", white = lit).

    ``source``: a path or a PIL image. ``mode``: "fit" shows the whole picture with its
    aspect ratio, centred on dark bands; "fill" covers the screen and crops the centre.
    ``dither``: "floyd" (Floyd-Steinberg), "ordered" (Bayer 8x8) or "none" (threshold at
    50%). ``invert`` swaps lit and dark inside the picture (the bands stay dark).
    Grey is the picture's luminance (linear-light Rec. 709 weights, sRGB-encoded).
    """
    if mode not in MODES:
        raise ContentError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
    if dither not in DITHERS:
        raise ContentError(f"dither {dither!r}: choose one of {', '.join(DITHERS)}")
    image = open_image(source) if isinstance(source, (str, Path)) else source
    try:
        rgb = _flatten(image)
    except (OSError, ValueError) as error:
        raise ContentError(f"cannot convert the {image.mode} picture ({error})") from None
    width, height = rgb.size
    if width < 1 or height < 1:
        raise ContentError("the picture is empty (0 pixels)")
    if mode == "fill":
        placed = ImageOps.fit(rgb, (PHOTO_WIDTH, PHOTO_HEIGHT), Image.Resampling.LANCZOS)
        left, top = 0, 0
    else:
        scale = min(PHOTO_WIDTH / width, PHOTO_HEIGHT / height)
        size = (
            max(1, min(PHOTO_WIDTH, round(width * scale))),
            max(1, min(PHOTO_HEIGHT, round(height * scale))),
        )
        placed = rgb.resize(size, Image.Resampling.LANCZOS)
        left = (PHOTO_WIDTH - size[0]) // 2
        top = (PHOTO_HEIGHT - size[1]) // 2
    rows = _luminance(placed)
    if invert:
        rows = [[255 - v for v in row] for row in rows]
    bits = _dither(rows, dither, left, top)
    result = Image.new("1", (PHOTO_WIDTH, PHOTO_HEIGHT), 0)
    pixels = result.load()
    for y, row in enumerate(bits):
        for x, bit in enumerate(row):
            if bit:
                pixels[left + x, top + y] = 255
    return result


def _check_bits(image):
    if image.size != (PHOTO_WIDTH, PHOTO_HEIGHT) or image.mode != "1":
        raise ContentError(
            f"a photo must be a mode '1' image of {PHOTO_WIDTH}x{PHOTO_HEIGHT},"
            f" not mode {image.mode!r} {image.size[0]}x{image.size[1]}"
        )


def photo_binary(image):
    """The binary photo (version 1) of a mode "1" 128x64 image (white = lit)."""
    _check_bits(image)
    # PBM: bit 1 = black = OLED pixel off; raw mode "1;I" packs black pixels as 1.
    raster = image.tobytes("raw", "1;I")
    body = PHOTO_MAGIC + bytes((PHOTO_VERSION,)) + PBM_HEADER + raster
    return body + zlib.crc32(body).to_bytes(4, "big")


def encode_photo(image):
    """The MQTT payload (ASCII base64 text) of a mode "1" 128x64 image."""
    return base64.b64encode(photo_binary(image)).decode("ascii")


def preview_png(image, path, scale=1):
    """Write ``image`` as a PNG as the badge shows it (lit = white), ``scale`` x bigger."""
    _check_bits(image)
    if scale < 1 or int(scale) != scale:
        raise ContentError(f"preview scale must be a whole number >= 1, not {scale}")
    out = image.convert("L")
    if scale != 1:
        out = out.resize((PHOTO_WIDTH * scale, PHOTO_HEIGHT * scale), Image.Resampling.NEAREST)
    out.save(path, format="PNG")
    return path
