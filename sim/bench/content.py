"""Content latency: from the cloud publishing a photo, QR text or name to the last pixel
written to the SSD1306, on the simulator's clock, against the physical floor.

The floor is the message's wire time on the UART at 115200 baud (the module's GET
answer: ``OK `` + payload + CR LF) plus one full frame on I2C at 400 kHz. Everything
else (the MQTT hop, the wait for the EVENT pin's next scan, the GET command and the
topic name in its answer, decoding, drawing) is overhead above it.
"""

import asyncio
import statistics
import tempfile
from pathlib import Path

from sim.core.clock import i2c_wire_time_s, uart_wire_time_s
from sim.content.deliver import deliver
from sim.content.photo import encode_photo, image_to_bits
from sim.content.startup import _subscribed

# One full refresh: column and page windows, then control byte + 1024 data bytes.
FULL_FRAME_S = 2 * i2c_wire_time_s(6) + i2c_wire_time_s(1 + 1024)


def _photo_payload(seed):
    from PIL import Image, ImageDraw

    image = Image.new("L", (256, 128), 40 + seed * 20)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20 + seed * 10, 10, 200, 120), fill=230)
    return encode_photo(image_to_bits(image))


def _payloads(trials):
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger", "Barbara L."]
    for i in range(trials):
        yield "photo", _photo_payload(i % 5)
        yield "qr", "https://example.org/talks/%d" % (40 + i)
        yield "name", names[i % len(names)]


def first_refresh(records, gap_s=0.005):
    """The first burst of display writes in ``records`` (an I2C log): (when it ends,
    its wire time), in s; (None, 0.0) without any. That burst is the change's own
    refresh, not a later redraw for some other reason."""
    end = None
    wire_s = 0.0
    for record in records:
        if record.address != 0x3C:
            continue
        if end is not None and record.time_s - end > gap_s:
            break
        end = record.time_s + i2c_wire_time_s(len(record.data))
        wire_s += i2c_wire_time_s(len(record.data))
    return end, wire_s


def measure(drive, trials=5, settings=None):
    """{kind: [(latency_s, floor_s)]} over ``trials`` deliveries of each kind.

    ``settings``: settings.toml text for the badge (default: the template's)."""
    from sim.engines.cpython.badge import VirtualBadge
    from sim.tools.deploy import write_settings_template

    if settings is None:
        write_settings_template(drive)
    else:
        drive.mkdir(parents=True, exist_ok=True)
        (drive / "settings.toml").write_text(settings)
    badge = VirtualBadge(drive_dir=drive)
    results = {"photo": [], "qr": [], "name": []}

    async def script():
        url = await badge.cloud_ready
        while badge.module is None or not _subscribed(badge.module, 4):
            await asyncio.sleep(0.05)
        await asyncio.sleep(2.0)
        for index, (kind, payload) in enumerate(_payloads(trials)):
            # Spread the sends over the phase of the EVENT pin's scan (0.7 ms steps
            # cover 25 ms in 36 sends, many scan periods) and away from the 10 s
            # sampling.
            await asyncio.sleep(1.3 + 0.0007 * index)
            start = badge.clock.now()
            logged = len(badge.i2c.log)
            await deliver(url, badge.thing, kind, payload)
            await asyncio.sleep(1.0)
            end, _wire_s = first_refresh(list(badge.i2c.log)[logged:])
            if end is None:
                continue
            size = len(payload.encode() if isinstance(payload, str) else payload)
            floor = uart_wire_time_s(3 + size + 2) + FULL_FRAME_S
            results[kind].append((end - start, floor))
        badge.stop()

    badge.on_loop(lambda loop: loop.create_task(script(), name="latency_script"))
    badge.run(600)
    return results


def report(out=print, trials=12, scan_ms=None):
    settings = None if scan_ms is None else "BADGE_EVENT_SCAN_MS = %d\n" % scan_ms
    label = ("default settings" if scan_ms is None
             else "BADGE_EVENT_SCAN_MS = %d" % scan_ms)
    out("content latency (%s):" % label)
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(Path(tmp) / "drive", trials, settings)
    for kind in ("photo", "qr", "name"):
        pairs = results[kind]
        if not pairs:
            out("  %s: no measurement (the badge did not show the content)" % kind)
            continue
        latencies = [p[0] for p in pairs]
        floor = pairs[0][1]
        median = statistics.median(latencies)
        out("  %s: publish to last pixel %.1f ms median, %.1f ms max (%d sends); floor "
            "%.1f ms (UART %.1f ms + full frame %.1f ms): %.2fx median, %.2fx max "
            "(goal <= 1.5x)" % (kind, median * 1e3, max(latencies) * 1e3, len(pairs),
                                floor * 1e3, (floor - FULL_FRAME_S) * 1e3,
                                FULL_FRAME_S * 1e3, median / floor, max(latencies) / floor))
    return 0


if __name__ == "__main__":
    report()
    report(scan_ms=50)
