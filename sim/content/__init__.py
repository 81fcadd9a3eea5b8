"""Cloud-side content for the badge: photos, QR texts and names as MQTT payloads, their
delivery (``deliver``: ``python -m sim send``) and ``startup``: ``run --qr/--photo/--name``
delivered the same way at start-up, on either engine."""

from sim.content.payloads import ContentError, name_payload, photo_payload, qr_image, qr_payload
from sim.content.photo import encode_photo, image_to_bits, preview_png

__all__ = [
    "ContentError",
    "encode_photo",
    "image_to_bits",
    "name_payload",
    "photo_payload",
    "preview_png",
    "qr_image",
    "qr_payload",
]
