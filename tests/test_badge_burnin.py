"""OLED burn-in care on a whole badge: dimming after the idle time, waking on a press or
new content, and the one-pixel shift that never pushes anything off the panel."""

import zxingcpp
from PIL import Image

from sim.content.deliver import BadgeScript, deliver, sleep_until
from sim.content.photo import encode_photo, image_to_bits

THING = "badge-1"
URL_TEXT = "https://example.org/talks/42"


def frame(badge):
    return list(badge.display.panel_pixels())


def shifted(pixels, dx, dy):
    """``pixels`` moved by (dx, dy); what leaves the panel is lost, the rest is dark."""
    out = [0] * (128 * 64)
    for y in range(64):
        for x in range(128):
            if pixels[y * 128 + x]:
                nx, ny = x + dx, y + dy
                if 0 <= nx < 128 and 0 <= ny < 64:
                    out[ny * 128 + nx] = 1
    return out


def offset_of(base, moved):
    """The (dx, dy) within one pixel that turns ``base`` into ``moved`` without losing
    a lit pixel, or None."""
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if sum(moved) == sum(base) and shifted(base, dx, dy) == moved:
                return dx, dy
    return None


def decodes_to(pixels, text):
    image = Image.new("L", (128, 64))
    image.putdata([255 if p else 0 for p in pixels])
    big = image.resize((512, 256), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcodes(big, formats=zxingcpp.BarcodeFormat.QRCode,
                                   try_invert=False)
    return [code.text for code in found] == [text]


def test_display_dims_when_idle_and_a_press_only_wakes_it(make_badge):
    badge = make_badge(settings="BADGE_DIM_AFTER_S = 30\nBADGE_DIM_CONTRAST = 16\n"
                                "BADGE_CONTRAST = 200\nBADGE_SHIFT_EVERY_S = 0\n")
    seen = {}

    def note(label):
        seen[label] = (badge.display.contrast, frame(badge))

    badge.at(29, lambda: note("active"))
    badge.at(31, lambda: note("idle"))
    badge.at(40, lambda: badge.press("B"))
    badge.at(41, lambda: note("woken"))
    badge.at(42, lambda: badge.press("B"))
    badge.at(43, lambda: note("pressed"))
    badge.at(75, lambda: note("idle again"))
    badge.run(76)
    assert seen["active"][0] == 200
    assert seen["idle"][0] == 16
    assert seen["woken"][0] == 200
    assert seen["woken"][1] == seen["idle"][1]  # the waking press did not switch screens
    assert seen["pressed"][1] != seen["woken"][1]  # the next one did
    assert seen["idle again"][0] == 16  # 30 s after the last press


def test_new_content_wakes_the_display(make_badge):
    badge = make_badge(settings="BADGE_DIM_AFTER_S = 20\nBADGE_SHIFT_EVERY_S = 0\n")
    contrast = {}

    async def steps(url):
        await sleep_until(badge.clock, 25)
        contrast["dimmed"] = badge.display.contrast
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 27)
        contrast["woken"] = badge.display.contrast

    script = BadgeScript(badge, steps)
    badge.run(28)
    script.result()
    assert contrast == {"dimmed": 16, "woken": 255}


def test_default_dims_after_five_minutes_and_zero_never_dims(make_badge):
    default = make_badge()  # settings.toml from the template
    marks = {}
    default.at(299, lambda: marks.setdefault("299", default.display.contrast))
    default.at(301, lambda: marks.setdefault("301", default.display.contrast))
    default.run(302)
    assert marks == {"299": 255, "301": 16}
    never = make_badge(settings="BADGE_DIM_AFTER_S = 0\n")
    never.run(400)
    assert never.display.contrast == 255


def shift_frames(make_badge, deliveries, count=10, period_s=10):
    """Frames at the first and each later shift phase (every ``period_s``)."""
    badge = make_badge(settings="BADGE_SHIFT_EVERY_S = %d\n" % period_s)
    frames = []

    async def steps(url):
        await sleep_until(badge.clock, 3.5)
        for kind, payload in deliveries:
            await deliver(url, THING, kind, payload)
        for index in range(count):
            await sleep_until(badge.clock, 5 + index * period_s)
            frames.append(frame(badge))

    script = BadgeScript(badge, steps)
    badge.run(6 + count * period_s)
    script.result()
    return frames


def test_name_tag_shifts_within_a_pixel_and_its_qr_code_still_reads(make_badge):
    frames = shift_frames(make_badge, [("qr", URL_TEXT), ("name", "Ada")])
    offsets = [offset_of(frames[0], moved) for moved in frames]
    assert None not in offsets, offsets
    assert len(set(offsets)) == 9  # every one of the nine positions, in turn
    assert offsets[:3] == [(0, 0), (1, 0), (1, 1)]
    for moved in frames:
        assert decodes_to(moved, URL_TEXT)


def test_qr_screen_shifts_with_its_quiet_zone_whole(make_badge):
    frames = shift_frames(make_badge, [("qr", "x" * 230)])  # 61 px: 1 px above
    offsets = [offset_of(frames[0], moved) for moved in frames]
    assert None not in offsets, offsets
    assert {dy for _, dy in offsets} == {-1, 0, 1}
    for moved in frames:
        assert decodes_to(moved, "x" * 230)


def test_climate_screen_moves_only_where_it_has_room(make_badge):
    frames = shift_frames(make_badge, [])
    offsets = [offset_of(frames[0], moved) for moved in frames]
    assert set(offsets) == {(0, 0), (0, 1)}, offsets


def test_photo_fills_the_panel_and_never_moves(make_badge):
    image = Image.effect_mandelbrot((128, 64), (-2.0, -1.0, 1.0, 1.0), 64)
    bits = image_to_bits(image, dither="ordered")
    frames = shift_frames(make_badge, [("photo", encode_photo(bits))], count=4)
    expected = [1 if p else 0 for p in bits.get_flattened_data()]
    assert all(moved == expected for moved in frames)
