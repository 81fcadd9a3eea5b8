"""Pixel-exact golden frames: compare a 128x64 panel with tests/golden/NAME.png.

Regenerate after a deliberate change with ``make golden`` (sets BADGE_UPDATE_GOLDEN=1).
A mismatch writes the actual frame to tests/golden/_actual/NAME.png for inspection.
"""

import os
from pathlib import Path

from PIL import Image

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def panel_image(pixels, width=128, height=64):
    image = Image.new("1", (width, height))
    image.putdata([255 if p else 0 for p in pixels])
    return image


def golden_pixels(name):
    """The stored golden frame ``name`` as row-major 0/1 (None if there is none)."""
    path = GOLDEN_DIR / (name + ".png")
    if not path.exists():
        return None
    return [1 if p else 0 for p in Image.open(path).convert("1").get_flattened_data()]


def assert_golden(name, pixels):
    """Fail unless ``pixels`` (row-major 0/1) equal the stored golden frame."""
    path = GOLDEN_DIR / (name + ".png")
    actual = panel_image(pixels)
    if os.environ.get("BADGE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        actual.save(path)
        return
    expected = golden_pixels(name)
    assert expected is not None, "no golden frame %s: run `make golden` to create it" % path
    got = [1 if p else 0 for p in pixels]
    if expected != got:
        out = GOLDEN_DIR / "_actual" / (name + ".png")
        out.parent.mkdir(parents=True, exist_ok=True)
        actual.save(out)
        diff = sum(1 for a, b in zip(expected, got) if a != b)
        raise AssertionError("frame %s differs from its golden copy in %d pixels; "
                             "actual frame written to %s" % (name, diff, out))
