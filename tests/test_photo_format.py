"""The photo payload: byte layout, PBM meaning of bits, CRC-32, and every rejection."""

import base64
import io
import random
import zlib

import pytest
from PIL import Image

from firmware import photo_format
from firmware.photo_format import (
    FRAME_BYTES,
    PhotoError,
    blit_photo,
    decode_photo,
    pixel_lit,
)
from sim.content.photo import encode_photo, photo_binary

SENTINEL = bytes(range(256)) * 4


def random_bits(seed):
    """A mode "1" 128x64 image with random pixels (white = lit)."""
    rng = random.Random(seed)
    image = Image.new("1", (128, 64), 0)
    pixels = image.load()
    for y in range(64):
        for x in range(128):
            if rng.random() < 0.5:
                pixels[x, y] = 255
    return image


def assemble(raster, version=1, header=b"P4\n128 64\n", magic=b"BPH", crc=None):
    """A photo built by hand from the documented layout."""
    body = magic + bytes((version,)) + header + raster
    if crc is None:
        crc = zlib.crc32(body)
    return body + crc.to_bytes(4, "big")


def b64(binary):
    return base64.b64encode(binary)


ALL_DARK = b"\xff" * FRAME_BYTES


def test_layout_matches_the_documented_bytes():
    image = random_bits(1)
    payload = encode_photo(image)
    binary = base64.b64decode(payload, validate=True)
    assert len(binary) == 1042 == photo_format.PHOTO_BINARY_BYTES
    assert binary[:3] == b"BPH"
    assert binary[3] == 1
    assert binary[4:14] == b"P4\n128 64\n"
    assert int.from_bytes(binary[1038:], "big") == zlib.crc32(binary[:1038])
    assert len(payload) == 1392 == photo_format.PHOTO_PAYLOAD_CHARS


def test_payload_survives_expresslink_escaping_unchanged():
    payload = encode_photo(random_bits(2))
    assert payload.isascii()
    for special in "\r\n\\":
        assert special not in payload
    assert len(payload.encode()) < 9 * 1024


def test_embedded_pbm_is_what_pillow_writes_and_reads():
    image = random_bits(3)
    binary = photo_binary(image)
    written = io.BytesIO()
    image.save(written, format="PPM")
    assert binary[4:1038] == written.getvalue()
    reread = Image.open(io.BytesIO(binary[4:1038]))
    assert reread.size == (128, 64)
    assert reread.tobytes() == image.tobytes()


def test_pbm_bit_meaning_single_pixels():
    # PBM: 1 = black. A lit OLED pixel is white, so it is a 0 bit.
    image = Image.new("1", (128, 64), 0)
    image.putpixel((0, 0), 255)
    image.putpixel((127, 63), 255)
    image.putpixel((9, 1), 255)
    raster = photo_binary(image)[14:1038]
    assert raster[0] == 0x7F
    assert raster[1023] == 0xFE
    assert raster[16 + 1] == 0xBF  # row 1, byte 1, second pixel from the left
    assert raster.count(0xFF) == 1021


def test_round_trip_into_preallocated_frame():
    frame = bytearray(FRAME_BYTES)
    for seed in (4, 5):
        image = random_bits(seed)
        assert decode_photo(encode_photo(image), frame) is frame
        pixels = image.load()
        for y in range(64):
            for x in range(128):
                assert pixel_lit(frame, x, y) == (pixels[x, y] == 255)


def test_bytes_and_str_payloads_and_whitespace():
    image = random_bits(6)
    payload = encode_photo(image)
    wrapped = base64.encodebytes(photo_binary(image))  # 76-column lines, "\n" each
    assert b"\n" in wrapped[:-1]
    frames = []
    for variant in (payload, payload.encode(), wrapped, payload + "\r\n"):
        frame = bytearray(FRAME_BYTES)
        decode_photo(variant, frame)
        frames.append(bytes(frame))
    assert len(set(frames)) == 1


def test_other_pbm_header_spelling_is_accepted():
    raster = bytes(random_bits(7).tobytes("raw", "1;I"))
    frame = bytearray(FRAME_BYTES)
    decode_photo(b64(assemble(raster, header=b"P4 128\t64\n")), frame)
    assert frame == raster


def _good():
    return assemble(bytes(random_bits(8).tobytes("raw", "1;I")))


def _flip(binary, index):
    data = bytearray(binary)
    data[index] ^= 0x10
    return bytes(data)


BAD_PAYLOADS = {
    "truncated binary": (lambda: b64(_good()[:-10]), "truncated"),
    "truncated text": (lambda: b64(_good())[:-3], "4-character groups"),
    "half a photo": (lambda: b64(_good()[:520]), "truncated"),
    "only the magic": (lambda: b64(b"BPH"), "truncated"),
    "trailing bytes": (lambda: b64(_good() + b"\x00\x00\x00"), "3 bytes of trailing data"),
    "bit flipped in the raster": (lambda: b64(_flip(_good(), 500)), "CRC mismatch"),
    "CRC damaged": (lambda: b64(_flip(_good(), 1040)), "CRC mismatch"),
    "bad magic": (lambda: b64(assemble(ALL_DARK, magic=b"PNG")), "not a badge photo"),
    "wrong version": (
        lambda: b64(assemble(ALL_DARK, version=2)),
        "version 2 is not supported (supported: 1)",
    ),
    "invalid character": (lambda: b"!" + b64(_good())[1:], "byte 0x21 at offset 0"),
    "non-ascii": (
        lambda: b64(_good())[:40] + "é".encode() + b64(_good())[42:],
        "byte 0xC3 at offset 40",
    ),
    "padding inside": (lambda: b"QQ==" + b64(_good()), "after '=' padding"),
    "wrong dimensions": (
        lambda: b64(assemble(b"\x00" * 256, header=b"P4\n64 32\n")),
        "image is 64x32, the badge shows 128x64",
    ),
    "tall": (lambda: b64(assemble(ALL_DARK, header=b"P4\n64 128\n")), "64x128"),
    "ascii pbm": (lambda: b64(assemble(ALL_DARK, header=b"P1\n128 64\n")), "not a binary PBM"),
    "pbm comment": (lambda: b64(assemble(ALL_DARK, header=b"P4\n#c\n128 64\n")), "comments"),
    "empty": (lambda: b"", "empty"),
    "only whitespace": (lambda: "\r\n", "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_PAYLOADS))
def test_bad_payload_is_refused_and_frame_untouched(case):
    make, fragment = BAD_PAYLOADS[case]
    frame = bytearray(SENTINEL)
    with pytest.raises(PhotoError) as refused:
        decode_photo(make(), frame)
    assert fragment in str(refused.value)
    assert str(refused.value).startswith("photo: ")
    assert isinstance(refused.value, ValueError)
    assert frame == SENTINEL


def test_frame_of_wrong_size_is_a_caller_error():
    with pytest.raises(ValueError, match="1024"):
        decode_photo(b64(_good()), bytearray(1000))


def test_blit_writes_every_pixel_with_chosen_values():
    image = random_bits(10)
    frame = decode_photo(encode_photo(image), bytearray(FRAME_BYTES))
    bitmap = {}
    blit_photo(frame, bitmap, lit=3, dark=5)
    assert len(bitmap) == 128 * 64
    pixels = image.load()
    for (x, y), value in bitmap.items():
        assert value == (3 if pixels[x, y] == 255 else 5)
