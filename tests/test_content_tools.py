"""Cloud-side content tools: picture conversion, previews, payload checks and messages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from firmware.photo_format import FRAME_BYTES, blit_photo, decode_photo
from sim.content import (
    ContentError,
    encode_photo,
    image_to_bits,
    name_payload,
    photo_payload,
    preview_png,
    qr_payload,
)

ROOT = Path(__file__).resolve().parents[1]

DITHERS = ("floyd", "ordered", "none")


def lit_count(image):
    return image.histogram()[255]


def lit_columns(image):
    pixels = image.load()
    return sorted({x for x in range(128) for y in range(64) if pixels[x, y]})


def grey(value, size=(256, 128)):
    return Image.new("RGB", size, (value, value, value))


# -- dithering and grey levels ------------------------------------------------------


def test_half_grey_lights_about_half_the_pixels():
    assert abs(lit_count(image_to_bits(grey(128), dither="floyd")) - 4096) < 0.02 * 8192
    assert abs(lit_count(image_to_bits(grey(128), dither="ordered")) - 4096) < 0.02 * 8192
    assert lit_count(image_to_bits(grey(128), dither="none")) == 8192
    assert lit_count(image_to_bits(grey(127), dither="none")) == 0


@pytest.mark.parametrize("dither", DITHERS)
def test_black_and_white_stay_pure(dither):
    assert lit_count(image_to_bits(grey(0), dither=dither)) == 0
    assert lit_count(image_to_bits(grey(255), dither=dither)) == 8192


@pytest.mark.parametrize("level", (32, 64, 192, 224))
def test_dithered_density_follows_grey_level(level):
    for dither in ("floyd", "ordered"):
        fraction = lit_count(image_to_bits(grey(level), dither=dither)) / 8192
        assert abs(fraction - level / 255) < 0.03, dither


def test_colours_become_their_luminance():
    # Rec. 709 luminance of the sRGB primaries, re-encoded with the sRGB curve:
    # green 0.7152 -> 0.863, red 0.2126 -> 0.498, blue 0.0722 -> 0.298.
    for colour, expected in (((0, 255, 0), 0.863), ((255, 0, 0), 0.498), ((0, 0, 255), 0.298)):
        image = Image.new("RGB", (256, 128), colour)
        fraction = lit_count(image_to_bits(image, dither="ordered")) / 8192
        assert abs(fraction - expected) < 0.02, colour


def test_sixteen_bit_grey_is_scaled_not_clipped():
    image = Image.new("I;16", (256, 128), 0x8000)
    fraction = lit_count(image_to_bits(image, dither="ordered")) / 8192
    assert abs(fraction - 0.5) < 0.02


def test_invert_swaps_the_picture_but_not_the_bands():
    square_white = Image.new("L", (100, 100), 255)
    assert lit_count(image_to_bits(square_white, invert=True)) == 0
    square_black = Image.new("L", (100, 100), 0)
    inverted = image_to_bits(square_black, invert=True)
    assert lit_columns(inverted) == list(range(32, 96))
    assert lit_count(inverted) == 64 * 64


# -- geometry -------------------------------------------------------------------------


def test_fit_two_to_one_fills_the_screen():
    assert lit_count(image_to_bits(grey(255, (300, 150)), mode="fit")) == 8192


def test_fit_square_is_64_wide_and_centred():
    bits = image_to_bits(grey(255, (500, 500)), mode="fit")
    assert lit_columns(bits) == list(range(32, 96))
    assert lit_count(bits) == 64 * 64


def test_fit_portrait_is_a_narrow_centred_column():
    bits = image_to_bits(grey(255, (100, 200)), mode="fit")
    assert lit_columns(bits) == list(range(48, 80))


def test_fit_wide_picture_gets_bands_above_and_below():
    bits = image_to_bits(grey(255, (400, 100)), mode="fit", dither="none")
    pixels = bits.load()
    lit_rows = sorted({y for y in range(64) for x in range(128) if pixels[x, y]})
    assert lit_rows == list(range(16, 48))


def test_fill_covers_and_crops_the_centre():
    # A square, white on top and black below: filling 128x64 keeps its middle rows.
    square = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(square).rectangle((0, 0, 127, 63), fill=255)
    bits = image_to_bits(square, mode="fill", dither="none")
    assert lit_count(bits) == 128 * 32
    pixels = bits.load()
    assert all(pixels[x, y] for x in range(128) for y in range(32))


def test_exif_orientation_is_applied(tmp_path):
    # Stored 200x100, left half white; orientation 6 = show it rotated 90 degrees
    # clockwise: a 100x200 portrait whose top half is white.
    stored = Image.new("L", (200, 100), 0)
    ImageDraw.Draw(stored).rectangle((0, 0, 99, 99), fill=255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.png"
    stored.save(path, exif=exif)
    bits = image_to_bits(path, dither="none")
    assert lit_columns(bits) == list(range(48, 80))
    pixels = bits.load()
    assert all(pixels[x, y] for x in range(48, 80) for y in range(0, 30))
    assert not any(pixels[x, y] for x in range(48, 80) for y in range(34, 64))


def test_transparency_is_composited_on_black():
    image = Image.new("RGBA", (256, 128), (255, 255, 255, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 127, 127), fill=(255, 255, 255, 255))
    bits = image_to_bits(image, dither="none")
    assert lit_columns(bits) == list(range(0, 64))


def test_gif_uses_the_first_frame_and_its_palette_transparency(tmp_path):
    first = Image.new("P", (64, 32), 1)
    first.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    second = Image.new("P", (64, 32), 0)
    second.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    path = tmp_path / "anim.gif"
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    assert lit_count(image_to_bits(path)) == 8192

    transparent = Image.new("P", (64, 32), 1)
    transparent.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    ImageDraw.Draw(transparent).rectangle((0, 0, 31, 31), fill=2)
    path2 = tmp_path / "hole.gif"
    transparent.save(path2, transparency=2)
    bits = image_to_bits(path2, dither="none")
    assert lit_columns(bits) == list(range(64, 128))


# -- previews and payloads ------------------------------------------------------------


def sample_picture(path):
    image = Image.new("RGB", (320, 200))
    draw = ImageDraw.Draw(image)
    for x in range(320):
        draw.line((x, 0, x, 199), fill=(x * 255 // 319, 90, 255 - x * 255 // 319))
    draw.ellipse((60, 30, 200, 170), fill=(250, 240, 200))
    draw.text((210, 80), "Hi!", fill=(0, 0, 0))
    image.save(path)
    return path


@pytest.mark.parametrize("dither", DITHERS)
@pytest.mark.parametrize("scale", (1, 3))
def test_preview_png_equals_what_the_badge_decodes(tmp_path, dither, scale):
    picture = sample_picture(tmp_path / "picture.jpg")
    payload, preview, info = photo_payload(picture, mode="fill", dither=dither)
    png = preview_png(preview, tmp_path / "preview.png", scale=scale)
    shown = Image.open(png)
    assert shown.size == (128 * scale, 64 * scale)
    frame = decode_photo(payload, bytearray(FRAME_BYTES))
    bitmap = {}
    blit_photo(frame, bitmap)
    shown_pixels = shown.convert("L").load()
    for (x, y), value in bitmap.items():
        assert shown_pixels[x * scale + scale - 1, y * scale] == (255 if value else 0)
    assert info["payload_chars"] == len(payload) == 1392
    assert info["source_size"] == (320, 200)
    assert info["lit_pixels"] == sum(bitmap.values())
    assert 500 < info["lit_pixels"] < 7700


def test_photo_payload_refuses_what_is_not_a_picture(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    with pytest.raises(ContentError, match=r"notes\.txt: not an image"):
        photo_payload(text)
    with pytest.raises(ContentError, match=r"missing\.png: no such file"):
        photo_payload(tmp_path / "missing.png")
    picture = sample_picture(tmp_path / "whole.png")
    cut = tmp_path / "cut.png"
    cut.write_bytes(picture.read_bytes()[:300])
    with pytest.raises(ContentError, match=r"cut\.png: cannot read the image \(.+\)"):
        photo_payload(cut)
    with pytest.raises(ContentError, match="cannot read the image"):
        photo_payload(tmp_path)


def test_photo_options_are_checked(tmp_path):
    picture = sample_picture(tmp_path / "p.png")
    with pytest.raises(ContentError, match="fit, fill"):
        photo_payload(picture, mode="stretch")
    with pytest.raises(ContentError, match="floyd, ordered, none"):
        photo_payload(picture, dither="atkinson")
    with pytest.raises(ContentError, match="128x64"):
        encode_photo(Image.new("1", (64, 64)))
    with pytest.raises(ContentError, match="mode 'L'"):
        encode_photo(Image.new("L", (128, 64)))


def test_qr_payload_limits():
    text, info = qr_payload("https://example.org/talks/42")
    assert text == "https://example.org/talks/42"
    assert (info["bytes"], info["version"], info["level"], info["scale"]) == (28, 4, "H", 1)
    assert qr_payload("x" * 230)[1]["bytes"] == 230
    with pytest.raises(ContentError, match="231 bytes.*at most 230"):
        qr_payload("x" * 231)
    with pytest.raises(ContentError, match="232 bytes.*at most 230"):
        qr_payload("é" * 116)  # 116 characters, 2 bytes each
    with pytest.raises(ContentError, match="empty"):
        qr_payload("")
    with pytest.raises(ContentError, match="not valid UTF-8"):
        qr_payload(b"caf\xe9")
    with pytest.raises(ContentError, match="UTF-8"):
        qr_payload("bad \udcff surrogate")


def test_name_payload_limits():
    assert name_payload("  Ada Lovelace ") == (
        "Ada Lovelace",
        {"chars": 12, "bytes": 12, "scale": 1, "large_max_chars": 10, "max_chars": 21},
    )
    assert name_payload("Zoë")[1]["scale"] == 2
    assert name_payload("Zoë")[1]["bytes"] == 4
    assert name_payload("李小龍" * 7)[1]["chars"] == 21
    with pytest.raises(ContentError, match="22 characters; at most 21"):
        name_payload("x" * 22)
    with pytest.raises(ContentError, match="empty"):
        name_payload("   ")
    with pytest.raises(ContentError, match="U\\+000A"):
        name_payload("two\nlines")
    with pytest.raises(ContentError, match="ZERO WIDTH JOINER"):
        name_payload("a\u200db")
    with pytest.raises(ContentError, match="not valid UTF-8"):
        name_payload(b"\xff\xfe")


def test_micropython_scenario_passes_on_cpython():
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join((str(ROOT), str(ROOT / "lib"))))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "mpy" / "content_scenario.py")],
        capture_output=True,
        text=True,
        cwd=str(ROOT / "tests" / "mpy"),
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "PASS"
