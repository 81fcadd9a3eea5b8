"""QR codes on the 128x64 screen: capacity, scale and level rules, and real decoding."""

import adafruit_miniqr
import pytest
import zxingcpp
from PIL import Image

from firmware.content_limits import MAX_QR_TEXT_BYTES, check_qr_text
from firmware.qr_layout import (
    qr_capacity,
    qr_layout,
    qr_max_bytes,
    render_qr_into,
)

# Byte-mode capacities of versions 1..9, as published in ISO/IEC 18004 (table 7).
STANDARD_BYTE_CAPACITY = {
    "L": (17, 32, 53, 78, 106, 134, 154, 192, 230),
    "M": (14, 26, 42, 62, 84, 106, 122, 152, 180),
    "Q": (11, 20, 32, 46, 60, 74, 86, 108, 130),
    "H": (7, 14, 24, 34, 44, 58, 64, 84, 98),
}
MINIQR_LEVEL = {
    "L": adafruit_miniqr.L,
    "M": adafruit_miniqr.M,
    "Q": adafruit_miniqr.Q,
    "H": adafruit_miniqr.H,
}

ALPHABETS = {
    "ascii": "a",
    "latin1": "é",  # 2 bytes
    "cjk": "漢",  # 3 bytes
    "emoji": "🙂",  # 4 bytes
}
LENGTHS = (1, 2, 3, 5, 7, 8, 11, 14, 15, 17, 18, 24, 25, 32, 33, 46, 64)
LENGTHS += (98, 99, 130, 131, 180, 181, 229, 230)


class ImageBitmap:
    """bitmap[x, y] = v onto a PIL "L" image, 1 -> white (lit), 0 -> black."""

    def __init__(self, image):
        self.pixels = image.load()

    def __setitem__(self, key, value):
        self.pixels[key] = 255 if value else 0


def text_of_bytes(alphabet, length):
    """Exactly ``length`` UTF-8 bytes: as many ``alphabet`` characters as fit, then ASCII."""
    char = ALPHABETS[alphabet]
    width = len(char.encode())
    text = char * (length // width) + "x" * (length % width)
    assert len(text.encode()) == length
    return text


def screen_of(text):
    layout = qr_layout(text)
    screen = Image.new("L", (128, 64), 77)
    render_qr_into(layout, ImageBitmap(screen))
    return layout, screen


def decode(screen, scale=4):
    big = screen.resize((screen.width * scale, screen.height * scale), Image.Resampling.NEAREST)
    return zxingcpp.read_barcodes(big, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)


def expected_choice(length, side=64):
    """The issue's rule evaluated over the standard's table, every version and level."""
    best = None
    for level in ("H", "Q", "M", "L"):
        for version in range(1, 10):
            if STANDARD_BYTE_CAPACITY[level][version - 1] >= length:
                scale = side // (17 + 4 * version + 8)
                if scale >= 1 and (best is None or scale > best[2]):
                    best = (version, level, scale)
                break
    return best


def test_capacity_table_is_the_standards():
    for level, capacities in STANDARD_BYTE_CAPACITY.items():
        for version, capacity in enumerate(capacities, start=1):
            assert qr_capacity(version, level) == capacity


@pytest.mark.parametrize("level", ("L", "M", "Q", "H"))
def test_miniqr_holds_exactly_the_capacity(level):
    for version in range(1, 10):
        capacity = qr_capacity(version, level)
        code = adafruit_miniqr.QRCode(qr_type=version, error_correct=MINIQR_LEVEL[level])
        code.add_data(b"z" * capacity)
        code.make()
        assert code.module_count == 17 + 4 * version
        over = adafruit_miniqr.QRCode(qr_type=version, error_correct=MINIQR_LEVEL[level])
        over.add_data(b"z" * (capacity + 1))
        with pytest.raises(RuntimeError, match="overflow"):
            over.make()


def test_screen_maxima():
    assert MAX_QR_TEXT_BYTES == qr_max_bytes() == 230
    assert [qr_max_bytes(level=level) for level in "LMQH"] == [230, 180, 130, 98]
    assert qr_max_bytes(64, 64) == 230
    assert qr_max_bytes(128, 45) == 106  # version 5 is the largest that fits 45 px


@pytest.mark.parametrize(
    "text, version, level, scale",
    [
        ("hello", 1, "H", 2),
        ("x" * 7, 1, "H", 2),
        ("x" * 8, 1, "Q", 2),
        ("x" * 14, 1, "M", 2),
        ("x" * 17, 1, "L", 2),  # only version 1 fits at scale 2, so level L keeps scale 2
        ("x" * 18, 3, "H", 1),
        # 28 bytes need version 2 (25 modules + 8 quiet = 33 px) even at level L, so
        # scale 2 (66 px) cannot fit 64 px; at scale 1 level H fits as version 4.
        ("https://example.org/talks/42", 4, "H", 1),
        ("x" * 98, 9, "H", 1),
        ("x" * 99, 8, "Q", 1),
        ("x" * 131, 8, "M", 1),
        ("x" * 181, 8, "L", 1),
        ("x" * 193, 9, "L", 1),
    ],
)
def test_scale_and_level_rules_on_examples(text, version, level, scale):
    layout = qr_layout(text)
    assert (layout.version, layout.level, layout.scale) == (version, level, scale)
    assert layout.modules == 17 + 4 * version
    assert layout.size_px == (layout.modules + 8) * scale <= 64
    assert layout.left == (128 - layout.size_px) // 2
    assert layout.top == (64 - layout.size_px) // 2


def test_rule_holds_around_every_capacity_step():
    steps = {c + d for caps in STANDARD_BYTE_CAPACITY.values() for c in caps for d in (0, 1)}
    for length in sorted(steps | set(range(1, 231, 9))):
        if length > 230:
            continue
        layout = qr_layout("x" * length)
        assert (layout.version, layout.level, layout.scale) == expected_choice(length), length


def test_too_long_is_refused_with_the_maximum():
    with pytest.raises(ValueError, match="231 bytes; at most 230 bytes fit on 128x64"):
        qr_layout("x" * 231)
    with pytest.raises(ValueError, match="234 bytes; at most 230"):
        qr_layout("🙂" * 58 + "xx")
    with pytest.raises(ValueError, match="empty"):
        qr_layout("")
    with pytest.raises(ValueError, match="at most 230"):
        check_qr_text("y" * 231)


def check_screen(layout, screen):
    """Quiet zone all lit, code centred, everything outside its square dark."""
    pixels = screen.load()
    left, top, size = layout.left, layout.top, layout.size_px
    quiet = 4 * layout.scale
    for y in range(64):
        for x in range(128):
            inside = left <= x < left + size and top <= y < top + size
            in_code = (
                left + quiet <= x < left + size - quiet and top + quiet <= y < top + size - quiet
            )
            value = pixels[x, y]
            if not inside:
                assert value == 0, (x, y)
            elif not in_code:
                assert value == 255, ("quiet zone", x, y)
            else:
                assert value in (0, 255)
    lit_box = screen.point(lambda v: 255 if v == 255 else 0).getbbox()
    assert lit_box == (left, top, left + size, top + size)
    assert abs((128 - size) - 2 * left) <= 1 and abs((64 - size) - 2 * top) <= 1
    # ISO/IEC 18004: the dark module sits at column 8, row 4V + 9.
    s = layout.scale
    assert pixels[left + quiet + 8 * s, top + quiet + (4 * layout.version + 9) * s] == 0


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
def test_every_length_decodes_back(alphabet):
    for length in LENGTHS:
        text = text_of_bytes(alphabet, length)
        layout, screen = screen_of(text)
        check_screen(layout, screen)
        found = decode(screen)
        assert len(found) == 1, (alphabet, length)
        assert found[0].bytes == text.encode("utf-8"), (alphabet, length)
        assert found[0].bytes.decode("utf-8") == text
        assert found[0].extra["Version"] == str(layout.version)
        assert found[0].ec_level == layout.level


def test_example_url_decodes_as_text():
    layout, screen = screen_of("https://example.org/talks/42")
    found = decode(screen, scale=3)
    assert [barcode.text for barcode in found] == ["https://example.org/talks/42"]


def test_render_into_an_area_of_a_larger_bitmap():
    # A small code in the right half (as a name tag might place it), nothing else touched.
    layout = qr_layout("badge #7", width=64, height=64)
    screen = Image.new("L", (128, 64), 77)
    render_qr_into(layout, ImageBitmap(screen), x0=64, y0=0)
    pixels = screen.load()
    assert all(pixels[x, y] == 77 for x in range(64) for y in range(64))
    found = decode(screen)
    assert [barcode.bytes for barcode in found] == [b"badge #7"]


def test_render_without_clear_leaves_the_rest():
    layout = qr_layout("hi")
    screen = Image.new("L", (128, 64), 77)
    render_qr_into(layout, ImageBitmap(screen), clear=False)
    assert screen.getpixel((0, 0)) == 77
    assert screen.getpixel((layout.left, layout.top)) == 255
