"""The badge page in Chromium against a live simulator (``python -m sim``): buttons, the
room, photos, faults, time, and bad input. Each test leaves the badge running as it found
it (rate 10x, no fault on)."""

import base64
import io
import json
import queue
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from PIL import Image, ImageDraw

from browser.pagetools import (SCREENS, canvas, diff_count, recorded_frames, region,
                               wait_until)

# One worker for the whole folder under `pytest -n N --dist loadgroup` (one Chromium).
pytestmark = pytest.mark.xdist_group("browser")

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def js(page, expression, *args):
    return page.evaluate(expression, *args)


def clock(page):
    """The page's simulated clock, once its first clock message has come (a page can paint
    its first frame before that)."""
    page.wait_for_function("() => window.badgePage.clock")
    return js(page, "() => ({t: window.badgePage.clock.t, rate: window.badgePage.clock.rate, n: window.badgePage.clockCount})")


def wait_clock_messages(page, count):
    n = clock(page)["n"]
    page.wait_for_function("n => window.badgePage.clockCount >= n", arg=n + count)
    return clock(page)


def settled_clock(page, tries=10):
    """The clock once two clock messages in a row agree: a pause (or a step) takes effect
    when the simulation's step under way has finished, which may still move the clock by
    the wire time of a bus transfer it was in."""
    last = wait_clock_messages(page, 1)
    for _ in range(tries):
        now = wait_clock_messages(page, 1)
        if now["t"] == last["t"]:
            return now
        last = now
    raise AssertionError("the clock did not come to rest: %r" % last)


def reported_screen(page):
    return js(page, "() => window.badgePage.shadow?.reported?.screen ?? null")


def wait_screen(page, name):
    """Wait for the device shadow to report ``name``; on a timeout, say what it reports."""
    try:
        page.wait_for_function(
            "name => window.badgePage.shadow?.reported?.screen === name", arg=name)
    except Exception:
        raise AssertionError("the shadow never reported screen %r; the page has %s at %s s; "
                             "notices %s" % (name, js(page, "() => window.badgePage.shadow"),
                                             js(page, "() => window.badgePage.clock?.t"),
                                             js(page, "() => window.badgePage.notices"))) from None


def awake(page):
    """Make the next press act. A press on a dimmed panel only wakes it (firmware/app.py;
    the badge dims after 300 idle simulated seconds, 30 s at 10x), and a panel lit now
    may dim before the next press lands: press C, which has no action of its own, wait
    until the badge has had it (0.3 simulated s) and the panel is at full contrast. The
    next press then comes well inside the badge's 300 idle seconds."""
    t = clock(page)["t"]
    page.click('.hw[data-button="C"]')
    page.wait_for_function("t => window.badgePage.clock.t > t + 0.3", arg=t)
    page.wait_for_function("() => window.badgePage.lastFrame.contrast === 255")


def show_screen(page, name):
    """Choose a screen from the page (the device shadow's desired state)."""
    page.select_option("#screen-name", name)
    page.click("#screen-send")
    wait_screen(page, name)


def test_button_b_shows_the_next_screen_and_the_canvas_equals_the_simulators_frame(page, live):
    page.wait_for_function("() => window.badgePage.shadow?.reported?.screen")
    before = reported_screen(page)
    before_bits = canvas(page)[0]
    expected = SCREENS[(SCREENS.index(before) + 1) % len(SCREENS)]
    awake(page)
    page.click('.hw[data-button="B"]')
    wait_screen(page, expected)
    # the picture settles on the new screen: read the canvas with the frame it painted
    bits, t, flags, _painted = wait_until(
        lambda: (lambda c: c if diff_count(c[0], before_bits) > 100 else None)(canvas(page)),
        what="the canvas to change screen")
    frames = {frame[0]: frame for frame in recorded_frames(live.recording)}
    assert t in frames, "the painted frame (t=%r) is not one the simulator sent" % t
    _t, rec_flags, _contrast, rec_bits = frames[t]
    assert flags == rec_flags
    assert flags & 1, "display on"
    assert bits == rec_bits, "%d pixels differ" % diff_count(bits, rec_bits)


def test_keys_and_touch_press_the_buttons(live, open_page):
    """A finger on a phone-sized page taps B; the key a goes back."""
    page = open_page(live.url, has_touch=True, is_mobile=True, device_scale_factor=3,
                     viewport={"width": 390, "height": 844})
    page.wait_for_function("() => window.badgePage.shadow?.reported?.screen")
    first = reported_screen(page)
    following = SCREENS[(SCREENS.index(first) + 1) % len(SCREENS)]
    # the OLED fits the phone, every panel pixel a whole number of device pixels (CSS
    # layout keeps sizes in 1/64 px)
    width, ratio = page.evaluate("() => [document.getElementById('oled')"
                                 ".getBoundingClientRect().width, devicePixelRatio]")
    scale = width * ratio / 128
    assert width <= 390 and scale >= 2 and abs(scale - round(scale)) < 0.01, (width, ratio)
    awake(page)
    page.tap('.hw[data-button="B"]')
    wait_screen(page, following)
    awake(page)
    page.keyboard.press("a")
    wait_screen(page, first)


def test_temperature_slider_puts_a_new_reading_in_the_plot_and_at_the_broker(page, live):
    telemetry = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="browser-test")
    client.on_message = lambda _c, _u, message: telemetry.put(json.loads(message.payload))
    client.connect("127.0.0.1", live.broker_port)
    client.subscribe("badge/%s/telemetry" % js(page, "() => window.badgePage.hello.thing"), 1)
    client.loop_start()
    try:
        slider = page.locator("#temperature")
        old = float(slider.input_value())
        box = slider.bounding_box()
        # click three quarters along the track: a temperature far from the old one
        page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
        new = float(slider.input_value())
        assert abs(new - old) > 5, (old, new)
        page.wait_for_function(
            """v => window.badgePage.plotReadings().some(r => Math.abs(r.temperature_c - v) < 0.06)""",
            arg=new)
        # the same value reached the broker in the badge's telemetry ("t": deg C)
        seen = []

        def at_broker():
            while not telemetry.empty():
                seen.append(telemetry.get())
            return any(abs(m["t"] - new) < 0.06 for m in seen)

        wait_until(at_broker, what="a telemetry message with %.1f deg C" % new)
        assert page.locator("#temperature-out").inner_text() == "%.1f" % new
    finally:
        client.loop_stop()
        client.disconnect()


def pattern_png():
    """A picture with plain structure: white left half, a black disc in it, black right."""
    image = Image.new("RGB", (256, 128), "black")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 127, 127), fill="white")
    draw.ellipse((32, 32, 96, 96), fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


DROP = """([b64, name, type]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, {type}));
    const drop = document.getElementById("drop");
    for (const kind of ["dragenter", "dragover", "drop"]) {
        drop.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true, cancelable: true}));
    }
}"""

PREVIEW_BITS = """() => {
    const img = document.getElementById("preview-img");
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) out.push(d[i] > 127 ? 1 : 0);
    return {w: c.width, h: c.height, bits: out};
}"""


def test_dropped_image_shows_its_preview_and_sending_puts_it_on_the_oled(page):
    page.evaluate(DROP, [base64.b64encode(pattern_png()).decode(), "pattern.png", "image/png"])
    page.wait_for_function("""() => { const i = document.getElementById("preview-img");
        return !document.getElementById("preview").hidden && i.complete && i.naturalWidth > 0; }""")
    preview = page.evaluate(PREVIEW_BITS)
    assert (preview["w"], preview["h"]) == (128, 64)
    bits = preview["bits"]
    # "fit": the 2:1 picture fills the 2:1 screen; left half white with a dark disc
    left = region(bits, 0, 0, 64, 64)
    right = region(bits, 64, 0, 64, 64)
    assert sum(right) == 0
    assert 0.5 < sum(left) / len(left) < 0.9
    assert region(bits, 32, 32, 1, 1) == [0] and region(bits, 4, 4, 1, 1) == [1]
    assert "bytes to send" in page.inner_text("#preview-info")
    page.click("#photo-send")
    page.wait_for_function("""() => document.getElementById("photo-status").textContent.startsWith("sent")""")
    wait_until(lambda: canvas(page)[0] == bits, what="the photo on the OLED")
    page.wait_for_function("() => window.badgePage.shadow.reported.screen === 'photo'")


def golden_bits(name):
    image = Image.open(GOLDEN / ("%s.png" % name)).convert("L")
    return [1 if p else 0 for p in image.tobytes()]


def shows_no_sensor(bits, golden):
    """The golden frame's "no sensor" status text (top left) is on the canvas, allowing
    the burn-in care's shift of a pixel either way."""
    want = region(golden, 1, 1, 52, 9)
    return any(region(bits, 1 + dx, 1 + dy, 52, 9) == want
               for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def test_sensor_absent_fault_shows_no_sensor(page):
    show_screen(page, "climate")
    golden = golden_bits("climate_no_sensor")
    assert not shows_no_sensor(canvas(page)[0], golden)
    toggle = page.locator('.fault[data-fault="sensor_absent"] input')
    toggle.check()
    try:
        page.wait_for_function("() => window.badgePage.faults.sensor_absent === true")
        wait_until(lambda: shows_no_sensor(canvas(page)[0], golden),
                   what='"no sensor" on the OLED')
        page.click('[data-tab="console"]')
        page.wait_for_function("""() => [...document.querySelectorAll("#console-log .line")]
            .some(l => l.textContent.includes("no sensor"))""")
    finally:
        toggle.uncheck()
        page.wait_for_function("() => window.badgePage.faults.sensor_absent === false")
    wait_until(lambda: not shows_no_sensor(canvas(page)[0], golden),
               what="the readings back after the fault")


def test_pause_stops_the_clock_and_step_advances_it(page):
    try:
        page.click('#rates [data-rate="paused"]')
        page.wait_for_function("() => window.badgePage.clock.rate === 'paused'")
        paused = settled_clock(page)
        later = wait_clock_messages(page, 3)
        assert later["t"] == paused["t"], "the clock moved while paused"
        assert "paused" in page.inner_text("#clock-rate")
        assert page.locator("#step").is_enabled()
        page.click("#step")
        page.wait_for_function("t => window.badgePage.clock.t > t", arg=paused["t"])
        stepped = settled_clock(page)
        assert stepped["rate"] == "paused"
        again = wait_clock_messages(page, 3)
        assert again["t"] == stepped["t"], "the clock kept going after one step"
        assert page.inner_text("#clock-t").endswith("%06.3f" % (stepped["t"] % 60))
    finally:
        page.click('#rates [data-rate="10"]')
        page.wait_for_function("() => window.badgePage.clock.rate === 10")
    assert not page.locator("#step").is_enabled()


def test_bad_input_gets_a_clear_message_and_the_badge_keeps_running(page, open_page, live):
    start = clock(page)
    # not an image
    page.set_input_files("#photo-file", files=[
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello, not a picture\n"}])
    page.wait_for_function("""() => document.getElementById("photo-status").classList.contains("error")""")
    assert "not an image" in page.inner_text("#photo-status")
    assert page.locator("#photo-send").is_disabled()
    # over the server's limit (10 MiB), made in the page (faster than through Playwright)
    page.evaluate("""size => {
        const input = document.getElementById("photo-file");
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(size)], "huge.png", {type: "image/png"}));
        input.files = dt.files;
        input.dispatchEvent(new Event("change", {bubbles: true}));
    }""", 10 * 1024 * 1024 + 1)
    page.wait_for_function("""() => document.getElementById("photo-status").textContent.includes("too large")""")
    assert "huge.png" in page.inner_text("#photo-status")
    # a QR text that cannot fit the 64-pixel screen
    page.fill("#qr-text", "x" * 3000)
    page.wait_for_function("""() => document.getElementById("qr-status").textContent.startsWith("does not fit")""")
    assert page.locator("#qr-send").is_disabled()
    assert "error" in page.get_attribute("#qr-status", "class")
    page.fill("#qr-text", "https://example.org/talks/42")
    page.wait_for_function("""() => document.getElementById("qr-status").textContent.startsWith("fits")""")
    assert page.locator("#qr-send").is_enabled()
    # a bad command: a red notice naming it
    page.evaluate("() => window.badgePage.send({op: 'press', button: 'Z'})")
    notice = page.locator(".notice.error", has_text="press")
    notice.first.wait_for()
    # a second page: both say so (once the pages of earlier tests are gone)
    page.wait_for_function("() => document.getElementById('pages').hidden")
    other = open_page(live.url)
    for p in (page, other):
        p.wait_for_function("() => !document.getElementById('pages').hidden")
        assert p.inner_text("#pages") == "2 pages are open"
    other.close()
    page.wait_for_function("() => document.getElementById('pages').hidden")
    # the badge kept running: its clock moved on, frames still come, the page is connected
    page.wait_for_function("t => window.badgePage.clock.t > t + 5", arg=start["t"])
    assert js(page, "() => window.badgePage.connected")
    assert live.process.proc.poll() is None
