"""The page's HTTP side: the page and its assets, the photo preview and send, and a
recording played back (record then replay: the same frames)."""

import io
import json
import struct

import aiohttp
from PIL import Image

from sim.content.photo import encode_photo, image_to_bits
from sim.web import photo_api
from sim.web.frames import Frame
from sim.web.record import Recorder, frames_of, load_recording
from sim.web.server import WebServer, page_lines
from web_harness import PageClient, run


def png_bytes(size=(200, 100)):
    image = Image.new("RGB", size, "black")
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def gif_header(width, height):
    """A tiny GIF that says it is ``width`` x ``height``: Pillow reads the size first."""
    return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00,"
            + struct.pack("<HHHH", 0, 0, width, height) + b"\x00\x02\x02\x44\x01\x00;")


async def post(url, body, **query):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, params=query) as response:
            return response.status, dict(response.headers), await response.read()


def test_the_page_and_a_missing_asset(live):
    badge = live()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            async with session.get(badge.url) as response:
                assert response.status == 200
                assert "text/html" in response.headers["Content-Type"]
            async with session.get(badge.url + "static/no-such-file.js") as response:
                assert response.status == 404
            async with session.get(badge.url + "api/recording") as response:
                assert response.status == 404  # live, not a replay

    run(scenario())


def test_photo_preview_is_the_badges_picture(live):
    badge = live()

    async def scenario():
        status, headers, body = await post(badge.url + "api/photo/preview", png_bytes(),
                                           fit="fill", dither="none", invert="1")
        assert status == 200 and headers["Content-Type"] == "image/png"
        preview = Image.open(io.BytesIO(body))
        assert preview.size == (128, 64)
        expected = image_to_bits(Image.open(io.BytesIO(png_bytes())), mode="fill",
                                 dither="none", invert=True)
        assert preview.convert("1").tobytes() == expected.tobytes()
        assert headers["X-Photo-Size"] == "200x100"
        assert int(headers["X-Photo-Bytes"]) == len(encode_photo(expected))

    run(scenario())


def test_bad_uploads_get_400_and_413(live):
    badge = live()

    async def scenario():
        url = badge.url + "api/photo/preview"
        status, _headers, body = await post(url, b"this is not a picture" * 10)
        assert status == 400 and "not an image" in json.loads(body)["error"]
        status, _headers, body = await post(url, b"")
        assert status == 400 and "no file" in json.loads(body)["error"]
        status, _headers, body = await post(url, png_bytes(), dither="sparkle")
        assert status == 400 and "dither" in json.loads(body)["error"]
        oversized = b"\x89PNG" + bytes(photo_api.MAX_UPLOAD_BYTES)
        status, _headers, body = await post(url, oversized)
        assert status == 413 and "limit" in json.loads(body)["error"]
        status, _headers, body = await post(badge.url + "api/photo/send", b"GIF89a nonsense")
        assert status == 400
        for width, height in ((8000, 6000), (60000, 60000)):  # small files, huge pictures
            status, _headers, body = await post(url, gif_header(width, height))
            assert status == 413 and "picture" in json.loads(body)["error"], body
        async with PageClient(badge.url) as page:  # the badge runs on
            t0 = await page.now()
            assert await page.wait_type("clock", where=lambda m: m["t"] > t0)

    run(scenario())


def test_a_photo_sent_from_the_page_reaches_the_badge(live):
    badge = live()

    async def scenario():
        async with PageClient(badge.url) as page:
            online = await page.wait_type("module", where=lambda m: m["state"] == "connected",
                                          until_t=30.0)
            status, _headers, body = await post(badge.url + "api/photo/send", png_bytes())
            assert status == 200
            size = json.loads(body)["bytes"]
            reported = await page.wait_type(
                "shadow", where=lambda m: (m["reported"] or {}).get("photo"),
                until_t=online["t"] + 120)
            assert {"type": "sent", "kind": "photo", "bytes": size} in page.of_type("sent")
            assert len(reported["reported"]["photo"]["crc"]) == 8
            assert any(m["dir"] == "in" and m["topic"] == "badge/badge-1/photo"
                       and m["size"] == size for m in page.of_type("mqtt"))

    run(scenario())


def test_record_then_replay_gives_the_same_frames(live, tmp_path):
    path = tmp_path / "run.jsonl"
    badge = live(recorder=Recorder(path))

    async def scenario():
        async with PageClient(badge.url) as page:
            first = await page.wait(lambda m: isinstance(m, Frame) and any(m.bits),
                                    until_t=10.0, what="a lit frame")
            await page.send(op="press", button="B")
            await page.wait(lambda m: isinstance(m, Frame) and not m.same_picture(first),
                            until_t=first.t + 30, what="the next screen")
            await page.send(op="time", rate="paused")
            await page.wait_type("clock", where=lambda m: m["rate"] == "paused")
            return page.frames(), [m for m in page.messages if isinstance(m, dict)]

    live_frames, live_messages = run(scenario())
    badge.stop()
    text, hello = load_recording(path)
    assert hello["engine"] == "cpython" and hello["mode"] == "live"
    recorded = frames_of(text)
    assert [(f.t, f.bits, f.flags, f.contrast) for f in recorded[:len(live_frames)]] == \
        [(f.t, f.bits, f.flags, f.contrast) for f in live_frames]
    types = {json.loads(line)["type"] for line in text.splitlines()}
    assert {"clock", "at", "console", "module", "climate", "ended", "i2c", "uart"} <= types
    records = [json.loads(line) for line in text.splitlines()]
    display = [r for r in records if r["type"] == "i2c" and r["address"] == 0x3C]
    assert display and all(r["dir"] == "w" and r["acked"] for r in display[:10])
    sent = bytes.fromhex("".join(r["data"] for r in records
                                  if r["type"] == "uart" and r["dir"] == "command"))
    lines = [r["line"] for r in records if r["type"] == "at" and r["dir"] == "command"]
    assert lines and sent.decode().split("\n")[:len(lines)] == lines  # the same bytes
    assert not any(m.get("type") in ("i2c", "uart") for m in live_messages)

    server = WebServer(replay=(text, hello))
    url = server.start()
    try:
        async def replay():
            async with PageClient(url) as page:
                hello = await page.wait_type("hello")
                assert hello["mode"] == "replay" and hello["time_control"] is False
                await page.send(op="press", button="B")
                notice = await page.wait_type("notice", where=lambda m: m["level"] == "error")
                assert "replay" in notice["text"]
            async with aiohttp.ClientSession() as session:
                async with session.get(url + "api/recording") as response:
                    assert response.status == 200
                    return await response.text()

        served = run(replay())
    finally:
        server.stop()
    assert served == page_lines(text) and '"type":"i2c"' not in served
    assert [f.bits for f in frames_of(served)] == [f.bits for f in recorded]
