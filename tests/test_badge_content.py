"""Name tag, photo and QR code on a whole virtual badge: delivered over MQTT through the
emulated ExpressLink module, checked, and drawn on the emulated SSD1306.

QR codes are read back from the panel with zxing-cpp; photos are compared pixel for
pixel with the sender's own preview; bad content is refused with a console message and
a shadow ``error`` while the last good content stays on the panel.
"""

import base64
import zlib

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from golden import assert_golden
from sim.content.deliver import BadgeScript, deliver, sleep_until
from sim.content.payloads import photo_payload
from sim.content.photo import encode_photo, image_to_bits

THING = "badge-1"
URL_TEXT = "https://example.org/talks/42"
NO_SHIFT = "BADGE_SHIFT_EVERY_S = 0\n"


def frame(badge):
    return list(badge.display.panel_pixels())


def decode_panel(badge, scale=4):
    """Every QR code zxing-cpp finds on the panel, as (text, bytes)."""
    image = badge.display.to_image(1).convert("L")
    big = image.resize((128 * scale, 64 * scale), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcodes(big, formats=zxingcpp.BarcodeFormat.QRCode,
                                   try_invert=False)
    return [(code.text, bytes(code.bytes)) for code in found]


def reported(badge):
    document = badge.cloud.shadows.document(THING)
    return document["state"]["reported"] if document else {}


def lit_box(pixels):
    """(left, top, right, bottom) of the lit pixels, inclusive."""
    xs = [i % 128 for i, p in enumerate(pixels) if p]
    ys = [i // 128 for i, p in enumerate(pixels) if p]
    return min(xs), min(ys), max(xs), max(ys)


def sample_picture():
    """A picture with a gradient, shapes and text: dithering has work to do."""
    image = Image.new("RGB", (300, 160))
    draw = ImageDraw.Draw(image)
    for x in range(300):
        draw.line([(x, 0), (x, 159)], fill=(x * 255 // 299, 90, 255 - x * 255 // 299))
    draw.ellipse((30, 20, 140, 130), fill=(250, 250, 250))
    draw.rectangle((170, 40, 280, 120), fill=(10, 10, 10))
    draw.text((190, 70), "HELLO", fill=(255, 255, 0))
    return image


def run_with(make_badge, steps, duration_s, settings=NO_SHIFT, **options):
    """Run a badge with ``steps(url, badge, shots)`` scripted; returns (badge, shots)."""
    badge = make_badge(settings=settings, **options)
    shots = {}
    script = BadgeScript(badge, lambda url: steps(url, badge, shots))
    badge.run(duration_s)
    script.result()
    return badge, shots


# -- golden frames of every screen -----------------------------------------------------------

@pytest.mark.parametrize("golden, name, qr", [
    ("name_short", "Ada", None),
    ("name_long", "Grace Brewster Hopper", None),
    ("name_short_qr", "Ada", URL_TEXT),
    ("name_medium_qr", "Ada Lovelace", URL_TEXT),
    ("name_long_qr", "Grace Brewster Hopper", "https://ex.org"),
])
def test_name_tag(make_badge, golden, name, qr):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        if qr is not None:
            await deliver(url, THING, "qr", qr)
            await sleep_until(badge.clock, 6)
        await deliver(url, THING, "name", name)
        await sleep_until(badge.clock, 8)
        shots["tag"] = frame(badge)
        shots["codes"] = decode_panel(badge)

    badge, shots = run_with(make_badge, steps, 9)
    assert_golden(golden, shots["tag"])
    if qr is None:
        assert shots["codes"] == []
    else:
        assert [text for text, _ in shots["codes"]] == [qr]
    assert reported(badge)["name"] == name
    assert reported(badge)["screen"] == "name"


def test_a_long_name_leaves_out_a_qr_code_that_does_not_fit(make_badge):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        # 61 bytes: version 7 at level H, 45 modules, 53 px with its quiet zone;
        # below a 12 px line that needs 69 px, beside a 126 px name it has no room.
        await deliver(url, THING, "qr", "https://example.org/talks/42?track=main&room=B2&day=2025-06-1")
        await deliver(url, THING, "name", "Grace Brewster Hopper")
        await sleep_until(badge.clock, 6)
        shots["tag"] = frame(badge)
        shots["codes"] = decode_panel(badge)

    badge, shots = run_with(make_badge, steps, 7)
    assert_golden("name_long", shots["tag"])
    assert shots["codes"] == []
    assert reported(badge)["qr"].endswith("day=2025-06-1")


def test_photo_on_the_panel_equals_the_senders_preview(make_badge, tmp_path):
    source = tmp_path / "picture.jpg"
    sample_picture().save(source, quality=90)
    payload, preview, info = photo_payload(source, dither="floyd")
    assert info["payload_chars"] == 1392

    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "photo", payload)
        await sleep_until(badge.clock, 6)
        shots["photo"] = frame(badge)

    badge, shots = run_with(make_badge, steps, 7)
    expected = [1 if p else 0 for p in preview.convert("1").get_flattened_data()]
    assert shots["photo"] == expected
    assert_golden("photo_floyd", shots["photo"])
    binary = base64.b64decode(payload)
    assert reported(badge)["photo"] == {"crc": "%08X" % zlib.crc32(binary[:-4])}
    assert reported(badge)["screen"] == "photo"


def bitmaps_on_panel():
    """The displayio Bitmaps of every shown TileGrid in the display's root group."""
    import displayio

    found = []
    pending = [displayio.displays[0].root_group]
    while pending:
        item = pending.pop()
        if item.hidden:
            continue
        if isinstance(item, displayio.Group):
            pending.extend(item)
        elif isinstance(item, displayio.TileGrid):
            found.append(item.bitmap)
    return found


def test_photos_reuse_one_bitmap(make_badge):
    pictures = [image_to_bits(sample_picture(), dither=d) for d in ("ordered", "none")]

    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        for index, bits in enumerate(pictures):
            await deliver(url, THING, "photo", encode_photo(bits))
            await sleep_until(badge.clock, 6 + 2 * index)
            shots[index] = frame(badge)
            shots["bitmaps %d" % index] = bitmaps_on_panel()

    badge, shots = run_with(make_badge, steps, 10)
    for index, bits in enumerate(pictures):
        assert shots[index] == [1 if p else 0 for p in bits.get_flattened_data()]
    first, second = shots["bitmaps 0"], shots["bitmaps 1"]
    assert len(first) == 1 and first[0] is second[0]
    assert (first[0].width, first[0].height) == (128, 64)
    console = "\n".join(badge.console)
    assert console.count("photo from badge/badge-1/photo shown") == 2


def test_qr_screen_is_centred_with_a_lit_quiet_zone(make_badge):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "qr", URL_TEXT)
        await sleep_until(badge.clock, 6)
        shots["qr"] = frame(badge)
        shots["codes"] = decode_panel(badge)

    badge, shots = run_with(make_badge, steps, 7)
    assert_golden("qr_url", shots["qr"])
    assert shots["codes"] == [(URL_TEXT, URL_TEXT.encode())]
    # docs/screens-and-formats.md, QR codes: 28 bytes -> version 4 (33 modules), 1 px
    # per module, so the lit square with its 4-module quiet zone is 41 px, centred.
    left, top, right, bottom = lit_box(shots["qr"])
    assert (right - left + 1, bottom - top + 1) == (41, 41)
    assert (left, top) == ((128 - 41) // 2, (64 - 41) // 2)
    pixels = shots["qr"]
    for ring in range(4):  # the quiet zone: 4 lit rings around the code
        for x in range(left + ring, right + 1 - ring):
            assert pixels[(top + ring) * 128 + x] and pixels[(bottom - ring) * 128 + x]
        for y in range(top + ring, bottom + 1 - ring):
            assert pixels[y * 128 + left + ring] and pixels[y * 128 + right - ring]
    assert reported(badge)["qr"] == URL_TEXT


@pytest.mark.parametrize("text", [
    "A",  # 1 byte: version 1, level H, 2 px per module
    "Grüße aus Köln, Straße 7",  # Latin-1 letters in UTF-8
    "会議のバッジ: 名前とQRコード",  # 3-byte characters
    "x" * 230,  # the largest text the badge accepts
])
def test_qr_codes_decode_from_the_panel(make_badge, text):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "qr", text)
        await sleep_until(badge.clock, 6)
        shots["codes"] = decode_panel(badge)

    badge, shots = run_with(make_badge, steps, 7)
    assert [code_bytes for _, code_bytes in shots["codes"]] == [text.encode("utf-8")]
    assert reported(badge)["qr"] == text


def _text_of(unit, size):
    """A text of exactly ``size`` UTF-8 bytes from ``unit`` characters, padded with
    ASCII digits where the unit's byte width does not divide ``size``."""
    width = len(unit.encode("utf-8"))
    text = unit * (size // width)
    return text + "0123"[: size - len(text.encode("utf-8"))]


# Byte lengths at every change of version, level or scale, up to the maximum.
SWEEP_SIZES = (1, 2, 7, 8, 14, 15, 17, 18, 32, 33, 61, 62, 98, 99, 130, 131, 180, 181, 230)
SWEEP_UNITS = {"ascii": "a", "latin": "\u00e9", "cjk": "\u8a9e", "emoji": "\U0001f389"}


def test_qr_sweep_of_lengths_and_character_sets_decodes_from_the_panel(make_badge):
    """Every length class the badge accepts, in four UTF-8 widths, one badge run: each
    code is delivered through the module, drawn, and decoded from the framebuffer."""
    texts = [_text_of(unit, size) for unit in SWEEP_UNITS.values() for size in SWEEP_SIZES]
    for text in texts:
        assert 1 <= len(text.encode("utf-8")) <= 230

    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        for index, text in enumerate(texts):
            await deliver(url, THING, "qr", text)
            await sleep_until(badge.clock, 4.5 + index * 0.5)
            shots[index] = decode_panel(badge)

    badge, shots = run_with(make_badge, steps, 5 + len(texts) * 0.5)
    for index, text in enumerate(texts):
        assert [code for _, code in shots[index]] == [text.encode("utf-8")], (
            "%d bytes of %r" % (len(text.encode("utf-8")), text[:8]))


def test_placeholders_say_how_to_send_content(make_badge):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        for screen in ("qr", "photo", "name"):  # A steps back from climate
            badge.press("A")
            await sleep_until(badge.clock, badge.clock.now() + 1)
            shots[screen] = frame(badge)

    _badge, shots = run_with(make_badge, steps, 8)
    for screen in ("qr", "photo", "name"):
        assert_golden("placeholder_" + screen, shots[screen])


def test_buttons_cycle_through_every_screen(make_badge):
    order = []

    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        for _ in range(5):
            badge.press("B")
            await sleep_until(badge.clock, badge.clock.now() + 0.5)
            order.append(reported(badge).get("screen"))

    run_with(make_badge, steps, 8)
    assert order == ["status", "name", "photo", "qr", "climate"]


# -- bad content ------------------------------------------------------------------------------

def photo_binary(bits):
    return bytearray(base64.b64decode(encode_photo(bits)))


def with_crc(binary):
    binary[-4:] = zlib.crc32(bytes(binary[:-4])).to_bytes(4, "big")
    return binary


def bad_photos():
    good = encode_photo(image_to_bits(sample_picture()))
    binary = photo_binary(image_to_bits(sample_picture()))
    wrong_crc = bytearray(binary)
    wrong_crc[-1] ^= 0x01
    version_2 = bytearray(binary)
    version_2[3] = 2
    corrupted = bytearray(binary)
    corrupted[500] ^= 0x10  # a pixel flipped in transit
    return [
        ("truncated", good[:1000], "truncated"),
        ("invalid base64", "!" + good[1:], "not base64"),
        ("bad CRC", base64.b64encode(bytes(wrong_crc)), "CRC mismatch"),
        ("corrupted", base64.b64encode(bytes(corrupted)), "CRC mismatch"),
        ("wrong version", base64.b64encode(bytes(with_crc(version_2))),
         "format version 2 is not supported"),
    ]


def refuse_in_turn(make_badge, kind, good, bads, settle_s=5):
    """Deliver ``good``, then each bad payload; frames and reports after each."""
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, kind, good)
        t = 6
        await sleep_until(badge.clock, t)
        shots["good"] = frame(badge)
        for label, payload, _reason in bads:
            await deliver(url, THING, kind, payload)
            await sleep_until(badge.clock, t + 1)
            shots[label + " at once"] = frame(badge)
            t += settle_s
            await sleep_until(badge.clock, t)
            shots[label] = frame(badge)
            shots[label + " error"] = reported(badge).get("error")

    return run_with(make_badge, steps, 6 + settle_s * len(bads) + 1)


def test_bad_photos_are_refused_and_the_last_good_one_stays(make_badge):
    bads = bad_photos()
    good = encode_photo(image_to_bits(sample_picture()))
    badge, shots = refuse_in_turn(make_badge, "photo", good, bads)
    for label, _payload, reason in bads:
        assert shots[label + " at once"] == shots["good"], label
        assert shots[label] == shots["good"], label
        assert reason in shots[label + " error"], (label, shots[label + " error"])
        assert any("refused photo" in line and reason in line for line in badge.console), label
    assert reported(badge)["screen"] == "photo"


def test_bad_names_are_refused_and_the_last_good_one_stays(make_badge):
    bads = [
        ("not UTF-8", b"Ad\xe9", "not valid UTF-8"),
        ("too long", "A" * 22, "at most 21 fit"),
        ("empty", "   ", "name is empty"),
        ("line break", "Ada\nLovelace", "control character"),
    ]
    badge, shots = refuse_in_turn(make_badge, "name", "Ada", bads, settle_s=2)
    for label, _payload, reason in bads:
        assert shots[label] == shots["good"], label
        assert reason in shots[label + " error"], (label, shots[label + " error"])
    assert reported(badge)["name"] == "Ada"


def test_qr_text_that_does_not_fit_is_refused_with_a_notice(make_badge):
    bads = [
        ("too long", "y" * 231, "at most 230 bytes"),
        ("not UTF-8", b"\xff\xfe", "not valid UTF-8"),
    ]
    badge, shots = refuse_in_turn(make_badge, "qr", URL_TEXT, bads)
    assert_golden("qr_refused_notice", shots["too long at once"])
    for label, _payload, reason in bads:
        assert shots[label + " at once"] != shots["good"], "no notice for " + label
        assert shots[label] == shots["good"], label  # the notice is gone, the code stays
        assert reason in shots[label + " error"], (label, shots[label + " error"])
    assert reported(badge)["qr"] == URL_TEXT


def test_good_content_clears_the_reported_error(make_badge):
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "name", b"\xff")
        await sleep_until(badge.clock, 6)
        shots["error"] = reported(badge).get("error")
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 8)

    badge, shots = run_with(make_badge, steps, 9)
    assert "UTF-8" in shots["error"]
    assert "error" not in reported(badge)


def test_content_sent_while_the_badge_is_offline_arrives_when_it_subscribes(make_badge):
    """send publishes retained: a badge that was not subscribed yet gets the name once
    it is; the same content again after a reconnect changes nothing on screen."""
    async def steps(url, badge, shots):
        await deliver(url, THING, "name", "Early Bird")  # before CONNECT and SUBSCRIBE
        await sleep_until(badge.clock, 12)
        shots["first"] = frame(badge)
        badge.press("B")  # on to the photo screen
        await sleep_until(badge.clock, 13)
        shots["moved"] = frame(badge)
        badge.module.drop_connection()  # reconnect: the broker hands the name again
        await sleep_until(badge.clock, 40)
        shots["after"] = frame(badge)

    badge, shots = run_with(make_badge, steps, 41)
    console = "\n".join(badge.console)
    assert "name from badge/badge-1/name shown" in console
    assert "name from badge/badge-1/name unchanged" in console
    assert console.count("cloud: connected as") >= 2
    assert shots["first"] != shots["moved"]
    assert shots["after"] == shots["moved"]


def test_a_message_longer_than_the_badge_takes_is_refused_and_the_badge_goes_on(make_badge):
    # The badge keeps lines up to 2 KB (its UART and line buffers: the largest content,
    # a photo, is 1392 characters); the module may send up to 9 KB.
    async def steps(url, badge, shots):
        await sleep_until(badge.clock, 4)
        await deliver(url, THING, "name", "Ada")
        await sleep_until(badge.clock, 6)
        shots["good"] = frame(badge)
        await deliver(url, THING, "photo", "A" * 3000)
        await sleep_until(badge.clock, 7)
        shots["notice"] = frame(badge)
        await sleep_until(badge.clock, 12)
        shots["after"] = frame(badge)
        await deliver(url, THING, "name", "Grace")
        await sleep_until(badge.clock, 14)

    badge, shots = run_with(make_badge, steps, 15)
    assert any("message refused: line longer than 2048 bytes" in line
               for line in badge.console), "\n".join(badge.console)
    assert shots["notice"] != shots["good"]  # "not shown: message line longer than ..."
    assert shots["after"] == shots["good"]
    assert reported(badge)["name"] == "Grace"
    assert not any("Traceback" in line for line in badge.console)
