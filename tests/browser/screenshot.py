"""Regenerate docs/images/badge-page.png, the badge page as docs/browser.md shows it.

    .venv/bin/python tests/browser/screenshot.py [OUT.png]

Runs ``python -m sim`` (a name and a QR code delivered at start-up, the clock at 10x),
opens the page in Debian's Chromium, sends a photo and warms the room from the page,
lets a few readings arrive, shows the climate screen and takes the picture.
"""

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for browser.*

from PIL import Image, ImageDraw  # noqa: E402

from browser.pagetools import ROOT, SimProcess, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "docs" / "images" / "badge-page.png"


def picture():
    """A small drawing to send as the photo: a sun over hills."""
    image = Image.new("L", (256, 128), 20)
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 14, 214, 78), fill=235)
    draw.polygon([(0, 128), (0, 90), (60, 60), (120, 95), (190, 70), (256, 100), (256, 128)],
                 fill=130)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def main(out=OUT):
    from playwright.sync_api import sync_playwright

    sim = SimProcess(["--no-browser", "--port", "0", "--listen", "127.0.0.1:%d" % free_port(),
                      "--rate", "10", "--temperature", "21.5", "--humidity", "40",
                      "--name", "Ada Lovelace", "--qr", "https://example.org/talks/42"])
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 960})
            page.set_default_timeout(60_000)
            page.goto(sim.url)
            page.wait_for_function("() => window.badgePage.module === 'connected'")
            page.set_input_files("#photo-file", files=[
                {"name": "hills.png", "mimeType": "image/png", "buffer": picture()}])
            page.wait_for_function("() => !document.getElementById('photo-send').disabled")
            page.click("#photo-send")
            page.wait_for_function("() => window.badgePage.shadow?.reported?.screen === 'photo'")
            page.fill("#qr-text", "https://example.org/talks/42")
            page.fill("#name-text", "Ada Lovelace")
            page.wait_for_function("() => document.getElementById('qr-status').textContent.startsWith('fits')")
            readings = page.evaluate("() => window.badgePage.plotReadings().length")
            page.evaluate("""() => { const s = document.getElementById('temperature');
                s.value = '24.5'; s.dispatchEvent(new Event('change')); }""")
            page.wait_for_function("n => window.badgePage.plotReadings().length >= n + 4",
                                   arg=readings)
            page.select_option("#screen-name", "climate")
            page.click("#screen-send")
            page.wait_for_function("() => window.badgePage.shadow?.reported?.screen === 'climate'")
            page.click('#rates [data-rate="paused"]')
            page.wait_for_function("() => window.badgePage.clock.rate === 'paused'")
            page.evaluate("() => window.scrollTo(0, 0)")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        sim.stop()
    print("wrote %s" % out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
