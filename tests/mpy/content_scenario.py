"""Photo, QR and name-tag logic on a MicroPython VM (and CPython): prints PASS at the end.

Needs firmware/ importable as ``firmware.x`` and adafruit_miniqr by bare name.
"""

import binascii

from firmware import content_limits, photo_format, qr_layout


class FakeBitmap:
    """``bitmap[x, y] = v`` into a bytearray, counting writes."""

    def __init__(self, width, height, fill):
        self.width = width
        self.height = height
        self.cells = bytearray(bytes((fill,)) * (width * height))
        self.writes = 0

    def __setitem__(self, key, value):
        x, y = key
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise IndexError("pixel outside the bitmap")
        self.cells[y * self.width + x] = value
        self.writes += 1

    def __getitem__(self, key):
        x, y = key
        return self.cells[y * self.width + x]


def expect_error(fragment, fn, *args):
    """Call fn(*args), which must raise ValueError whose message holds ``fragment``."""
    try:
        fn(*args)
    except ValueError as error:
        message = str(error)
        if fragment not in message:
            raise AssertionError("expected %r in %r" % (fragment, message))
        return message
    raise AssertionError("no ValueError, expected %r" % fragment)


def crc_bytes(value):
    return bytes(((value >> 24) & 0xFF, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF))


def make_photo(raster, version=1, header=b"P4\n128 64\n", magic=b"BPH"):
    body = magic + bytes((version,)) + header + raster
    return body + crc_bytes(binascii.crc32(body) & 0xFFFFFFFF)


def b64(binary):
    return binascii.b2a_base64(binary).strip()


def check_crc():
    # The firmware's CRC-32 is the VM's binascii.crc32, given a memoryview slice.
    # The CRC-32 (IEEE) check value of "123456789" is CBF43926.
    assert binascii.crc32(b"123456789") == 0xCBF43926
    sample = bytes(range(256)) * 3
    assert binascii.crc32(memoryview(sample)[5:300]) == 0x10ABB23A


def check_photo():
    # Only pixel (0, 0) lit: PBM bit 0 at the MSB of the first byte, every other bit 1.
    raster = bytearray(b"\xff" * 1024)
    raster[0] = 0x7F
    payload = b64(make_photo(bytes(raster)))
    assert len(payload) == photo_format.PHOTO_PAYLOAD_CHARS
    frame = bytearray(1024)
    assert photo_format.decode_photo(payload, frame) is frame
    assert frame == raster
    assert photo_format.pixel_lit(frame, 0, 0)
    assert not photo_format.pixel_lit(frame, 1, 0)
    bitmap = FakeBitmap(128, 64, 7)
    photo_format.blit_photo(frame, bitmap)
    assert bitmap.writes == 128 * 64
    assert bitmap[0, 0] == 1 and bitmap[1, 0] == 0 and bitmap[127, 63] == 0

    # A str payload decodes the same; whitespace is ignored.
    frame2 = bytearray(1024)
    photo_format.decode_photo(payload.decode() + "\r\n", frame2)
    assert frame2 == raster

    sentinel = bytes(range(256)) * 4
    good = make_photo(bytes(raster))
    cases = (
        ("outside the alphabet", payload[:100] + b"*" + payload[101:]),
        ("4-character groups", payload[:-1]),
        ("truncated", b64(good[:-8])),
        ("trailing", b64(good + b"\x00\x00")),
        ("CRC mismatch", b64(good[:-1] + bytes(((good[-1] + 1) & 0xFF,)))),
        ("not a badge photo", b64(make_photo(bytes(raster), magic=b"XYZ"))),
        ("supported: 1", b64(make_photo(bytes(raster), version=2))),
        ("64x32", b64(make_photo(bytes(256), header=b"P4\n64 32\n"))),
        ("binary PBM", b64(make_photo(bytes(raster), header=b"P1\n128 64\n"))),
        ("empty", b""),
    )
    for fragment, bad in cases:
        frame3 = bytearray(sentinel)
        expect_error(fragment, photo_format.decode_photo, bad, frame3)
        assert frame3 == sentinel, "frame touched by a bad photo: " + fragment


def check_qr():
    layout = qr_layout.qr_layout("https://example.org/talks/42")
    assert (layout.version, layout.level, layout.scale) == (4, "H", 1)
    assert layout.size_px == 41 and layout.left == 43 and layout.top == 11
    bitmap = FakeBitmap(128, 64, 9)
    qr_layout.render_qr_into(layout, bitmap)
    for value in bitmap.cells:
        assert value != 9, "pixel left unwritten"
    # Quiet zone: 4 lit modules around the code.
    for i in range(layout.size_px):
        for d in range(4):
            assert bitmap[layout.left + i, layout.top + d] == 1
            assert bitmap[layout.left + d, layout.top + i] == 1
            assert bitmap[layout.left + i, layout.top + layout.size_px - 1 - d] == 1
            assert bitmap[layout.left + layout.size_px - 1 - d, layout.top + i] == 1
    # Finder pattern at the top left: dark 7x7 ring, light ring, dark 3x3 centre.
    x0 = layout.code_left
    y0 = layout.code_top
    assert bitmap[x0, y0] == 0 and bitmap[x0 + 6, y0 + 6] == 0
    assert bitmap[x0 + 1, y0 + 1] == 1 and bitmap[x0 + 3, y0 + 3] == 0
    # Outside the quiet zone the screen stays dark.
    assert bitmap[0, 0] == 0 and bitmap[127, 63] == 0

    short = qr_layout.qr_layout(b"hello")
    assert (short.version, short.level, short.scale) == (1, "H", 2)
    assert short.size_px == 58 and short.left == 35 and short.top == 3

    longest = qr_layout.qr_layout("x" * content_limits.MAX_QR_TEXT_BYTES)
    assert (longest.version, longest.level, longest.scale) == (9, "L", 1)
    message = expect_error("at most 230", qr_layout.qr_layout, "x" * 231)
    assert "231" in message
    expect_error("empty", qr_layout.qr_layout, "")


def check_names():
    assert content_limits.check_name(b"  Ada  ") == "Ada"
    assert content_limits.name_scale("Ada") == 2
    assert content_limits.name_scale("Ada King of Lovelace") == 1
    accented = "Zo\u00e9 Ch\u00e2telet"
    assert content_limits.check_name(accented.encode("utf-8")) == accented
    expect_error("empty", content_limits.check_name, b"   ")
    expect_error("at most 21", content_limits.check_name, b"x" * 22)
    expect_error("UTF-8", content_limits.check_name, b"\xff\xfe")
    expect_error("control", content_limits.check_name, b"a\nb")
    assert content_limits.check_qr_text("caf\u00e9") == b"caf\xc3\xa9"
    expect_error("UTF-8", content_limits.check_qr_text, b"\xc3")
    expect_error("at most 230", content_limits.check_qr_text, b"y" * 231)


check_crc()
check_photo()
check_qr()
check_names()
print("PASS")
