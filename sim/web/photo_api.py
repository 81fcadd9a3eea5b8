"""``POST /api/photo/preview`` and ``/api/photo/send``: an uploaded picture as the badge
would show it, and its delivery through the cloud path of ``python -m sim send photo``.

The body is the image file itself (any format Pillow reads). Query: ``fit`` ("fit",
"fill"), ``dither`` ("floyd", "ordered", "none"), ``invert`` ("0", "1"). Limits:
``MAX_UPLOAD_BYTES`` (10 MiB) of file and ``MAX_PIXELS`` (40 million) of picture; over
either the answer is 413. Not an image, or bad options: 400. Both with
``{"error": "..."}``. The conversion runs in a worker thread, so a large picture never
holds up the page's other traffic.
"""

import asyncio
import io

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from sim.content.photo import DITHERS, MODES, ContentError, encode_photo, image_to_bits

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
_READ_CHUNK = 64 * 1024


def _error(status, text):
    return web.json_response({"error": text}, status=status)


class PhotoError(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status
        self.text = text


def options(query):
    """(mode, dither, invert) from the query; PhotoError 400 when one is wrong."""
    mode = query.get("fit", "fit")
    dither = query.get("dither", "floyd")
    invert = query.get("invert", "0")
    if mode not in MODES:
        raise PhotoError(400, "fit must be %s, not %r" % (" or ".join(MODES), mode))
    if dither not in DITHERS:
        raise PhotoError(400, "dither must be one of %s, not %r" % (", ".join(DITHERS), dither))
    if invert not in ("0", "1"):
        raise PhotoError(400, "invert must be 0 or 1, not %r" % invert)
    return mode, dither, invert == "1"


async def read_limited(request, limit=MAX_UPLOAD_BYTES):
    """The request body, or PhotoError 413 as soon as it passes ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise PhotoError(413, "the file is %d bytes; the limit is %d (%d MiB)"
                         % (request.content_length, limit, limit // (1024 * 1024)))
    body = bytearray()
    while True:
        chunk = await request.content.read(_READ_CHUNK)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise PhotoError(413, "the file is over the limit of %d bytes (%d MiB)"
                             % (limit, limit // (1024 * 1024)))


def convert(data, mode, dither, invert):
    """Image file bytes -> (mode "1" 128x64 picture, payload text, (width, height))."""
    if not data:
        raise PhotoError(400, "no file: send the image as the request body")
    try:
        source = Image.open(io.BytesIO(data))
        width, height = source.size
        if width * height > MAX_PIXELS:
            raise PhotoError(413, "the picture is %dx%d pixels; the limit is %d million"
                             % (width, height, MAX_PIXELS // 1_000_000))
        source.load()
        bits = image_to_bits(source, mode=mode, dither=dither, invert=invert)
    except UnidentifiedImageError:
        raise PhotoError(400, "not an image Pillow can read (%d bytes)" % len(data)) from None
    except Image.DecompressionBombError as error:
        raise PhotoError(413, "the picture is too large: %s" % error) from None
    except ContentError as error:
        raise PhotoError(400, str(error)) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise PhotoError(400, "cannot read the image (%s)" % error) from None
    return bits, encode_photo(bits), (width, height)


async def _converted(request):
    mode, dither, invert = options(request.query)
    data = await read_limited(request)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, convert, data, mode, dither, invert)


def routes(send_photo):
    """The two routes; ``send_photo(payload)`` delivers (False: no badge to send to)."""

    async def preview(request):
        try:
            bits, payload, (width, height) = await _converted(request)
        except PhotoError as error:
            return _error(error.status, error.text)
        png = io.BytesIO()
        bits.convert("L").save(png, format="PNG")
        return web.Response(body=png.getvalue(), content_type="image/png", headers={
            "X-Photo-Bytes": str(len(payload)), "X-Photo-Size": "%dx%d" % (width, height)})

    async def send(request):
        try:
            _bits, payload, _size = await _converted(request)
        except PhotoError as error:
            return _error(error.status, error.text)
        if not send_photo(payload):
            return _error(409, "no running badge to send to (a replay, or the run is over)")
        return web.json_response({"bytes": len(payload)})

    return [web.post("/api/photo/preview", preview), web.post("/api/photo/send", send)]
